#include "widgets/ExportDialog.h"

#include <QComboBox>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <vtkDataArray.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>

#include "widgets/LayerExport.h"

namespace nephro::widgets {
namespace {

const char* kMaskFormats[] = {"nii.gz", "seg.nrrd"};
const char* kMeshFormats[] = {"obj", "stl", "ply", "vtp", "glb"};

QString safe(const QString& name) {
  QString s;
  for (QChar c : name) s += (c.isLetterOrNumber() || c == '_' || c == '-' || c == '.') ? c : QChar('_');
  return s.isEmpty() ? QString("layer") : s;
}

QString sizeText(qint64 bytes) {
  if (bytes >= 1 << 20) return QString("%1 MB").arg(bytes / double(1 << 20), 0, 'f', 1);
  if (bytes >= 1 << 10) return QString("%1 KB").arg(bytes / double(1 << 10), 0, 'f', 0);
  return QString("%1 B").arg(bytes);
}

}  // namespace

LabelMesh meshInSpace(const LabelMesh& mesh, CoordinateSpace space) {
  if (mesh.space == space || !mesh.surface) return mesh;
  LabelMesh out = mesh;
  out.space = space;
  out.surface = vtkSmartPointer<vtkPolyData>::New();
  out.surface->DeepCopy(mesh.surface);
  // LPS <-> RAS: x and y change sign (a rotation: faces keep their orientation).
  vtkPoints* points = out.surface->GetPoints();
  for (vtkIdType i = 0; points && i < points->GetNumberOfPoints(); ++i) {
    double p[3];
    points->GetPoint(i, p);
    points->SetPoint(i, -p[0], -p[1], p[2]);
  }
  if (vtkDataArray* n = out.surface->GetPointData()->GetNormals())
    for (vtkIdType i = 0; i < n->GetNumberOfTuples(); ++i) {
      double v[3];
      n->GetTuple(i, v);
      v[0] = -v[0], v[1] = -v[1];
      n->SetTuple(i, v);
    }
  return out;
}

std::vector<ExportedFile> writeExport(const ExportRequest& r, const Progress& progress) {
  std::vector<std::string> paths;
  const QDir dir(r.folder);
  const double n = std::max<size_t>(1, r.layers.size());
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const ExportLayer& l = r.layers[i];
    const Progress sub = progress.sub(i / n, (i + 1) / n);
    progress.throwIfCancelled();
    const QString base = safe(l.name);
    if (!r.maskFormats.isEmpty()) {
      // Only the chosen labels; the table keeps their entries.
      Volume mask = l.mask.clone();
      LabelTable table;
      std::vector<uint8_t> keep(65536, 0);
      for (int v : l.labels)
        if (v > 0 && v < 65536) {
          keep[size_t(v)] = 1;
          if (const LabelEntry* e = l.table.find(v)) table.set(*e);
        }
      if (mask.is<uint8_t>()) {
        uint8_t* m = mask.data<uint8_t>();
        for (int64_t k = 0; k < mask.voxelCount(); ++k)
          if (!keep[m[k]]) m[k] = 0;
      } else {
        mask = castVolume(mask, PixelType::UInt16);
        uint16_t* m = mask.data<uint16_t>();
        for (int64_t k = 0; k < mask.voxelCount(); ++k)
          if (!keep[m[k]]) m[k] = 0;
      }
      for (const QString& f : r.maskFormats) {
        const QString path = dir.filePath(base + "." + f);
        exportMaskLayer(mask, table, path.toStdString(), sub.sub(0, 0.3));
        paths.push_back(path.toStdString());
        if (f == "nii.gz") paths.push_back(LabelTable::sidecarPath(path.toStdString()));
      }
    }
    if (!r.meshFormats.isEmpty() && !l.meshes.empty()) {
      std::vector<LabelMesh> meshes;
      for (const LabelMesh& m : l.meshes) meshes.push_back(meshInSpace(m, r.space));
      MeshWriteOptions o;
      o.formats = parseMeshFormats(r.meshFormats.join(',').toStdString());
      o.merged = r.merged;
      o.mergedName = base.toStdString();
      for (auto& p : writeMeshes(meshes, dir.filePath(base).toStdString(), o, sub.sub(0.3, 1.0)))
        paths.push_back(std::move(p));
    }
  }
  std::vector<ExportedFile> out;
  for (const auto& p : paths) {
    const QString q = QString::fromStdString(p);
    out.push_back({q, QFileInfo(q).size()});
  }
  progress.report(1.0, "written");
  return out;
}

QString exportSummary(const std::vector<ExportedFile>& files, const QString& folder) {
  qint64 total = 0;
  for (const auto& f : files) total += f.bytes;
  QStringList lines;
  lines << QObject::tr("%1 files, %2 in %3").arg(files.size()).arg(sizeText(total), folder);
  const QDir dir(folder);
  for (const auto& f : files) lines << QString("  %1  %2").arg(dir.relativeFilePath(f.path), sizeText(f.bytes));
  return lines.join('\n');
}

