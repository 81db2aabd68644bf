// nnU-Net's numerical conventions: fp16 rounding, half-to-even shapes and
// steps, the Gaussian importance map, the separate-z rule and the resize.
#include <QtTest>

#include <cmath>

#include "inference/NnunetPreprocessing.h"
#include "inference/NnunetResampling.h"

using namespace nephro::inference;

class NnunetNumericsTest : public QObject {
  Q_OBJECT
 private slots:
  void halfConversionRoundsToNearestEven() {
    QCOMPARE(doubleToHalf(1.0), uint16_t(0x3c00));
    QCOMPARE(doubleToHalf(-2.0), uint16_t(0xc000));
    QCOMPARE(doubleToHalf(65504.0), uint16_t(0x7bff));
    QCOMPARE(doubleToHalf(65520.0), uint16_t(0x7c00));          // rounds to infinity
    QCOMPARE(doubleToHalf(1.0 + std::ldexp(1.0, -11)), uint16_t(0x3c00));  // tie -> even
    QCOMPARE(doubleToHalf(1.0 + 3 * std::ldexp(1.0, -11)), uint16_t(0x3c02));  // tie -> even (up)
    QCOMPARE(doubleToHalf(std::ldexp(1.0, -24)), uint16_t(0x0001));  // smallest subnormal
    QCOMPARE(doubleToHalf(std::ldexp(1.0, -25)), uint16_t(0x0000));  // tie -> even (zero)
    QCOMPARE(doubleToHalf(std::ldexp(1.0, -14) - std::ldexp(1.0, -25)), uint16_t(0x0400));  // up into the normals
    // No double rounding: just above a tie in double, but a float cast would land on the tie.
    const double justAbove = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
    QCOMPARE(doubleToHalf(justAbove), uint16_t(0x3c01));
    for (uint16_t h : {uint16_t(0x3c00), uint16_t(0x0001), uint16_t(0x7bff), uint16_t(0x8400), uint16_t(0x3555)})
      QCOMPARE(doubleToHalf(halfToFloat(h)), h);
  }

  void halfConversionExhaustive() {
    // Every finite binary16 round-trips, and every midpoint between neighbours
    // (exact in double) goes to the even one, a hair either side to the nearer.
    for (uint32_t sign : {0u, 0x8000u}) {
      for (uint32_t m = 0; m < 0x7c00; ++m) {
        const uint16_t h = static_cast<uint16_t>(sign | m);
        const double v = halfToFloat(h);
        QCOMPARE(doubleToHalf(v), h);
        const double next = m + 1 < 0x7c00 ? double(halfToFloat(static_cast<uint16_t>(h + 1)))
                                           : (sign ? -65536.0 : 65536.0);  // the overflow boundary
        const double mid = (v + next) / 2;
        const uint16_t even = (m & 1) ? static_cast<uint16_t>(h + 1) : h;
        const uint16_t expectedMid = (m + 1 == 0x7c00) ? static_cast<uint16_t>(sign | 0x7c00) : even;
        if (doubleToHalf(mid) != expectedMid) QFAIL(qPrintable(QString("midpoint after 0x%1").arg(h, 4, 16, QChar('0'))));
        if (doubleToHalf(std::nextafter(mid, v)) != h) QFAIL(qPrintable(QString("below midpoint after 0x%1").arg(h, 4, 16)));
        if (m + 1 < 0x7c00 && doubleToHalf(std::nextafter(mid, next)) != h + 1)
          QFAIL(qPrintable(QString("above midpoint after 0x%1").arg(h, 4, 16)));
      }
    }
    QVERIFY(std::isnan(halfToFloat(doubleToHalf(std::nan("")))));
    QCOMPARE(doubleToHalf(1e300), uint16_t(0x7c00));
    QCOMPARE(doubleToHalf(-1e-300), uint16_t(0x8000));
  }

  void shapesAndStepsRoundHalfToEven() {
    // 2.5 -> 2 and 3.5 -> 4, as Python's round().
    QCOMPARE(computeNewShape({5, 7, 10}, {1.0, 1.0, 1.0}, {2.0, 2.0, 1.0}), (Shape3{2, 4, 10}));
    QCOMPARE(slidingWindowSteps(110, 64, 0.5), (std::vector<int64_t>{0, 23, 46}));
    QCOMPARE(slidingWindowSteps(64, 64, 0.5), (std::vector<int64_t>{0}));
    QCOMPARE(slidingWindowSteps(100, 64, 0.5), (std::vector<int64_t>{0, 18, 36}));
    // step = (I-T)/(n-1) = 2.5: positions round half to even.
    QCOMPARE(slidingWindowSteps(26, 16, 0.16), (std::vector<int64_t>{0, 2, 5, 8, 10}));
  }

