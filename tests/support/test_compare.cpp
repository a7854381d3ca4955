// The comparisons the GPU tests rely on, checked where they can run: on the CPU. A GPU test is
// only as strict as these, and no GPU has run them yet.
#include "support/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace cutrain::test {
namespace {

TEST(CompareHelpers, NearHoldsEachElementToItsTolerance) {
  const std::vector<float> cpu = {1.0f, -2.0f, 100.0f};
  EXPECT_TRUE(Near("x", {1.0f, -2.0f, 100.0f}, cpu, 0, 0));
  EXPECT_TRUE(Near("x", {1.05f, -2.0f, 100.0f}, cpu, 0, 0.06));
  EXPECT_FALSE(Near("x", {1.07f, -2.0f, 100.0f}, cpu, 0, 0.06));
  EXPECT_TRUE(Near("x", {1.0f, -2.0f, 100.5f}, cpu, 1e-2, 0));   // 0.5 <= 1e-2 * 100
  EXPECT_FALSE(Near("x", {1.02f, -2.0f, 100.0f}, cpu, 1e-2, 0));  // 0.02 > 1e-2 * 1
  EXPECT_FALSE(Near("x", {std::nanf(""), -2.0f, 100.0f}, cpu, 1, 1e30));
  EXPECT_FALSE(Near("x", {1.0f, -2.0f}, cpu, 1, 1));
  EXPECT_FALSE(Near("x", {1.0f, -2.0f, 100.0f, 7.0f}, cpu, 0, 0));
  EXPECT_TRUE(Near("x", {1.0f, -2.0f, 100.0f, 7.0f}, cpu, 0, 0, Tail::kIgnored));
  EXPECT_FALSE(Near("x", {1.0f, -2.0f, 100.0f, 7.0f}, cpu, 0, 0, Tail::kPoisoned));
  EXPECT_TRUE(Near("x", {1.0f, -2.0f, 100.0f, std::nanf("")}, cpu, 0, 0, Tail::kPoisoned));
}

TEST(CompareHelpers, NearTiesCountsRowsWhoseTopTwoLogitsAreClose) {
  // Three rows of four classes: a clear winner, a tie within 1e-3, a tie of equal values.
  const std::vector<float> logits = {0.1f, 2.0f, 0.5f, -1.0f,   //
                                     1.0f, 0.2f, 1.0005f, 0.0f,  //
                                     -3.0f, -3.0f, -4.0f, -5.0f};
  EXPECT_EQ(NearTies(logits, 4, 1e-3), 2);
  EXPECT_EQ(NearTies(logits, 4, 1e-4), 1);
  EXPECT_EQ(NearTies(logits, 4, 2.0), 3);
}

TEST(CompareHelpers, SamePredictionsForgivesOnlyNearTies) {
  const std::vector<float> cpu = {0.1f, 2.0f, 0.5f,  //
                                  1.0f, 0.2f, 1.0005f};
  EXPECT_TRUE(SamePredictions("p", cpu, cpu, 3, 1e-3));
  // Row 1 flips between classes 0 and 2, 5e-4 apart on the CPU: within a margin of 1e-3 only.
  const std::vector<float> flipped_tie = {0.1f, 2.0f, 0.5f, 1.0008f, 0.2f, 1.0005f};
  EXPECT_TRUE(SamePredictions("p", flipped_tie, cpu, 3, 1e-3));
  EXPECT_FALSE(SamePredictions("p", flipped_tie, cpu, 3, 1e-4));
  // Row 0 flips from class 1 to 2 although the CPU's margin there is 1.5: always wrong.
  const std::vector<float> flipped_clear = {0.1f, 2.0f, 2.5f, 1.0f, 0.2f, 1.0005f};
  EXPECT_FALSE(SamePredictions("p", flipped_clear, cpu, 3, 1e-3));
  EXPECT_FALSE(SamePredictions("p", {0.1f, 2.0f, 0.5f}, cpu, 3, 1e-3));
  EXPECT_FALSE(SamePredictions("p", cpu, cpu, 4, 1e-3));
}

}  // namespace
}  // namespace cutrain::test
