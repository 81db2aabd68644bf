#pragma once
// What the values of masks opened with File ▸ Open mask mean: the case schema
// (a sidecar or .seg.nrrd names win), a value=name list, TotalSegmentator's
// class map, an nnU-Net dataset.json or a label table file. The choice is
// given to the engine's LabelSources exactly as --labels / --label-table.
#include <QDialog>
#include <string>

#include "labels/LabelTable.h"

class QButtonGroup;
class QLineEdit;

namespace nephro::gui {

// As the command line takes it: --labels SPEC or --label-table FILE (both empty: the case schema).
struct MaskLabelChoice {
  std::string labels;
  std::string labelTable;
  std::string missing;  // what the user chose but left empty ("a value=name list"), refused on reading
  bool isDefault() const { return labels.empty() && labelTable.empty() && missing.empty(); }
};

// The label table for a mask read from `maskPath` (the engine's rule: the
// choice, else the sidecar, else a .seg.nrrd's segments; empty when none).
// Throws the engine's errors for a bad mapping.
LabelTable labelTableForOpenedMask(const std::string& maskPath, const MaskLabelChoice& choice);

class MaskLabelsDialog : public QDialog {
  Q_OBJECT
 public:
  enum class Source { CaseSchema, Pairs, TotalSegmentator, NnunetDataset, TableFile };
  explicit MaskLabelsDialog(QWidget* parent = nullptr);

  void setSource(Source source);
  Source source() const;
  // The value=name list, or the path of the dataset.json / label table file.
  void setText(const QString& text);
  QString text() const;
  MaskLabelChoice choice() const;

 private:
  void updateText();
  QButtonGroup* group_ = nullptr;
  QLineEdit* text_ = nullptr;
  class QPushButton* browse_ = nullptr;
};

}  // namespace nephro::gui
