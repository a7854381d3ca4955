#include "cutrain/memory_stats.h"

#include <atomic>

#if CUTRAIN_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace cutrain {
namespace {

struct Counters {
  std::atomic<int64_t> current{0}, peak{0};
};

Counters& counters(Device device) {
  static Counters cpu, cuda;
  return device == Device::CUDA ? cuda : cpu;
}

}  // namespace

TensorMemory tensor_memory(Device device) {
  const Counters& c = counters(device);
  return {c.current.load(), c.peak.load()};
}

void reset_peak_tensor_memory(Device device) {
  Counters& c = counters(device);
  c.peak.store(c.current.load());
}

int64_t device_memory_in_use() {
#if CUTRAIN_WITH_CUDA
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return static_cast<int64_t>(total - free);
#else
  return -1;
#endif
}

namespace detail {

void note_tensor_alloc(Device device, int64_t bytes) {
  Counters& c = counters(device);
  const int64_t now = c.current.fetch_add(bytes) + bytes;
  int64_t peak = c.peak.load();
  while (now > peak && !c.peak.compare_exchange_weak(peak, now)) {
  }
}

void note_tensor_free(Device device, int64_t bytes) { counters(device).current.fetch_sub(bytes); }

}  // namespace detail
}  // namespace cutrain