  void gaussianIsFp16WithoutZeros() {
    const Shape3 patch{16, 12, 8};
    std::vector<uint16_t> g = gaussianImportanceMap(patch);
    QCOMPARE(static_cast<int64_t>(g.size()), elementCount(patch));
    const uint16_t center = g[(8 * 12 + 6) * 8 + 4];
    QCOMPARE(halfToFloat(center), 10.0f);
    uint16_t mx = 0;
    for (uint16_t h : g) {
      QVERIFY(h != 0);
      QVERIFY(!(h & 0x8000));
      mx = std::max(mx, h);
    }
    QCOMPARE(mx, center);
    // Symmetric around the centre along each axis.
    QCOMPARE(g[(7 * 12 + 6) * 8 + 4], g[(9 * 12 + 6) * 8 + 4]);
    // sigma = T/8 along z: exp(-0.5 * (4/2)^2) of the centre.
    QVERIFY(std::fabs(halfToFloat(g[(12 * 12 + 6) * 8 + 4]) - 10.0 * std::exp(-2.0)) < 0.01);
  }

  void separateZRule() {
    ResamplingSettings s;
    QVERIFY(!separateZAxis({3.0, 1.0, 1.0}, {1.0, 1.0, 1.0}, s));  // ratio 3 is not > 3
    QCOMPARE(*separateZAxis({3.1, 1.0, 1.0}, {1.0, 1.0, 1.0}, s), 0);
    QCOMPARE(*separateZAxis({1.0, 1.0, 1.0}, {1.0, 4.0, 1.0}, s), 1);  // from the target spacing
    QVERIFY(!separateZAxis({3.5, 3.5, 1.0}, {1.0, 1.0, 1.0}, s));      // two axes tie
    s.forceSeparateZ = false;
    QVERIFY(!separateZAxis({5.0, 1.0, 1.0}, {1.0, 1.0, 1.0}, s));
  }

  void resizeKeepsConstantsAndClips() {
    const Shape3 in{4, 5, 6}, out{7, 3, 9};
    std::vector<double> c(static_cast<size_t>(elementCount(in)), 3.25), r(static_cast<size_t>(elementCount(out)));
    resizeLikeSkimage(c.data(), in, r.data(), out, 3);
    for (double v : r) QVERIFY(std::fabs(v - 3.25) < 1e-12);
    // A step edge overshoots with cubic splines; the result is clipped to the input range.
    std::vector<double> step(static_cast<size_t>(elementCount(in)));
    for (int64_t i = 0; i < elementCount(in); ++i) step[i] = (i % 6) < 3 ? -1.0 : 2.0;
    resizeLikeSkimage(step.data(), in, r.data(), out, 3);
    double lo = 1e9, hi = -1e9;
    for (double v : r) lo = std::min(lo, v), hi = std::max(hi, v);
    QCOMPARE(lo, -1.0);
    QCOMPARE(hi, 2.0);
  }

  void everyAxisResamplesLikeTheContiguousOne() {
    // Slow axes are resampled in blocks of neighbouring lines, the fast axis
    // line by line: the same numbers, bit for bit, for every order. Resize
    // along axis 0 only, and along axis 2 only of the transposed array.
    const int64_t A = 23, B = 5, C = 41;  // C > one block of lanes, not a multiple of it
    std::vector<double> d(static_cast<size_t>(A * B * C)), t(d.size());
    uint64_t state = 12345;
    for (double& v : d) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      v = static_cast<double>(state >> 11) / 9007199254740992.0 * 400.0 - 150.0;
    }
    for (int64_t a = 0; a < A; ++a)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c) t[(c * B + b) * A + a] = d[(a * B + b) * C + c];
    for (int order : {0, 1, 3})
      for (int64_t newA : {int64_t(9), int64_t(23), int64_t(57)}) {
        std::vector<double> slow(static_cast<size_t>(newA * B * C)), fast(slow.size());
        resizeLikeSkimage(d.data(), {A, B, C}, slow.data(), {newA, B, C}, order, {true, false, false});
        resizeLikeSkimage(t.data(), {C, B, A}, fast.data(), {C, B, newA}, order, {false, false, true});
        for (int64_t a = 0; a < newA; ++a)
          for (int64_t b = 0; b < B; ++b)
            for (int64_t c = 0; c < C; ++c)
              if (slow[(a * B + b) * C + c] != fast[(c * B + b) * newA + a])
                QFAIL(qPrintable(QString("order %1, %2 -> %3: differs at %4,%5,%6").arg(order).arg(A).arg(newA).arg(a).arg(b).arg(c)));
      }
  }

  void separateZUsesNearestAlongZ() {
    // 2 slices -> 4 along axis 0 with order 0: each slice repeated twice.
    const Shape3 in{2, 4, 4}, out{4, 4, 4};
    std::vector<double> d(static_cast<size_t>(elementCount(in)));
    for (int64_t i = 0; i < elementCount(in); ++i) d[i] = i < 16 ? 1.0 : 5.0;
    ResamplingSettings s;
    std::vector<double> r = resampleChannel(d, in, out, {6.0, 1.0, 1.0}, {3.0, 1.0, 1.0}, s);
    QCOMPARE(static_cast<int64_t>(r.size()), elementCount(out));
    for (int64_t z = 0; z < 4; ++z)
      for (int64_t i = 0; i < 16; ++i) QCOMPARE(r[z * 16 + i], z < 2 ? 1.0 : 5.0);
    // Same shape: returned untouched.
    std::vector<double> same = resampleChannel(d, in, in, {6.0, 1.0, 1.0}, {3.0, 1.0, 1.0}, s);
    QCOMPARE(same, d);
  }
};

QTEST_GUILESS_MAIN(NnunetNumericsTest)
#include "test_nnunet_numerics.moc"
