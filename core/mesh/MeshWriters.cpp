// Mesh files: OBJ+MTL and glTF binary are written here (VTK 9.1 writes neither
// with names and colours without its rendering modules); STL, PLY and VTP go
// through VTK's writers.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <vtkAppendPolyData.h>
#include <vtkCellArray.h>
#include <vtkCellArrayIterator.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkIntArray.h>
#include <vtkNew.h>
#include <vtkPLYWriter.h>
#include <vtkPointData.h>
#include <vtkSTLWriter.h>
#include <vtkStringArray.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLPolyDataWriter.h>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "mesh/LabelMesher.h"

namespace fs = std::filesystem;

namespace nephro {

const char* extension(MeshFormat format) {
  switch (format) {
    case MeshFormat::Obj: return "obj";
    case MeshFormat::Stl: return "stl";
    case MeshFormat::Ply: return "ply";
    case MeshFormat::Vtp: return "vtp";
    case MeshFormat::Glb: return "glb";
  }
  return "obj";
}

std::vector<MeshFormat> parseMeshFormats(const std::string& commaList) {
  std::vector<MeshFormat> formats;
  std::stringstream s(commaList);
  std::string item;
  while (std::getline(s, item, ',')) {
    std::string t;
    for (char c : item)
      if (!std::isspace(static_cast<unsigned char>(c))) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t.empty()) continue;
    MeshFormat f;
    if (t == "obj") f = MeshFormat::Obj;
    else if (t == "stl") f = MeshFormat::Stl;
    else if (t == "ply") f = MeshFormat::Ply;
    else if (t == "vtp") f = MeshFormat::Vtp;
    else if (t == "glb") f = MeshFormat::Glb;
    else throw usageError("mesh format '" + item + "' is not one of obj, stl, ply, vtp, glb");
    if (std::find(formats.begin(), formats.end(), f) == formats.end()) formats.push_back(f);
  }
  if (formats.empty()) throw usageError("no mesh format given");
  return formats;
}

std::string meshFileBaseName(const LabelMesh& mesh) {
  std::string out;
  for (char c : mesh.name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    out += ok ? c : '_';
  }
  // No hidden files and no "." / "..".
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  if (out.empty()) out = "label_" + std::to_string(mesh.value);
  return out;
}

