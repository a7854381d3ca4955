// When the CPU twins fork OpenMP threads: below this many elements a parallel region costs more
// than it saves (and on a loaded machine the fork can stall for milliseconds).
#pragma once

#include <cstdint>

namespace cutrain::kernels {
constexpr int64_t kParallelMinElements = int64_t{1} << 15;
}  // namespace cutrain::kernels