ExportDialog::ExportDialog(const WorkspaceModel* workspace, const QString& folder, QWidget* parent)
    : QDialog(parent), workspace_(workspace) {
  setObjectName("exportDialog");
  setWindowTitle(tr("Export layers"));
  auto* layout = new QVBoxLayout(this);
  tree_ = new QTreeWidget(this);
  tree_->setObjectName("exportLabels");
  tree_->setHeaderLabels({tr("Layer / label"), tr("Volume")});
  tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  tree_->setMinimumSize(360, 240);
  // The visible layers and their visible labels are ticked to start with.
  for (const Layer& l : workspace_->layers()) {
    auto* item = new QTreeWidgetItem(tree_, {l.name, QString()});
    item->setData(0, Qt::UserRole, l.id);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable | Qt::ItemIsAutoTristate);
    for (const LabelEntry& e : l.table.entries()) {
      if (l.voxelCount(e.value) == 0) continue;
      const LabelDisplay* d = workspace_->labelDisplay(l.id, e.value);
      auto* child = new QTreeWidgetItem(item, {QString::fromStdString(e.name),
                                               QString("%1 mL").arg(l.volumeMl(e.value), 0, 'f', 1)});
      child->setData(0, Qt::UserRole, e.value);
      child->setFlags(child->flags() | Qt::ItemIsUserCheckable);
      child->setCheckState(0, l.visible && d && d->visible ? Qt::Checked : Qt::Unchecked);
    }
    if (item->childCount() == 0) item->setCheckState(0, Qt::Unchecked);
    item->setExpanded(workspace_->layers().size() <= 3);
  }
  layout->addWidget(tree_, 1);

  auto* formats = new QGroupBox(tr("Formats"), this);
  auto* fl = new QHBoxLayout(formats);
  auto addFormat = [&](const QString& f, const QString& text, bool on) {
    auto* box = new QCheckBox(text, formats);
    box->setObjectName("exportFormat_" + f);
    box->setChecked(on);
    fl->addWidget(box);
    formats_[f] = box;
  };
  addFormat("nii.gz", tr("Mask NIfTI"), false);
  addFormat("seg.nrrd", tr("Slicer .seg.nrrd"), false);
  for (const char* f : kMeshFormats) addFormat(f, QString(f).toUpper(), QString(f) == "obj");
  layout->addWidget(formats);

  auto* form = new QFormLayout;
  space_ = new QComboBox(this);
  space_->setObjectName("exportSpace");
  space_->addItem(tr("LPS (DICOM, ITK)"), int(CoordinateSpace::LPS));
  space_->addItem(tr("RAS (3D Slicer, NIfTI scanner)"), int(CoordinateSpace::RAS));
  form->addRow(tr("Mesh points"), space_);
  mode_ = new QComboBox(this);
  mode_->setObjectName("exportMode");
  mode_->addItem(tr("One file per label"), false);
  mode_->addItem(tr("One merged file per layer"), true);
  form->addRow(tr("Meshes"), mode_);
  auto* row = new QHBoxLayout;
  folder_ = new QLineEdit(folder, this);
  folder_->setObjectName("exportFolder");
  auto* browse = new QPushButton(tr("Choose…"), this);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getExistingDirectory(this, tr("Export into"), folder_->text());
    if (!f.isEmpty()) folder_->setText(f);
  });
  row->addWidget(folder_, 1);
  row->addWidget(browse);
  form->addRow(tr("Destination"), row);
  layout->addLayout(form);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
}

QTreeWidgetItem* ExportDialog::layerItem(int layerId) const {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i)
    if (tree_->topLevelItem(i)->data(0, Qt::UserRole).toInt() == layerId) return tree_->topLevelItem(i);
  return nullptr;
}

void ExportDialog::setLayerChecked(int layerId, bool checked) {
  if (QTreeWidgetItem* item = layerItem(layerId))
    for (int i = 0; i < item->childCount(); ++i) item->child(i)->setCheckState(0, checked ? Qt::Checked : Qt::Unchecked);
}

void ExportDialog::setLabelChecked(int layerId, int value, bool checked) {
  if (QTreeWidgetItem* item = layerItem(layerId))
    for (int i = 0; i < item->childCount(); ++i)
      if (item->child(i)->data(0, Qt::UserRole).toInt() == value)
        item->child(i)->setCheckState(0, checked ? Qt::Checked : Qt::Unchecked);
}

bool ExportDialog::isLabelChecked(int layerId, int value) const {
  if (QTreeWidgetItem* item = layerItem(layerId))
    for (int i = 0; i < item->childCount(); ++i)
      if (item->child(i)->data(0, Qt::UserRole).toInt() == value) return item->child(i)->checkState(0) == Qt::Checked;
  return false;
}

void ExportDialog::setFormatChecked(const QString& format, bool checked) {
  if (formats_.count(format)) formats_[format]->setChecked(checked);
}

void ExportDialog::setSpace(CoordinateSpace space) {
  space_->setCurrentIndex(space_->findData(int(space)));
}

void ExportDialog::setMerged(bool merged) {
  mode_->setCurrentIndex(merged ? 1 : 0);
}

void ExportDialog::setFolder(const QString& folder) {
  folder_->setText(folder);
}

ExportRequest ExportDialog::request() const {
  ExportRequest r;
  for (const char* f : kMaskFormats)
    if (formats_.at(f)->isChecked()) r.maskFormats << f;
  for (const char* f : kMeshFormats)
    if (formats_.at(f)->isChecked()) r.meshFormats << f;
  r.space = CoordinateSpace(space_->currentData().toInt());
  r.merged = mode_->currentData().toBool();
  r.folder = folder_->text();
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    const QTreeWidgetItem* item = tree_->topLevelItem(i);
    const Layer* l = workspace_->layer(item->data(0, Qt::UserRole).toInt());
    if (!l) continue;
    ExportLayer e;
    e.name = l->name;
    e.mask = l->mask;
    e.table = displayedTable(*l);
    for (int c = 0; c < item->childCount(); ++c)
      if (item->child(c)->checkState(0) == Qt::Checked) {
        const int value = item->child(c)->data(0, Qt::UserRole).toInt();
        e.labels.push_back(value);
        auto it = l->meshes.find(value);
        if (it != l->meshes.end() && it->second.surface) e.meshes.push_back(it->second);
      }
    if (!e.labels.empty()) r.layers.push_back(std::move(e));
  }
  return r;
}

}  // namespace nephro::widgets