namespace {

// One part of a file: a label's surface with its name and colour.
struct Part {
  const LabelMesh* mesh;
  std::string name;  // unique within the file set, safe for file and material names
};

vtkDataArray* normalsOf(vtkPolyData* pd) {
  vtkDataArray* n = pd->GetPointData()->GetNormals();
  if (!n) n = pd->GetPointData()->GetArray("Normals");
  return n && n->GetNumberOfComponents() == 3 ? n : nullptr;
}

std::string spaceComment(CoordinateSpace space) {
  return std::string("SPACE=") + toString(space) + " (patient coordinates in millimetres)";
}

void checkStream(std::ofstream& out, const std::string& finalPath) {
  out.flush();
  if (!out) throw outputError(finalPath, "write failed (disk full?)");
}

// Appends "%.5f"-style text quickly.
void appendNumber(std::string& s, double x) {
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%.5f", x);
  // Trim trailing zeros to keep files small; the value is unchanged.
  int end = n;
  while (end > 1 && buf[end - 1] == '0') --end;
  if (end > 1 && buf[end - 1] == '.') --end;
  s.append(buf, static_cast<size_t>(end));
}

void writeObj(const std::vector<Part>& parts, const std::string& temp, const std::string& finalPath,
              const std::string& mtlFileName, const std::string& mtlTemp, const std::string& mtlFinal) {
  const CoordinateSpace space = parts.front().mesh->space;
  {
    std::ofstream mtl(mtlTemp, std::ios::binary | std::ios::trunc);
    if (!mtl) throw outputError(mtlFinal, "cannot open for writing");
    mtl << "# Nephro3D label materials\n# " << spaceComment(space) << "\n";
    for (const Part& p : parts) {
      const Rgb& c = p.mesh->color;
      char line[160];
      std::snprintf(line, sizeof line, "\nnewmtl %s\nKa 0 0 0\nKd %.4f %.4f %.4f\nKs 0 0 0\nd 1\nillum 1\n",
                    p.name.c_str(), c.r / 255.0, c.g / 255.0, c.b / 255.0);
      mtl << line;
    }
    checkStream(mtl, mtlFinal);
  }
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (!out) throw outputError(finalPath, "cannot open for writing");
  out << "# Nephro3D surface mesh\n# " << spaceComment(space) << "\nmtllib " << mtlFileName << "\n";
  vtkIdType base = 1;  // OBJ indices are 1-based and global to the file
  std::string buf;
  for (const Part& p : parts) {
    vtkPolyData* pd = p.mesh->surface;
    vtkDataArray* normals = normalsOf(pd);
    buf.clear();
    buf += "\no " + p.name + "\ng " + p.name + "\nusemtl " + p.name + "\n";
    double x[3];
    for (vtkIdType i = 0; i < pd->GetNumberOfPoints(); ++i) {
      pd->GetPoint(i, x);
      buf += "v ";
      appendNumber(buf, x[0]);
      buf += ' ';
      appendNumber(buf, x[1]);
      buf += ' ';
      appendNumber(buf, x[2]);
      buf += '\n';
    }
    if (normals)
      for (vtkIdType i = 0; i < pd->GetNumberOfPoints(); ++i) {
        normals->GetTuple(i, x);
        buf += "vn ";
        appendNumber(buf, x[0]);
        buf += ' ';
        appendNumber(buf, x[1]);
        buf += ' ';
        appendNumber(buf, x[2]);
        buf += '\n';
      }
    out << buf;
    buf.clear();
    vtkCellArray* polys = pd->GetPolys();
    vtkIdType npts;
    const vtkIdType* ids;
    // Iterators, not InitTraversal: another thread (a viewer) may traverse the same mesh.
    auto cell = vtk::TakeSmartPointer(polys->NewIterator());
    for (cell->GoToFirstCell(); !cell->IsDoneWithTraversal(); cell->GoToNextCell()) {
      cell->GetCurrentCell(npts, ids);
      buf += 'f';
      for (vtkIdType q = 0; q < npts; ++q) {
        const std::string idx = std::to_string(ids[q] + base);
        buf += ' ';
        buf += idx;
        if (normals) {
          buf += "//";
          buf += idx;
        }
      }
      buf += '\n';
      if (buf.size() > (1u << 20)) {
        out << buf;
        buf.clear();
      }
    }
    out << buf;
    base += pd->GetNumberOfPoints();
  }
  checkStream(out, finalPath);
}

// All parts in one polydata, with the label value of every cell (and, for
// PLY, the colour of every point).
vtkSmartPointer<vtkPolyData> combine(const std::vector<Part>& parts, bool withColours) {
  vtkNew<vtkAppendPolyData> append;
  for (const Part& p : parts) {
    auto copy = vtkSmartPointer<vtkPolyData>::New();
    copy->ShallowCopy(p.mesh->surface);
    vtkNew<vtkIntArray> label;
    label->SetName("LabelValue");
    label->SetNumberOfTuples(copy->GetNumberOfCells());
    label->FillValue(p.mesh->value);
    copy->GetCellData()->AddArray(label);
    if (withColours) {
      vtkNew<vtkUnsignedCharArray> rgb;
      rgb->SetName("RGB");
      rgb->SetNumberOfComponents(3);
      rgb->SetNumberOfTuples(copy->GetNumberOfPoints());
      for (vtkIdType i = 0; i < copy->GetNumberOfPoints(); ++i) {
        rgb->SetTypedComponent(i, 0, p.mesh->color.r);
        rgb->SetTypedComponent(i, 1, p.mesh->color.g);
        rgb->SetTypedComponent(i, 2, p.mesh->color.b);
      }
      copy->GetPointData()->AddArray(rgb);
    }
    append->AddInputData(copy);
  }
  append->Update();
  vtkSmartPointer<vtkPolyData> out = append->GetOutput();
  return out;
}

void writeStl(const std::vector<Part>& parts, const std::string& temp, const std::string& finalPath) {
  vtkSmartPointer<vtkPolyData> pd = parts.size() == 1 ? vtkSmartPointer<vtkPolyData>(parts.front().mesh->surface)
                                                      : combine(parts, false);
  vtkNew<vtkSTLWriter> w;
  w->SetInputData(pd);
  w->SetFileName(temp.c_str());
  w->SetFileTypeToBinary();
  // The 80-byte binary header must not start with "solid" (ASCII STL's keyword).
  std::string header = std::string("Nephro3D SPACE=") + toString(parts.front().mesh->space) + " mm " +
                       (parts.size() == 1 ? parts.front().name : std::string("merged"));
  header.resize(std::min<size_t>(header.size(), 79));
  w->SetHeader(header.c_str());
  if (w->Write() != 1 || w->GetErrorCode() != 0) throw outputError(finalPath, "cannot write STL");
}

void writePly(const std::vector<Part>& parts, const std::string& temp, const std::string& finalPath) {
  vtkNew<vtkPLYWriter> w;
  w->SetFileName(temp.c_str());
  w->SetFileTypeToBinary();
  w->AddComment("Nephro3D surface mesh");
  w->AddComment(spaceComment(parts.front().mesh->space));
  for (const Part& p : parts) {
    const Rgb& c = p.mesh->color;
    w->AddComment("label " + std::to_string(p.mesh->value) + " " + p.name + " rgb " + std::to_string(c.r) + " " +
                  std::to_string(c.g) + " " + std::to_string(c.b));
  }
  if (parts.size() == 1) {
    w->SetInputData(parts.front().mesh->surface);
    w->SetColorModeToUniformPointColor();
    const Rgb& c = parts.front().mesh->color;
    w->SetColor(c.r, c.g, c.b);
  } else {
    vtkSmartPointer<vtkPolyData> pd = combine(parts, true);
    pd->GetCellData()->RemoveArray("LabelValue");
    w->SetInputData(pd);
    w->SetArrayName("RGB");
    w->SetColorModeToDefault();
  }
  if (w->Write() != 1 || w->GetErrorCode() != 0) throw outputError(finalPath, "cannot write PLY");
}

void writeVtp(const std::vector<Part>& parts, const std::string& temp, const std::string& finalPath) {
  vtkSmartPointer<vtkPolyData> pd = combine(parts, false);
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->ShallowCopy(pd);
  vtkNew<vtkStringArray> space;
  space->SetName("Space");
  space->InsertNextValue(toString(parts.front().mesh->space));
  vtkNew<vtkIntArray> values;
  values->SetName("LabelValues");
  vtkNew<vtkStringArray> names;
  names->SetName("LabelNames");
  vtkNew<vtkUnsignedCharArray> colours;
  colours->SetName("LabelColors");
  colours->SetNumberOfComponents(3);
  for (const Part& p : parts) {
    values->InsertNextValue(p.mesh->value);
    names->InsertNextValue(p.mesh->name);
    const unsigned char rgb[3] = {p.mesh->color.r, p.mesh->color.g, p.mesh->color.b};
    colours->InsertNextTypedTuple(rgb);
  }
  vtkNew<vtkFieldData> field;
  field->AddArray(space);
  field->AddArray(values);
  field->AddArray(names);
  field->AddArray(colours);
  out->SetFieldData(field);
  vtkNew<vtkXMLPolyDataWriter> w;
  w->SetInputData(out);
  w->SetFileName(temp.c_str());
  w->SetDataModeToAppended();
  w->SetCompressorTypeToZLib();
  if (w->Write() != 1 || w->GetErrorCode() != 0) throw outputError(finalPath, "cannot write VTP");
}

// glTF wants linear colour factors; the label table holds sRGB.
double srgbToLinear(uint8_t c) {
  const double s = c / 255.0;
  return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
}

void appendBytes(std::string& bin, const void* data, size_t n) { bin.append(static_cast<const char*>(data), n); }
void padTo4(std::string& s, char fill) {
  while (s.size() % 4) s.push_back(fill);
}

void writeGlb(const std::vector<Part>& parts, const std::string& temp, const std::string& finalPath) {
  using nlohmann::json;
  json doc;
  doc["asset"] = {{"version", "2.0"},
                  {"generator", "Nephro3D"},
                  {"extras", {{"space", toString(parts.front().mesh->space)}, {"units", "mm"}}}};
  // Vertices stay in patient millimetres (LPS or RAS, as the mesh says); a
  // root node maps them to glTF's metres with +Y up (superior) and +Z forward
  // (anterior), so web viewers show the patient upright and at true size.
  const double s = 0.001;
  const bool ras = parts.front().mesh->space == CoordinateSpace::RAS;
  const json toGltf = ras ? json::array({-s, 0, 0, 0, 0, 0, s, 0, 0, s, 0, 0, 0, 0, 0, 1})
                          : json::array({s, 0, 0, 0, 0, 0, -s, 0, 0, s, 0, 0, 0, 0, 0, 1});
  json nodes = json::array(), meshes = json::array(), materials = json::array(), views = json::array(),
       accessors = json::array();
  std::string bin;
  auto addView = [&](const std::string& bytes, int target) {
    padTo4(bin, '\0');
    views.push_back({{"buffer", 0}, {"byteOffset", bin.size()}, {"byteLength", bytes.size()}, {"target", target}});
    bin += bytes;
    return static_cast<int>(views.size() - 1);
  };
  for (const Part& p : parts) {
    vtkPolyData* pd = p.mesh->surface;
    const vtkIdType np = pd->GetNumberOfPoints();
    std::string positions, normalBytes, indices;
    positions.reserve(static_cast<size_t>(np) * 12);
    double lo[3] = {HUGE_VAL, HUGE_VAL, HUGE_VAL}, hi[3] = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    double x[3];
    for (vtkIdType i = 0; i < np; ++i) {
      pd->GetPoint(i, x);
      const float f[3] = {float(x[0]), float(x[1]), float(x[2])};
      for (int d = 0; d < 3; ++d) {
        lo[d] = std::min(lo[d], double(f[d]));
        hi[d] = std::max(hi[d], double(f[d]));
      }
      appendBytes(positions, f, sizeof f);
    }
    vtkDataArray* normals = normalsOf(pd);
    if (normals)
      for (vtkIdType i = 0; i < np; ++i) {
        normals->GetTuple(i, x);
        const double len = std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
        const float f[3] = {float(len > 0 ? x[0] / len : 0), float(len > 0 ? x[1] / len : 0),
                            float(len > 0 ? x[2] / len : 1)};
        appendBytes(normalBytes, f, sizeof f);
      }
    vtkCellArray* polys = pd->GetPolys();
    vtkIdType npts;
    const vtkIdType* ids;
    size_t indexCount = 0;
    auto cell = vtk::TakeSmartPointer(polys->NewIterator());
    for (cell->GoToFirstCell(); !cell->IsDoneWithTraversal(); cell->GoToNextCell()) {
      cell->GetCurrentCell(npts, ids);
      // Triangles only; fan anything larger.
      for (vtkIdType q = 1; q + 1 < npts; ++q) {
        const uint32_t tri[3] = {uint32_t(ids[0]), uint32_t(ids[q]), uint32_t(ids[q + 1])};
        appendBytes(indices, tri, sizeof tri);
        indexCount += 3;
      }
    }
    json attributes;
    const int posView = addView(positions, 34962);
    accessors.push_back({{"bufferView", posView}, {"componentType", 5126}, {"count", np}, {"type", "VEC3"},
                         {"min", {lo[0], lo[1], lo[2]}}, {"max", {hi[0], hi[1], hi[2]}}});
    attributes["POSITION"] = accessors.size() - 1;
    if (normals) {
      const int nView = addView(normalBytes, 34962);
      accessors.push_back({{"bufferView", nView}, {"componentType", 5126}, {"count", np}, {"type", "VEC3"}});
      attributes["NORMAL"] = accessors.size() - 1;
    }
    const int iView = addView(indices, 34963);
    accessors.push_back({{"bufferView", iView}, {"componentType", 5125}, {"count", indexCount}, {"type", "SCALAR"}});
    const size_t indexAccessor = accessors.size() - 1;
    const Rgb& c = p.mesh->color;
    materials.push_back({{"name", p.name},
                         {"pbrMetallicRoughness",
                          {{"baseColorFactor", {srgbToLinear(c.r), srgbToLinear(c.g), srgbToLinear(c.b), 1.0}},
                           {"metallicFactor", 0.0},
                           {"roughnessFactor", 0.7}}}});
    meshes.push_back({{"name", p.name},
                      {"primitives",
                       {{{"attributes", attributes}, {"indices", indexAccessor}, {"material", materials.size() - 1}, {"mode", 4}}}}});
    nodes.push_back({{"name", p.name}, {"mesh", meshes.size() - 1}, {"extras", {{"labelValue", p.mesh->value}}}});
  }
  padTo4(bin, '\0');
  json children = json::array();
  for (size_t i = 0; i < nodes.size(); ++i) children.push_back(i);
  nodes.push_back({{"name", "patient"}, {"matrix", toGltf}, {"children", children}});
  doc["scene"] = 0;
  doc["scenes"] = {{{"nodes", {nodes.size() - 1}}}};
  doc["nodes"] = nodes;
  doc["meshes"] = meshes;
  doc["materials"] = materials;
  doc["accessors"] = accessors;
  doc["bufferViews"] = views;
  doc["buffers"] = {{{"byteLength", bin.size()}}};
  std::string text = doc.dump();
  padTo4(text, ' ');

  std::string file;
  auto u32 = [&](uint32_t v) { appendBytes(file, &v, 4); };  // glTF is little-endian, as is every target
  u32(0x46546C67u);  // "glTF"
  u32(2);
  u32(static_cast<uint32_t>(12 + 8 + text.size() + 8 + bin.size()));
  u32(static_cast<uint32_t>(text.size()));
  u32(0x4E4F534Au);  // "JSON"
  file += text;
  u32(static_cast<uint32_t>(bin.size()));
  u32(0x004E4942u);  // "BIN\0"
  file += bin;
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (!out) throw outputError(finalPath, "cannot open for writing");
  out.write(file.data(), static_cast<std::streamsize>(file.size()));
  checkStream(out, finalPath);
}

void writeSet(const std::vector<Part>& parts, const std::string& folder, const std::string& base,
              const std::vector<MeshFormat>& formats, OutputTransaction& tx, std::vector<std::string>& written) {
  for (MeshFormat f : formats) {
    const std::string finalPath = (fs::path(folder) / (base + "." + extension(f))).string();
    const std::string temp = tx.stage(finalPath);
    written.push_back(finalPath);
    switch (f) {
      case MeshFormat::Obj: {
        const std::string mtlName = base + ".mtl";
        const std::string mtlFinal = (fs::path(folder) / mtlName).string();
        const std::string mtlTemp = tx.stage(mtlFinal);
        written.push_back(mtlFinal);
        writeObj(parts, temp, finalPath, mtlName, mtlTemp, mtlFinal);
        break;
      }
      case MeshFormat::Stl: writeStl(parts, temp, finalPath); break;
      case MeshFormat::Ply: writePly(parts, temp, finalPath); break;
      case MeshFormat::Vtp: writeVtp(parts, temp, finalPath); break;
      case MeshFormat::Glb: writeGlb(parts, temp, finalPath); break;
    }
  }
}

}  // namespace

