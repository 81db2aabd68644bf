#include "gui/StudyImportDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace nephro::gui {

using widgets::FileRole;

StudyImportDialog::StudyImportDialog(const std::vector<widgets::StudyFile>& files, QWidget* parent)
    : QDialog(parent), files_(files) {
  setWindowTitle(tr("Open study"));
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(
      new QLabel(tr("Check what each file is. Phases were guessed from the file names."), this));
  table_ = new QTableWidget(int(files.size()), 2, this);
  table_->setHorizontalHeaderLabels({tr("File"), tr("Use as")});
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  table_->verticalHeader()->hide();
  for (size_t i = 0; i < files.size(); ++i) {
    auto* item = new QTableWidgetItem(QFileInfo(files[i].path).fileName());
    item->setToolTip(files[i].path);
    item->setFlags(Qt::ItemIsEnabled);
    table_->setItem(int(i), 0, item);
    auto* combo = new QComboBox(table_);
    for (FileRole r : {FileRole::Arterial, FileRole::Portal, FileRole::Delayed, FileRole::Mask,
                       FileRole::Ignore})
      combo->addItem(widgets::roleName(r), int(r));
    combo->setCurrentIndex(combo->findData(int(files[i].role)));
    table_->setCellWidget(int(i), 1, combo);
  }
  layout->addWidget(table_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
  resize(640, 120 + 32 * int(std::min<size_t>(files.size(), 10)));
}

std::vector<widgets::StudyFile> StudyImportDialog::files() const {
  std::vector<widgets::StudyFile> out = files_;
  for (size_t i = 0; i < out.size(); ++i)
    if (auto* combo = qobject_cast<QComboBox*>(table_->cellWidget(int(i), 1)))
      out[i].role = FileRole(combo->currentData().toInt());
  return out;
}

}  // namespace nephro::gui
