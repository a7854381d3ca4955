// The busy wait of busy_wait.h: one thread reads %globaltimer (nanoseconds) until the time has
// passed, sleeping a microsecond between reads; clock64() bounds it in case the timer stalls.
#include "busy_wait.h"
#include "cuda/check.h"
#include "cutrain/error.h"

namespace cutrain::kernels {
namespace {

__device__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void busy_wait_kernel(uint64_t ns) {
  const uint64_t start = global_ns();
  const long long first_cycle = clock64();
  const long long max_cycles = static_cast<long long>(ns) * 20;
  while (global_ns() - start < ns && clock64() - first_cycle < max_cycles) __nanosleep(1000);
}

}  // namespace

void launch_busy_wait(int64_t microseconds, cudaStream_t stream) {
  if (microseconds < 1 || microseconds > 1'000'000)
    throw ConfigError("launch_busy_wait: expected 1 to 1e6 microseconds, got " +
                      std::to_string(microseconds));
  busy_wait_kernel<<<1, 1, 0, stream>>>(static_cast<uint64_t>(microseconds) * 1000u);
  CUTRAIN_CHECK_LAUNCH("busy_wait_kernel");
}

}  // namespace cutrain::kernels
