// Writes the template case of the quick-sample step (resources/templates/):
// the phantom at a fixed seed on a coarse 2 mm grid, reduced to kidneys, renal
// arteries and veins and ureters, the tumour replaced by the kidney it grows
// from (inside an ellipsoid fitted to that kidney's moments), cropped.
//   post_make_template OUT.nii.gz
#include <cmath>
#include <cstdio>

#include "common/Error.h"
#include "image/Crop.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"
#include "phantom/Phantom.h"

using namespace nephro;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: post_make_template OUT.nii.gz\n");
    return 2;
  }
  try {
    PhantomOptions o;
    o.seed = 7;
    o.dimensions = Index3{180, 180, 150};
    o.spacing = Vec3{2.0, 2.0, 2.0};
    PhantomCase pc = generatePhantom(o);
    const Volume& gt = pc.labels;
    const Geometry& g = gt.geometry();
    const uint8_t* in = gt.data<uint8_t>();

    // Ellipsoid of the left kidney from its second moments (a solid ellipsoid
    // has variance a^2/5 along each principal axis).
    double mean[3] = {0, 0, 0}, cov[9] = {0};
    int64_t n = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i)
          if (in[g.offset(i, j, k)] == phantom_label::KidneyLeft) {
            const Vec3 p = g.indexToPhysical({double(i), double(j), double(k)});
            for (int d = 0; d < 3; ++d) mean[d] += p[d];
            ++n;
          }
    for (double& m : mean) m /= n;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i)
          if (in[g.offset(i, j, k)] == phantom_label::KidneyLeft) {
            const Vec3 p = g.indexToPhysical({double(i), double(j), double(k)});
            for (int a = 0; a < 3; ++a)
              for (int b = 0; b < 3; ++b) cov[a * 3 + b] += (p[a] - mean[a]) * (p[b] - mean[b]) / n;
          }
    // Inside test: (p-m)^T (5 C)^-1 (p-m) <= 1.
    double c5[9];
    for (int q = 0; q < 9; ++q) c5[q] = 5.0 * cov[q];
    const double det = c5[0] * (c5[4] * c5[8] - c5[5] * c5[7]) - c5[1] * (c5[3] * c5[8] - c5[5] * c5[6]) +
                       c5[2] * (c5[3] * c5[7] - c5[4] * c5[6]);
    double inv[9] = {(c5[4] * c5[8] - c5[5] * c5[7]) / det, (c5[2] * c5[7] - c5[1] * c5[8]) / det,
                     (c5[1] * c5[5] - c5[2] * c5[4]) / det, (c5[5] * c5[6] - c5[3] * c5[8]) / det,
                     (c5[0] * c5[8] - c5[2] * c5[6]) / det, (c5[2] * c5[3] - c5[0] * c5[5]) / det,
                     (c5[3] * c5[7] - c5[4] * c5[6]) / det, (c5[1] * c5[6] - c5[0] * c5[7]) / det,
                     (c5[0] * c5[4] - c5[1] * c5[3]) / det};

    Volume out = gt.like(PixelType::UInt8);
    uint8_t* o8 = out.data<uint8_t>();
    int64_t filled = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const int64_t off = g.offset(i, j, k);
          const uint8_t v = in[off];
          switch (v) {
            case phantom_label::KidneyLeft: case phantom_label::KidneyRight: case phantom_label::Artery:
            case phantom_label::Vein: case phantom_label::UreterLeft: case phantom_label::UreterRight:
              o8[off] = v;
              break;
            case phantom_label::Tumor: {
              const Vec3 p = g.indexToPhysical({double(i), double(j), double(k)});
              const double d[3] = {p[0] - mean[0], p[1] - mean[1], p[2] - mean[2]};
              double q = 0;
              for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) q += d[a] * inv[a * 3 + b] * d[b];
              if (q <= 1.0) {
                o8[off] = phantom_label::KidneyLeft;
                ++filled;
              }
              break;
            }
            default: break;
          }
        }
    const Box box = padBoxMm(boundingBox(out), 10.0, g);
    Volume cropped = crop(out, box);
    LabelTable table;
    for (int v : {1, 2, 4, 5, 6, 7}) table.set(*pc.table.find(v));
    writeVolume(cropped, argv[1]);
    table.writeSidecar(argv[1]);
    std::printf("template %s: %s (tumour voxels filled as kidney: %lld)\n", argv[1],
                cropped.geometry().describe().c_str(), (long long)filled);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exitCode();
  }
}
