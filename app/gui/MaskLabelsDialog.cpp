#include "gui/MaskLabelsDialog.h"

#include <QButtonGroup>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

#include "common/Error.h"
#include "labels/LabelSources.h"

namespace nephro::gui {

LabelTable labelTableForOpenedMask(const std::string& maskPath, const MaskLabelChoice& choice) {
  if (!choice.missing.empty()) throw usageError(maskPath + ": label values: no " + choice.missing + " given");
  if (choice.isDefault()) return labelTableForMask(maskPath).value_or(LabelTable{});
  return *labelTableForMask(maskPath, choice.labels, choice.labelTable);
}

MaskLabelsDialog::MaskLabelsDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Label values"));
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("What do the mask's values mean?"), this));
  group_ = new QButtonGroup(this);
  const std::pair<Source, QString> sources[] = {
      {Source::CaseSchema, tr("Case schema (default; a label table beside the mask wins)")},
      {Source::Pairs, tr("Value=name list, e.g. 1=artery,2=vein")},
      {Source::TotalSegmentator, tr("TotalSegmentator (v2 class numbers)")},
      {Source::NnunetDataset, tr("nnU-Net dataset.json")},
      {Source::TableFile, tr("Label table file (Nephro3D JSON, Slicer colour table, ITK-SNAP)")}};
  for (const auto& [source, label] : sources) {
    auto* button = new QRadioButton(label, this);
    group_->addButton(button, int(source));
    layout->addWidget(button);
  }
  group_->button(int(Source::CaseSchema))->setChecked(true);
  auto* row = new QHBoxLayout;
  text_ = new QLineEdit(this);
  text_->setObjectName("maskLabelsText");
  browse_ = new QPushButton(tr("Browse…"), this);
  row->addWidget(text_, 1);
  row->addWidget(browse_);
  layout->addLayout(row);
  connect(group_, &QButtonGroup::idToggled, this, [this] { updateText(); });
  connect(browse_, &QPushButton::clicked, this, [this] {
    const bool dataset = source() == Source::NnunetDataset;
    const QString f = QFileDialog::getOpenFileName(
        this, dataset ? tr("nnU-Net dataset.json") : tr("Label table file"), QString(),
        dataset ? tr("dataset.json (*.json)") : tr("Label tables (*.json *.txt *.ctbl *.label);;All files (*)"));
    if (!f.isEmpty()) text_->setText(f);
  });
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
  updateText();
}

void MaskLabelsDialog::setSource(Source source) { group_->button(int(source))->setChecked(true); }

MaskLabelsDialog::Source MaskLabelsDialog::source() const { return Source(group_->checkedId()); }

void MaskLabelsDialog::setText(const QString& text) { text_->setText(text); }

QString MaskLabelsDialog::text() const { return text_->text(); }

void MaskLabelsDialog::updateText() {
  const Source s = source();
  text_->setEnabled(s == Source::Pairs || s == Source::NnunetDataset || s == Source::TableFile);
  browse_->setEnabled(s == Source::NnunetDataset || s == Source::TableFile);
  text_->setPlaceholderText(s == Source::Pairs ? tr("1=artery,2=vein") : s == Source::NnunetDataset ? tr("path/dataset.json")
                                               : s == Source::TableFile                      ? tr("path of the label table")
                                                                                             : QString());
}

MaskLabelChoice MaskLabelsDialog::choice() const {
  const std::string t = text_->text().trimmed().toStdString();
  switch (source()) {
    case Source::CaseSchema: return {};
    // Empty text is refused when the mask is read (in the error banner).
    case Source::Pairs: return t.empty() ? MaskLabelChoice{{}, {}, "value=name list"} : MaskLabelChoice{t, {}, {}};
    case Source::TotalSegmentator: return {"totalseg", {}, {}};
    case Source::NnunetDataset: return t.empty() ? MaskLabelChoice{{}, {}, "dataset.json"} : MaskLabelChoice{{}, t, {}};
    case Source::TableFile: return t.empty() ? MaskLabelChoice{{}, {}, "label table file"} : MaskLabelChoice{{}, t, {}};
  }
  return {};
}

}  // namespace nephro::gui
