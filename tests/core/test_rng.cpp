// Rng: reproducibility, pinned values of the fixed algorithm, and loose distribution checks.
// Every test uses a fixed seed, so the statistical bounds are deterministic (they cannot flake);
// they are still loose enough to hold for any reasonable generator.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cutrain/rng.h"

namespace cutrain {
namespace {

constexpr int kDraws = 100000;

std::vector<uint64_t> draws(Rng& rng, int n) {
  std::vector<uint64_t> out(static_cast<size_t>(n));
  for (uint64_t& x : out) x = rng.next_u64();
  return out;
}

TEST(Rng, SameSeedSameSequence) {
  Rng a(1234), b(1234);
  EXPECT_EQ(draws(a, 1000), draws(b, 1000));
  Rng c(99), d(99);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(c.uniform(), d.uniform());
    EXPECT_EQ(c.normal(), d.normal());
    EXPECT_EQ(c.below(17), d.below(17));
  }
}

TEST(Rng, DifferentSeedsDiffer) {
  Rng a(1), b(2), c(0);
  const auto va = draws(a, 64), vb = draws(b, 64), vc = draws(c, 64);
  EXPECT_NE(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_NE(vb, vc);
  int equal = 0;
  for (size_t i = 0; i < va.size(); ++i) equal += va[i] == vb[i];
  EXPECT_EQ(equal, 0);
}

TEST(Rng, PinnedValuesForSeedZero) {
  // splitmix64 seeding + xoshiro256**, computed once (and cross-checked against an independent
  // implementation); a change here means every seeded run in the wild changes too.
  Rng rng(0);
  EXPECT_EQ(rng.next_u64(), 0x99EC5F36CB75F2B4ull);
  EXPECT_EQ(rng.next_u64(), 0xBF6E1F784956452Aull);
  EXPECT_EQ(rng.next_u64(), 0x1A5F849D4933E6E0ull);
  Rng other(42);
  EXPECT_EQ(other.next_u64(), 0x15780B2E0C2EC716ull);
  // uniform() takes the top 24 bits of the same first word: 0x99EC5F / 2^24.
  Rng u(0);
  EXPECT_EQ(u.uniform(), static_cast<float>(0x99EC5Full) / 16777216.0f);
}

TEST(Rng, DefaultSeedIsZero) {
  Rng a, b(0);
  EXPECT_EQ(draws(a, 16), draws(b, 16));
}

TEST(Rng, UniformInUnitIntervalWithMeanHalf) {
  Rng rng(2024);
  double sum = 0.0;
  float lo = 1.0f, hi = 0.0f;
  for (int i = 0; i < kDraws; ++i) {
    const float u = rng.uniform();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    lo = u < lo ? u : lo;
    hi = u > hi ? u : hi;
    sum += u;
  }
  EXPECT_NEAR(sum / kDraws, 0.5, 0.01);
  EXPECT_LT(lo, 0.001f);  // the whole interval is reached
  EXPECT_GT(hi, 0.999f);
}

TEST(Rng, UniformRange) {
  Rng rng(5);
  double sum = 0.0;
  for (int i = 0; i < kDraws; ++i) {
    const float u = rng.uniform(-3.0f, 5.0f);
    ASSERT_GE(u, -3.0f);
    ASSERT_LT(u, 5.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / kDraws, 1.0, 0.08);
}

TEST(Rng, NormalMeanZeroVarianceOne) {
  Rng rng(77);
  double sum = 0.0, sum_sq = 0.0;
  int beyond_two = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double x = rng.normal();
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sum_sq += x * x;
    beyond_two += (x > 2.0 || x < -2.0);
  }
  const double mean = sum / kDraws;
  const double var = sum_sq / kDraws - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(var, 1.0, 0.03);
  // P(|x| > 2) = 0.0455 for a standard normal.
  EXPECT_NEAR(static_cast<double>(beyond_two) / kDraws, 0.0455, 0.005);
}

TEST(Rng, BelowStaysInRangeAndIsRoughlyUniform) {
  Rng rng(31337);
  constexpr uint64_t kBuckets = 10;
  std::array<int, kBuckets> counts{};
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t k = rng.below(kBuckets);
    ASSERT_LT(k, kBuckets);
    ++counts[k];
  }
  const double expected = static_cast<double>(kDraws) / kBuckets;
  double chi2 = 0.0;
  for (int c : counts) {
    EXPECT_GT(c, 0);
    chi2 += (c - expected) * (c - expected) / expected;
  }
  // 9 degrees of freedom: the 99.99th percentile is about 33.7.
  EXPECT_LT(chi2, 40.0);
}

TEST(Rng, BelowEdgeCases) {
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(rng.below(0), 0u);
    EXPECT_EQ(rng.below(1), 0u);
  }
  bool saw[2] = {false, false};
  for (int i = 0; i < 200; ++i) {
    const uint64_t k = rng.below(2);
    ASSERT_LT(k, 2u);
    saw[k] = true;
  }
  EXPECT_TRUE(saw[0] && saw[1]);
  // A bound that is not a power of two and close to 2^64 exercises the rejection loop.
  const uint64_t big = (UINT64_MAX / 3) * 2 + 1;
  for (int i = 0; i < 100; ++i) EXPECT_LT(rng.below(big), big);
}

TEST(Rng, StateRoundTripReproducesSequence) {
  Rng rng(8);
  draws(rng, 10);  // move away from the seeded state
  const Rng::State saved = rng.state();
  const auto first = draws(rng, 50);
  const float u = rng.uniform();
  const float n = rng.normal();
  EXPECT_NE(rng.state(), saved);

  rng.set_state(saved);
  EXPECT_EQ(rng.state(), saved);
  EXPECT_EQ(draws(rng, 50), first);
  EXPECT_EQ(rng.uniform(), u);
  EXPECT_EQ(rng.normal(), n);

  Rng other(12345);  // a state transplanted into another generator continues the sequence
  other.set_state(saved);
  EXPECT_EQ(draws(other, 50), first);
}

}  // namespace
}  // namespace cutrain
