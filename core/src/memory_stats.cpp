#include "cutrain/memory_stats.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>

#include "cutrain/error.h"

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

namespace {
// A cgroup limit file's value; "max" (v2) and v1's "no limit" (a page-rounded INT64_MAX) read as
// none.
int64_t cgroup_limit(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return -1;
  try {
    const long long v = std::stoll(text);
    return v > 0 && v < (int64_t{1} << 62) ? v : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

std::string gib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  return buf;
}
}  // namespace

int64_t host_memory_limit() {
  static const int64_t limit = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    int64_t l = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : INT64_MAX;
    for (const char* path :
         {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
      const int64_t c = cgroup_limit(path);
      if (c > 0) l = std::min(l, c);
    }
    return l;
  }();
  return limit;
}

namespace detail {

void check_host_allocation(int64_t in_use, int64_t bytes, int64_t limit) {
  if (bytes <= limit - std::min(in_use, limit)) return;
  throw Error("out of host memory: a CPU tensor of " + gib(bytes) + " on top of the " +
              gib(in_use) + " CPU tensors hold already would exceed the " + gib(limit) +
              " this process may use (physical memory or its cgroup limit); try a smaller "
              "batch or model");
}

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