std::vector<std::string> writeMeshes(const std::vector<LabelMesh>& meshes, const std::string& folder,
                                     const MeshWriteOptions& options, const Progress& progress) {
  if (options.formats.empty()) throw usageError("no mesh format given");
  std::vector<Part> parts;
  std::set<std::string> used;
  for (const LabelMesh& m : meshes) {
    if (!m.surface || m.surface->GetNumberOfCells() == 0) continue;  // nothing of the label survived
    if (m.space != meshes.front().space)
      throw Error(ErrorKind::Internal, "meshes in different coordinate spaces cannot be written together");
    std::string name = meshFileBaseName(m);
    if (!used.insert(name).second) {
      name += "_" + std::to_string(m.value);
      used.insert(name);
    }
    parts.push_back({&m, name});
  }
  if (parts.empty()) throw outputError(folder, "no label has a surface to write");

  std::error_code ec;
  if (fs::exists(folder, ec) && !fs::is_directory(folder, ec)) throw outputError(folder, "is a file, expected a folder");

  OutputTransaction tx;
  std::vector<std::string> written;
  if (options.merged) {
    progress.report(0.0, "Writing meshes");
    writeSet(parts, folder, options.mergedName.empty() ? "labels" : options.mergedName, options.formats, tx, written);
  } else {
    for (size_t n = 0; n < parts.size(); ++n) {
      progress.throwIfCancelled();
      progress.report(double(n) / double(parts.size()), "Writing meshes");
      writeSet({parts[n]}, folder, parts[n].name, options.formats, tx, written);
    }
  }
  progress.throwIfCancelled();
  tx.commit();
  progress.report(1.0, "Writing meshes");
  return written;
}

}  // namespace nephro
