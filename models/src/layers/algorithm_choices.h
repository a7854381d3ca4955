// The algorithms a library offered for one operation, in its order of preference, and the rule
// for moving on when one is refused: Conv2d's cuDNN plans (conv2d_cudnn.cpp) use it; kept free
// of cuDNN so that the CPU tests can check the rule. Private.
//
// Why: cuDNN's heuristic can report an algorithm as supported for descriptors that the call
// then refuses (NOT_SUPPORTED), e.g. DenseBlock's channel slices; PyTorch's algorithm iterator
// likewise tries the next algorithm.
#pragma once

#include <cstddef>
#include <vector>

namespace cutrain::detail {

/// A list of choices (non-empty), the one in use, and whether it has succeeded once.
template <typename Choice>
struct AlgorithmChoices {
  std::vector<Choice> list;
  size_t current = 0;
  bool proven = false;
  const Choice& now() const { return list[current]; }
};

enum class Attempt { Ok, Refused, Failed };

/// Runs attempt(choice) -> Attempt with the choice in use. Until a choice has succeeded once,
/// and while may_retry() says so, a refusal moves on: prepare(next choice) first (it may throw,
/// leaving the choice in use as it was), then the next one is attempted. Returns Ok (the choice
/// is then proven), Failed, or Refused when moving on was not allowed or nothing was left.
template <typename Choice, typename AttemptFn, typename PrepareFn, typename MayRetryFn>
Attempt run_first_accepted(AlgorithmChoices<Choice>& c, AttemptFn&& attempt, PrepareFn&& prepare,
                           MayRetryFn&& may_retry) {
  for (;;) {
    const Attempt r = attempt(c.now());
    if (r == Attempt::Ok) {
      c.proven = true;
      return r;
    }
    if (r == Attempt::Failed || c.proven || c.current + 1 >= c.list.size() || !may_retry())
      return r;
    prepare(c.list[c.current + 1]);
    ++c.current;
  }
}

}  // namespace cutrain::detail
