// Running totals of the memory held by Tensors (and the library's raw device buffers: staging
// slots, a device-resident data set), per device: what a model, its activations, gradients,
// optimizer state, the cuDNN and cuBLAS workspaces and the input pipeline take (allocations made
// inside cuDNN or cuBLAS themselves are not counted; device_memory_in_use sees everything).
#pragma once

#include <cstdint>
#include <string>

#include "cutrain/device.h"

namespace cutrain {

/// @brief Bytes held by owning Tensors on one device: now, and the most at any time since the
/// start or the last reset_peak_tensor_memory(). Thread-safe.
struct TensorMemory {
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;
};

TensorMemory tensor_memory(Device device);
/// Sets the peak of `device` to its current bytes (to measure one phase, e.g. a training step).
void reset_peak_tensor_memory(Device device);

/// Bytes in use on the current CUDA device as the driver reports them (cudaMemGetInfo: total -
/// free, including the CUDA context and the libraries' own allocations); -1 without CUDA.
int64_t device_memory_in_use();

/// The most bytes CPU tensors may hold together: CUTRAIN_HOST_MEMORY_LIMIT where set (bytes, or
/// with K, M, G or T for powers of 1024, e.g. 8G; ConfigError when it is not such a size), else
/// the machine's physical memory or, where lower, the memory limit of this process's control
/// group and its ancestors (cgroup v2 memory.max, v1 memory.limit_in_bytes). A CPU Tensor that
/// would take the total past it throws Error up front, because Linux overcommits: the
/// allocation itself succeeds, and the process is killed (or the machine thrashes) only when the
/// pages are touched, long after the line that asked for them. Read once per process.
int64_t host_memory_limit();

namespace detail {
/// Called by Tensor when it allocates and frees storage.
void note_tensor_alloc(Device device, int64_t bytes);
void note_tensor_free(Device device, int64_t bytes);
/// Throws Error (naming the sizes in GiB) when `bytes` more on top of `in_use` would exceed
/// `limit`; the check host_memory_limit() describes.
void check_host_allocation(int64_t in_use, int64_t bytes, int64_t limit);
/// Counts `bytes` of CPU tensor storage about to be allocated, or throws as
/// check_host_allocation does and counts nothing. Undo with note_tensor_free.
void reserve_host_tensor_memory(int64_t bytes);
/// A byte size as CUTRAIN_HOST_MEMORY_LIMIT takes it ("1048576", "512M", "8G"); -1 if it is
/// not one (zero, negative, fractions, other suffixes, overflow).
int64_t parse_byte_size(const std::string& text);
/// The lowest memory limit of the control group that /proc/self/cgroup's text names, and of its
/// ancestors, reading the limit files under `root` (normally /sys/fs/cgroup); -1 if none.
int64_t cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& root);
}  // namespace detail

}  // namespace cutrain
