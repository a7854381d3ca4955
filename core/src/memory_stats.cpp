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

void raise_peak(Counters& c, int64_t now) {
  int64_t peak = c.peak.load();
  while (now > peak && !c.peak.compare_exchange_weak(peak, now)) {
  }
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
  raise_peak(c, c.current.fetch_add(bytes) + bytes);
}

void note_tensor_free(Device device, int64_t bytes) { counters(device).current.fetch_sub(bytes); }

void reserve_host_tensor_memory(int64_t bytes) {
  // Counted before the check, so that allocations on several threads cannot all pass it. (A
  // reservation that is then refused may briefly refuse another thread, or raise the peak:
  // errors on the safe side.)
  Counters& c = counters(Device::CPU);
  const int64_t before = c.current.fetch_add(bytes);
  try {
    check_host_allocation(before, bytes, host_memory_limit());
  } catch (...) {
    c.current.fetch_sub(bytes);
    throw;
  }
  raise_peak(c, before + bytes);
}

}  // namespace detail
}  // namespace cutrain
