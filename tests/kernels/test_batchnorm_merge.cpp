// bn_merge (kernels/batchnorm_math.h): the CUDA batch-norm kernels combine per-block partial
// moments with it, while the CPU twin sums a channel in one pass, so the CPU suite would not
// see a wrong merge. Checked here against moments computed directly in long double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "batchnorm_math.h"
#include "cutrain/rng.h"

namespace cutrain::kernels {
namespace {

BnMoments direct(const std::vector<double>& v, size_t begin, size_t end) {
  BnMoments m;
  if (begin == end) return m;
  long double sum = 0, ss = 0;
  for (size_t i = begin; i < end; ++i) sum += v[i];
  const long double mean = sum / (end - begin);
  for (size_t i = begin; i < end; ++i) ss += (v[i] - mean) * (v[i] - mean);
  m.count = static_cast<double>(end - begin);
  m.mean = static_cast<double>(mean);
  m.m2 = static_cast<double>(ss);
  return m;
}

void expect_same(const BnMoments& got, const BnMoments& want, const char* what) {
  EXPECT_EQ(got.count, want.count) << what;
  EXPECT_NEAR(got.mean, want.mean, 1e-12 * (1 + std::fabs(want.mean))) << what;
  EXPECT_NEAR(got.m2, want.m2, 1e-9 * (1 + want.m2)) << what;
}

TEST(BatchNormMerge, PartsGiveTheMomentsOfTheWhole) {
  Rng rng(3);
  for (double offset : {0.0, 1e4}) {  // 1e4 + N(0,1): the case E[x^2] - E[x]^2 gets wrong
    std::vector<double> v(1000);
    for (auto& x : v) x = offset + rng.normal() * (1 + rng.uniform());
    // Unequal parts whose means differ: the between-parts term delta^2 n_a n_b / n matters.
    for (size_t i = 0; i < 300; ++i) v[i] += 2.0;
    const BnMoments whole = direct(v, 0, v.size());
    for (size_t cut : {1ul, 7ul, 300ul, 999ul}) {
      expect_same(bn_merge(direct(v, 0, cut), direct(v, cut, v.size())), whole, "two parts");
      expect_same(bn_merge(direct(v, cut, v.size()), direct(v, 0, cut)), whole, "swapped");
    }
    // Left to right over many blocks, as the kernel's last block does.
    BnMoments acc;
    for (size_t b = 0; b < v.size(); b += 64)
      acc = bn_merge(acc, direct(v, b, std::min(b + 64, v.size())));
    expect_same(acc, whole, "blocks of 64");
    const BnChannelUpdate u = bn_finalize(acc, 1e-5, 0.1, 0.0f, 1.0f);
    EXPECT_NEAR(u.inv_std, 1 / std::sqrt(whole.m2 / 1000 + 1e-5), 1e-6 * u.inv_std);
  }
}

TEST(BatchNormMerge, EmptyPartsAreNeutral) {
  const BnMoments empty, some{3.0, 2.5, 4.0};
  expect_same(bn_merge(empty, some), some, "empty first");
  expect_same(bn_merge(some, empty), some, "empty second");
  expect_same(bn_merge(empty, empty), empty, "both empty");
}

TEST(BatchNormMerge, TwoSingletons) {
  // {1, 5}: mean 3, M2 = 2^2 + 2^2 = 8.
  expect_same(bn_merge(BnMoments{1, 1, 0}, BnMoments{1, 5, 0}), BnMoments{2, 3, 8}, "{1, 5}");
}

}  // namespace
}  // namespace cutrain::kernels
