// The rule by which Conv2d moves on from an algorithm cuDNN refuses (layers/algorithm_choices.h),
// checked on the CPU with scripted outcomes: only refusals before a first success move on, each
// move prepares the next choice first, and a failed preparation leaves the choice in use alone.
#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "layers/algorithm_choices.h"

namespace cutrain::detail {
namespace {

// Choices 0..n-1; attempt k of the script returns script[k] (Ok once the script runs out).
struct Scripted {
  explicit Scripted(std::vector<Attempt> s = {}) : script(std::move(s)) {}
  std::vector<Attempt> script;
  std::vector<int> attempted, prepared;
  size_t next = 0;
  bool allow_retry = true;
  int fail_prepare_of = -1;

  Attempt run(AlgorithmChoices<int>& c) {
    return run_first_accepted(
        c,
        [&](int choice) {
          attempted.push_back(choice);
          return next < script.size() ? script[next++] : Attempt::Ok;
        },
        [&](int choice) {
          if (choice == fail_prepare_of) throw std::runtime_error("no memory for the workspace");
          prepared.push_back(choice);
        },
        [&] { return allow_retry; });
  }
};

AlgorithmChoices<int> Choices(int n) {
  AlgorithmChoices<int> c;
  for (int i = 0; i < n; ++i) c.list.push_back(i);
  return c;
}

TEST(AlgorithmChoices, TheFirstChoiceThatWorksIsKept) {
  AlgorithmChoices<int> c = Choices(3);
  Scripted s;
  EXPECT_EQ(s.run(c), Attempt::Ok);
  EXPECT_EQ(s.attempted, std::vector<int>{0});
  EXPECT_TRUE(s.prepared.empty());
  EXPECT_EQ(c.current, 0u);
  EXPECT_TRUE(c.proven);
}

TEST(AlgorithmChoices, RefusalsMoveOnInOrderPreparingEachNextChoice) {
  AlgorithmChoices<int> c = Choices(4);
  Scripted s{{Attempt::Refused, Attempt::Refused}};
  EXPECT_EQ(s.run(c), Attempt::Ok);
  EXPECT_EQ(s.attempted, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(s.prepared, (std::vector<int>{1, 2}));
  EXPECT_EQ(c.current, 2u);
  EXPECT_TRUE(c.proven);
  // From then on the proven choice is used, and a refusal of it is reported, not skipped.
  Scripted later{{Attempt::Refused}};
  EXPECT_EQ(later.run(c), Attempt::Refused);
  EXPECT_EQ(later.attempted, std::vector<int>{2});
  EXPECT_EQ(c.current, 2u);
}

TEST(AlgorithmChoices, RefusedEverywhereEndsAtTheLastChoice) {
  AlgorithmChoices<int> c = Choices(3);
  Scripted s{{Attempt::Refused, Attempt::Refused, Attempt::Refused}};
  EXPECT_EQ(s.run(c), Attempt::Refused);
  EXPECT_EQ(s.attempted, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(c.current, 2u);
  EXPECT_FALSE(c.proven);
}

TEST(AlgorithmChoices, OtherFailuresDoNotMoveOn) {
  AlgorithmChoices<int> c = Choices(3);
  Scripted s{{Attempt::Failed}};
  EXPECT_EQ(s.run(c), Attempt::Failed);
  EXPECT_EQ(s.attempted, std::vector<int>{0});
  EXPECT_EQ(c.current, 0u);
}

TEST(AlgorithmChoices, NoMovingOnWhenRetryingIsNotAllowed) {
  AlgorithmChoices<int> c = Choices(3);
  Scripted s{{Attempt::Refused}};
  s.allow_retry = false;  // e.g. inside a CUDA graph capture
  EXPECT_EQ(s.run(c), Attempt::Refused);
  EXPECT_EQ(c.current, 0u);
  EXPECT_FALSE(c.proven);
}

TEST(AlgorithmChoices, AFailedPreparationKeepsTheChoiceInUse) {
  AlgorithmChoices<int> c = Choices(3);
  Scripted s{{Attempt::Refused}};
  s.fail_prepare_of = 1;
  EXPECT_THROW(s.run(c), std::runtime_error);
  EXPECT_EQ(c.current, 0u);  // not pointing at a choice whose workspace was never made
}

}  // namespace
}  // namespace cutrain::detail
