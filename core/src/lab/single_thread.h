// The lab's problems are tiny (at most 6 parameters): OpenMP regions of the CPU kernels cost
// more than the work, and on a loaded machine their wake-ups dominate the timings (measured:
// 0.4 ms instead of 1 us per SGD step at batch 1). The lab runs them on the calling thread.
#pragma once

#include <omp.h>

namespace cutrain::lab::detail {

/// @brief Limits OpenMP regions started by this thread to one thread until destruction.
class SingleThreadScope {
 public:
  SingleThreadScope() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThreadScope() { omp_set_num_threads(saved_); }
  SingleThreadScope(const SingleThreadScope&) = delete;
  SingleThreadScope& operator=(const SingleThreadScope&) = delete;

 private:
  int saved_;
};

}  // namespace cutrain::lab::detail
