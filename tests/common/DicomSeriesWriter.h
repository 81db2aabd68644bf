#pragma once
// Writes an int16 CT volume as a DICOM CT series (one file per slice) with
// DCMTK, so tests can start from a DICOM study. Needs DCMTK (dcmdata).
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "image/Volume.h"

namespace nephro::test {

struct WrittenDicomSeries {
  std::string studyUid, seriesUid, frameOfReferenceUid;
  std::vector<std::string> instanceUids;  // index = slice k
};

inline WrittenDicomSeries writeDicomSeries(const Volume& ct, const std::string& dir,
                                           const std::string& patientId) {
  const Geometry& g = ct.geometry();
  WrittenDicomSeries w;
  char uid[100];
  w.studyUid = dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT);
  w.seriesUid = dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);
  w.frameOfReferenceUid = dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.10g", v);
    return std::string(b);
  };
  const Mat3& d = g.direction;
  const std::string iop = num(d[0]) + "\\" + num(d[3]) + "\\" + num(d[6]) + "\\" + num(d[1]) +
                          "\\" + num(d[4]) + "\\" + num(d[7]);
  for (int64_t k = 0; k < g.size[2]; ++k) {
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    const std::string instance = dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    w.instanceUids.push_back(instance);
    const Vec3 p = g.indexToPhysical({0, 0, static_cast<double>(k)});
    ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, instance.c_str());
    ds->putAndInsertString(DCM_StudyInstanceUID, w.studyUid.c_str());
    ds->putAndInsertString(DCM_SeriesInstanceUID, w.seriesUid.c_str());
    ds->putAndInsertString(DCM_FrameOfReferenceUID, w.frameOfReferenceUid.c_str());
    ds->putAndInsertString(DCM_PatientName, "Phantom^Kidney");
    ds->putAndInsertString(DCM_PatientID, patientId.c_str());
    ds->putAndInsertString(DCM_Modality, "CT");
    ds->putAndInsertString(DCM_StudyDate, "20250101");
    ds->putAndInsertString(DCM_SeriesNumber, "1");
    ds->putAndInsertString(DCM_InstanceNumber, std::to_string(k + 1).c_str());
    ds->putAndInsertString(DCM_ImagePositionPatient,
                           (num(p[0]) + "\\" + num(p[1]) + "\\" + num(p[2])).c_str());
    ds->putAndInsertString(DCM_ImageOrientationPatient, iop.c_str());
    ds->putAndInsertString(DCM_PixelSpacing,
                           (num(g.spacing[1]) + "\\" + num(g.spacing[0])).c_str());
    ds->putAndInsertString(DCM_SliceThickness, num(g.spacing[2]).c_str());
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertString(DCM_RescaleIntercept, "0");
    ds->putAndInsertString(DCM_RescaleSlope, "1");
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(g.size[1]));
    ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(g.size[0]));
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 16);
    ds->putAndInsertUint16(DCM_HighBit, 15);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 1);
    const int16_t* slice = ct.data<int16_t>() + g.offset(0, 0, k);
    ds->putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<const Uint16*>(slice),
                                static_cast<unsigned long>(g.size[0] * g.size[1]));
    const std::string path = dir + "/ct" + std::to_string(1000 + k) + ".dcm";
    if (file.saveFile(path.c_str(), EXS_LittleEndianExplicit).bad())
      throw std::runtime_error("cannot write " + path);
  }
  return w;
}

}  // namespace nephro::test
