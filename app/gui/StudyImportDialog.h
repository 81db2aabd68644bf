#pragma once
// Confirms what each file of a study is (phase A, P, D, a mask layer, or
// ignored) before anything is read; the guesses come from the file names.
#include <QDialog>
#include <vector>

#include "widgets/StudyFiles.h"

class QTableWidget;

namespace nephro::gui {

class StudyImportDialog : public QDialog {
  Q_OBJECT
 public:
  StudyImportDialog(const std::vector<widgets::StudyFile>& files, QWidget* parent = nullptr);
  std::vector<widgets::StudyFile> files() const;

 private:
  QTableWidget* table_;
  std::vector<widgets::StudyFile> files_;
};

}  // namespace nephro::gui
