// CUDA batch normalization (formulas: batchnorm_math.h; layout and contract: batchnorm.h).
//
// Grid (B, C): block b of channel c owns the consecutive values [b*chunk, min(M, (b+1)*chunk))
// of the channel's M = n*s values; value i lives at x[(i / s) * xs + c * s + i % s] and its
// y / dy at the same place with ys (xs = ys = C*s when packed; see BnDims). Each thread walks its
// values four at a time, all four loads issued before the first use (batchnorm_walk.h).
// Training forward: each thread accumulates moments in float on x - K, K = the channel's first
// value (shifted data: the float accumulators see deviations, not an offset such as 1e4), group
// by group (batchnorm_walk.h: Chan's merge of each group of four), then a CUB
// block reduction merges the threads' moments with Chan's formula in double. With B == 1 that
// block finalizes and normalizes in the same launch; otherwise every block writes its (mean, M2)
// to scratch and a second kernel merges the B partials of its channel (a CUB reduction in a
// fixed order, so every block of the channel gets the same bits), normalizes its range, and
// block 0 writes the saved statistics and the running averages.
// Backward: the same two stages for (sum dy, sum dy*xhat), accumulated in double, then dx.
// Streamed schedule (batchnorm_schedule.h; for x larger than the L2 cache): the same per-block
// code, in one launch of 2*C*B blocks that take work items by ticket. A first-pass item stores
// its partial and counts itself done for its channel; the channel's last one merges the
// partials (the same fixed order as the combining kernels), writes the channel's results and
// raises its ready flag. A second-pass item waits for that flag, then normalizes (dx) its range
// with evict-first loads and stores: those values are not read again, the next channels' are.
// Deterministic (atomics only count and hand out work; sums in fixed orders); asynchronous on the
// stream, no host reads.
#include <cstdint>
#include <cub/block/block_reduce.cuh>
#include <cuda/atomic>
#include <map>

#include "batchnorm.h"
#include "batchnorm_schedule.h"
#include "batchnorm_walk.h"
#include "cuda/check.h"
#include "cutrain/error.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;
static_assert(kBnMaxBlocks <= kThreads, "the combining kernels take one partial per thread");

struct Range {
  int64_t begin, end;
};

struct BnSums {
  double dy, dy_xhat;
};

struct MergeMoments {
  __device__ BnMoments operator()(const BnMoments& a, const BnMoments& b) const {
    return bn_merge(a, b);
  }
};

struct AddSums {
  __device__ BnSums operator()(const BnSums& a, const BnSums& b) const {
    return {a.dy + b.dy, a.dy_xhat + b.dy_xhat};
  }
};

using MomentReduce = cub::BlockReduce<BnMoments, kThreads>;
using SumReduce = cub::BlockReduce<BnSums, kThreads>;

__device__ Range block_range(int64_t m, int64_t chunk, int64_t b) {
  const int64_t begin = b * chunk;
  return {begin, begin + chunk < m ? begin + chunk : m};
}

// Calls f(group) for this thread's values of channel c in r (batchnorm_walk.h).
template <class F>
__device__ __forceinline__ void for_each_group(const BnDims& d, int64_t c, Range r, F&& f) {
  bn_for_each_group(d, c, r.begin, r.end, threadIdx.x, blockDim.x, f);
}

// Moments of x - shift over the block's range; valid in thread 0.
__device__ BnMoments block_moments(const BnDims& d, int64_t c, Range r, const float* x, float shift,
                                   typename MomentReduce::TempStorage& tmp) {
  BnThreadMoments t;
  for_each_group(d, c, r, [&](const BnGroup& g) {
    float v[kBnGroup];
#pragma unroll
    for (int k = 0; k < kBnGroup; ++k) v[k] = g.valid[k] ? x[g.ax[k]] - shift : 0.0f;
    bn_add_group(t, v, g);
  });
  BnMoments m;
  m.count = t.count;
  m.mean = t.mean;
  m.m2 = t.m2;
  return MomentReduce(tmp).Reduce(m, MergeMoments{});
}

// Sums of dy and dy * xhat (dy masked by the fused ReLU) over the block's range; valid in
// thread 0.
__device__ BnSums block_sums(const BnDims& d, const BnConfig& cfg, const BnChannels& ch, int64_t c,
                             Range r, const float* __restrict__ x, const float* __restrict__ y,
                             const float* __restrict__ dy, typename SumReduce::TempStorage& tmp) {
  const float mean = ch.save_mean[c], inv_std = ch.save_inv_std[c];
  BnSums local{0.0, 0.0};
  for_each_group(d, c, r, [&](const BnGroup& g) {
    float vdy[kBnGroup], vy[kBnGroup], vx[kBnGroup];
#pragma unroll
    for (int k = 0; k < kBnGroup; ++k) {
      vdy[k] = g.valid[k] ? dy[g.ay[k]] : 0.0f;
      vy[k] = g.valid[k] && cfg.relu ? y[g.ay[k]] : 0.0f;
      vx[k] = g.valid[k] ? x[g.ax[k]] : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < kBnGroup; ++k) {
      if (!g.valid[k]) continue;
      const float masked = bn_masked_dy(vdy[k], vy[k], cfg.relu);
      local.dy += masked;
      local.dy_xhat += static_cast<double>(masked) * bn_xhat(vx[k], mean, inv_std);
    }
  });
  return SumReduce(tmp).Reduce(local, AddSums{});
}

// Partial b of channel c's `parts` in the scratch array: two doubles.
__device__ void store_partial(double* partials, int64_t c, int64_t parts, int64_t b, double first,
                              double second) {
  double* p = partials + 2 * (c * parts + b);
  p[0] = first;
  p[1] = second;
}

// The partials are read through L2 (ld.cg): the streamed kernel's blocks on other SMs wrote them
// during this launch, and this SM's L1 may hold an older copy of their line.
__device__ BnMoments merge_moments(int64_t m, int64_t chunk, int64_t c, int64_t parts,
                                   const double* partials, typename MomentReduce::TempStorage& tmp) {
  BnMoments local;
  for (int64_t b = threadIdx.x; b < parts; b += kThreads) {
    const Range pr = block_range(m, chunk, b);
    const double* p = partials + 2 * (c * parts + b);
    BnMoments part;
    part.count = static_cast<double>(pr.end - pr.begin);
    part.mean = __ldcg(p);
    part.m2 = __ldcg(p + 1);
    local = bn_merge(local, part);
  }
  return MomentReduce(tmp).Reduce(local, MergeMoments{});
}

__device__ BnSums merge_sums(int64_t c, int64_t parts, const double* partials,
                             typename SumReduce::TempStorage& tmp) {
  BnSums local{0.0, 0.0};
  for (int64_t b = threadIdx.x; b < parts; b += kThreads) {
    const double* p = partials + 2 * (c * parts + b);
    local.dy += __ldcg(p);
    local.dy_xhat += __ldcg(p + 1);
  }
  return SumReduce(tmp).Reduce(local, AddSums{});
}

// Thread 0: channel statistics from the shifted moments; the owner block writes the saved and
// running statistics (only it reads the running ones: no block reads what another writes).
__device__ void finish_forward(BnMoments m, float shift, const BnConfig& cfg, const BnChannels& ch,
                               int64_t c, bool owner, float* mean, float* inv_std) {
  m.mean += shift;
  const BnChannelUpdate u = bn_finalize(m, cfg.eps, cfg.momentum, owner ? ch.running_mean[c] : 0.0f,
                                        owner ? ch.running_var[c] : 0.0f);
  if (owner) {
    ch.save_mean[c] = u.mean;
    ch.save_inv_std[c] = u.inv_std;
    ch.running_mean[c] = u.running_mean;
    ch.running_var[c] = u.running_var;
  }
  *mean = u.mean;
  *inv_std = u.inv_std;
}

// Loads and stores of a second pass: evict-first (ld/st .cs) in the streamed schedule, whose
// second pass reads values for the last time while the following channels' must stay in L2.
template <bool kLastUse>
__device__ float load_value(const float* p) {
  if constexpr (kLastUse) return __ldcs(p);
  return *p;
}
template <bool kLastUse>
__device__ void store_value(float* p, float v) {
  if constexpr (kLastUse)
    __stcs(p, v);
  else
    *p = v;
}

template <bool kLastUse = false>
__device__ void normalize_range(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                int64_t c, Range r, float mean, float inv_std,
                                const float* __restrict__ x, float* __restrict__ y) {
  const float gamma = ch.gamma[c], beta = ch.beta[c];
  for_each_group(d, c, r, [&](const BnGroup& g) {
    float v[kBnGroup];
#pragma unroll
    for (int k = 0; k < kBnGroup; ++k) v[k] = g.valid[k] ? load_value<kLastUse>(x + g.ax[k]) : 0.0f;
#pragma unroll
    for (int k = 0; k < kBnGroup; ++k)
      if (g.valid[k])
        store_value<kLastUse>(y + g.ay[k],
                              bn_forward_element(v[k], mean, inv_std, gamma, beta, cfg.relu));
  });
}

// Thread 0: dgamma and dbeta (owner block only) and the dx coefficients (scale, dbeta / M,
// dgamma / M) into coef[3].
__device__ void finish_backward(const BnSums& s, int64_t m, const BnChannels& ch, int64_t c,
                                bool owner, float* coef) {
  if (owner) {
    ch.dbeta[c] = static_cast<float>(s.dy);
    ch.dgamma[c] = static_cast<float>(s.dy_xhat);
  }
  coef[0] = ch.gamma[c] * ch.save_inv_std[c];
  coef[1] = static_cast<float>(s.dy / static_cast<double>(m));
  coef[2] = static_cast<float>(s.dy_xhat / static_cast<double>(m));
}

template <bool kLastUse = false>
__device__ void dx_range(const BnDims& d, const BnConfig& cfg, const BnChannels& ch, int64_t c,
                         Range r, const float* coef, const float* __restrict__ x,
                         const float* __restrict__ y, const float* __restrict__ dy,
                         float* __restrict__ dx) {
  const float mean = ch.save_mean[c], inv_std = ch.save_inv_std[c];
  const float scale = coef[0], mean_dy = coef[1], mean_dy_xhat = coef[2];
  for_each_group(d, c, r, [&](const BnGroup& g) {
    float vdy[kBnGroup], vy[kBnGroup], vx[kBnGroup], vdx[kBnGroup];
#pragma unroll
    for (int k = 0; k < kBnGroup; ++k) {
      vdy[k] = g.valid[k] ? load_value<kLastUse>(dy + g.ay[k]) : 0.0f;
      vy[k] = g.valid[k] && cfg.relu ? load_value<kLastUse>(y + g.ay[k]) : 0.0f;
      vx[k] = g.valid[k] ? load_value<kLastUse>(x + g.ax[k]) : 0.0f;
      vdx[k] = g.valid[k] && cfg.accumulate_dx ? load_value<kLastUse>(dx + g.ax[k]) : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < kBnGroup; ++k) {
      if (!g.valid[k]) continue;
      const float v =
          bn_backward_element(bn_masked_dy(vdy[k], vy[k], cfg.relu), bn_xhat(vx[k], mean, inv_std),
                              scale, mean_dy, mean_dy_xhat);
      // __fadd_rn: never contracted with bn_backward_element's last multiply, which nvcc does in
      // one schedule's kernel and not the other's (the schedules must give the same bits; the
      // CPU twin does not contract either).
      store_value<kLastUse>(dx + g.ax[k], cfg.accumulate_dx ? __fadd_rn(vdx[k], v) : v);
    }
  });
}

__global__ void __launch_bounds__(kThreads)
    batchnorm_forward_train_kernel(BnDims d, BnConfig cfg, BnChannels ch,
                                   const float* __restrict__ x, float* __restrict__ y,
                                   int64_t chunk, double* __restrict__ partials) {
  __shared__ typename MomentReduce::TempStorage tmp;
  __shared__ float mean, inv_std;
  const int64_t c = blockIdx.y;
  const Range r = block_range(d.per_channel(), chunk, blockIdx.x);
  const float shift = x[c * d.s];
  const BnMoments m = block_moments(d, c, r, x, shift, tmp);
  if (gridDim.x > 1) {  // partial moments (of x - shift) for the combining kernel
    if (threadIdx.x == 0) store_partial(partials, c, gridDim.x, blockIdx.x, m.mean, m.m2);
    return;
  }
  if (threadIdx.x == 0) finish_forward(m, shift, cfg, ch, c, true, &mean, &inv_std);
  __syncthreads();
  normalize_range(d, cfg, ch, c, r, mean, inv_std, x, y);
}

__global__ void __launch_bounds__(kThreads)
    batchnorm_forward_combine_kernel(BnDims d, BnConfig cfg, BnChannels ch,
                                     const float* __restrict__ x, float* __restrict__ y,
                                     int64_t chunk, const double* __restrict__ partials) {
  __shared__ typename MomentReduce::TempStorage tmp;
  __shared__ float mean, inv_std;
  const int64_t c = blockIdx.y, m = d.per_channel();
  const BnMoments total = merge_moments(m, chunk, c, gridDim.x, partials, tmp);
  if (threadIdx.x == 0)
    finish_forward(total, x[c * d.s], cfg, ch, c, blockIdx.x == 0, &mean, &inv_std);
  __syncthreads();
  normalize_range(d, cfg, ch, c, block_range(m, chunk, blockIdx.x), mean, inv_std, x, y);
}

__global__ void __launch_bounds__(kThreads)
    batchnorm_forward_infer_kernel(BnDims d, BnConfig cfg, BnChannels ch,
                                   const float* __restrict__ x, float* __restrict__ y,
                                   int64_t chunk) {
  const int64_t c = blockIdx.y;
  const float inv_std = bn_inv_std(ch.running_var[c], cfg.eps);
  normalize_range(d, cfg, ch, c, block_range(d.per_channel(), chunk, blockIdx.x),
                  ch.running_mean[c], inv_std, x, y);
}

__global__ void __launch_bounds__(kThreads)
    batchnorm_backward_kernel(BnDims d, BnConfig cfg, BnChannels ch, const float* __restrict__ x,
                              const float* __restrict__ y, const float* __restrict__ dy,
                              float* __restrict__ dx, int64_t chunk,
                              double* __restrict__ partials) {
  __shared__ typename SumReduce::TempStorage tmp;
  __shared__ float coef[3];
  const int64_t c = blockIdx.y, m = d.per_channel();
  const Range r = block_range(m, chunk, blockIdx.x);
  const BnSums s = block_sums(d, cfg, ch, c, r, x, y, dy, tmp);
  if (gridDim.x > 1) {
    if (threadIdx.x == 0) store_partial(partials, c, gridDim.x, blockIdx.x, s.dy, s.dy_xhat);
    return;
  }
  if (threadIdx.x == 0) finish_backward(s, m, ch, c, true, coef);
  __syncthreads();
  if (dx != nullptr) dx_range(d, cfg, ch, c, r, coef, x, y, dy, dx);
}

// Grid (B, C) when dx is wanted, else (1, C); `parts` = B partials per channel.
__global__ void __launch_bounds__(kThreads)
    batchnorm_backward_combine_kernel(BnDims d, BnConfig cfg, BnChannels ch,
                                      const float* __restrict__ x, const float* __restrict__ y,
                                      const float* __restrict__ dy, float* __restrict__ dx,
                                      int64_t chunk, const double* __restrict__ partials,
                                      int64_t parts) {
  __shared__ typename SumReduce::TempStorage tmp;
  __shared__ float coef[3];
  const int64_t c = blockIdx.y, m = d.per_channel();
  const BnSums s = merge_sums(c, parts, partials, tmp);
  if (threadIdx.x == 0) finish_backward(s, m, ch, c, blockIdx.x == 0, coef);
  __syncthreads();
  if (dx != nullptr) dx_range(d, cfg, ch, c, block_range(m, chunk, blockIdx.x), coef, x, y, dy, dx);
}

// ---- Streamed schedule -------------------------------------------------------------------

// Its counters in scratch, zeroed before each launch: the ticket, then per channel the number of
// its first-pass items done and its ready flag.
struct StreamSync {
  unsigned* ticket;
  unsigned* done;
  unsigned* ready;
};

// 2^25 polls of ~256 ns (__nanosleep sleeps 0 to 2x that): some seconds to ~20 s, against
// microseconds in a working schedule. A broken one then ends the launch with an error (sticky:
// the context is unusable afterwards) instead of hanging the process.
constexpr unsigned kMaxSpins = 1u << 25;

// Every thread gets the block's ticket: the index of its item in the schedule's order.
__device__ int64_t take_ticket(unsigned* ticket) {
  __shared__ unsigned t;
  if (threadIdx.x == 0) t = atomicAdd(ticket, 1u);
  __syncthreads();
  return t;
}

// Thread 0, after storing the block's partial: counts it done for channel c; true for the
// channel's last, which then sees every partial of the channel.
__device__ bool count_done(unsigned* done, int64_t c, int64_t parts) {
  __threadfence();  // the partial is visible before the count that announces it
  const bool last = atomicAdd(done + c, 1u) == static_cast<unsigned>(parts - 1);
  if (last) __threadfence();  // and the partials are read only after the count
  return last;
}

// Thread 0: channel c's results, stored before, become visible, then its flag is raised.
__device__ void raise_ready(unsigned* ready, int64_t c) {
  __threadfence();
  cuda::atomic_ref<unsigned, cuda::thread_scope_device>(ready[c]).store(
      1u, cuda::memory_order_release);
}

// Thread 0: waits for channel c's flag; its results are then read through L2 (ld.cg).
__device__ void wait_ready(unsigned* ready, int64_t c) {
  cuda::atomic_ref<unsigned, cuda::thread_scope_device> flag(ready[c]);
  for (unsigned spins = 0; flag.load(cuda::memory_order_acquire) == 0u; ++spins) {
    if (spins == kMaxSpins) __trap();
    __nanosleep(256);
  }
}

__global__ void __launch_bounds__(kThreads)
    batchnorm_forward_streamed_kernel(BnDims d, BnConfig cfg, BnChannels ch,
                                      const float* __restrict__ x, float* __restrict__ y,
                                      int64_t chunk, int64_t parts, int64_t lag,
                                      double* __restrict__ partials, StreamSync sync) {
  __shared__ typename MomentReduce::TempStorage tmp;
  __shared__ float stat[2];  // mean, inv_std
  __shared__ bool last;
  const BnStreamedItem w = bn_streamed_item(take_ticket(sync.ticket), d.c, parts, lag);
  const int64_t m = d.per_channel();
  const Range r = block_range(m, chunk, w.b);
  if (w.stats) {
    const float shift = x[w.c * d.s];
    const BnMoments part = block_moments(d, w.c, r, x, shift, tmp);
    if (threadIdx.x == 0) {
      store_partial(partials, w.c, parts, w.b, part.mean, part.m2);
      last = count_done(sync.done, w.c, parts);
    }
    __syncthreads();  // also before tmp is reused
    if (!last) return;
    const BnMoments total = merge_moments(m, chunk, w.c, parts, partials, tmp);
    if (threadIdx.x == 0) {
      finish_forward(total, shift, cfg, ch, w.c, true, &stat[0], &stat[1]);
      raise_ready(sync.ready, w.c);
    }
    return;
  }
  if (threadIdx.x == 0) {
    wait_ready(sync.ready, w.c);
    stat[0] = __ldcg(ch.save_mean + w.c);
    stat[1] = __ldcg(ch.save_inv_std + w.c);
  }
  __syncthreads();
  normalize_range<true>(d, cfg, ch, w.c, r, stat[0], stat[1], x, y);
}

// dx == nullptr: launched with stats items only (lag == C).
__global__ void __launch_bounds__(kThreads)
    batchnorm_backward_streamed_kernel(BnDims d, BnConfig cfg, BnChannels ch,
                                       const float* __restrict__ x, const float* __restrict__ y,
                                       const float* __restrict__ dy, float* __restrict__ dx,
                                       int64_t chunk, int64_t parts, int64_t lag,
                                       double* __restrict__ partials, float* __restrict__ coefs,
                                       StreamSync sync) {
  __shared__ typename SumReduce::TempStorage tmp;
  __shared__ float coef[3];
  __shared__ bool last;
  const BnStreamedItem w = bn_streamed_item(take_ticket(sync.ticket), d.c, parts, lag);
  const int64_t m = d.per_channel();
  const Range r = block_range(m, chunk, w.b);
  if (w.stats) {
    const BnSums part = block_sums(d, cfg, ch, w.c, r, x, y, dy, tmp);
    if (threadIdx.x == 0) {
      store_partial(partials, w.c, parts, w.b, part.dy, part.dy_xhat);
      last = count_done(sync.done, w.c, parts);
    }
    __syncthreads();
    if (!last) return;
    const BnSums total = merge_sums(w.c, parts, partials, tmp);
    if (threadIdx.x == 0) {
      finish_backward(total, m, ch, w.c, true, coefs + 3 * w.c);
      raise_ready(sync.ready, w.c);
    }
    return;
  }
  if (threadIdx.x == 0) {
    wait_ready(sync.ready, w.c);
    for (int i = 0; i < 3; ++i) coef[i] = __ldcg(coefs + 3 * w.c + i);
  }
  __syncthreads();
  dx_range<true>(d, cfg, ch, w.c, r, coef, x, y, dy, dx);
}

// Values per block and blocks per channel: at least kBnBlockValues values a block, at most
// kBnMaxBlocks blocks; every block gets at least one value.
struct Split {
  int64_t chunk;
  unsigned blocks;
};

Split split_channel(const BnDims& d) {
  CUTRAIN_REQUIRE(d.c <= 65535, "batchnorm: more than 65535 channels (grid y limit)");
  const int64_t m = d.per_channel();
  const int64_t spread = (m + kBnMaxBlocks - 1) / kBnMaxBlocks;
  const int64_t chunk = spread > kBnBlockValues ? spread : kBnBlockValues;
  return {chunk, static_cast<unsigned>((m + chunk - 1) / chunk)};
}

double* partials_in(float* scratch, const Split& s) {
  if (s.blocks == 1) return nullptr;
  CUTRAIN_REQUIRE(scratch != nullptr && reinterpret_cast<uintptr_t>(scratch) % 8 == 0,
                  "batchnorm: scratch missing or not 8-byte aligned");
  return reinterpret_cast<double*>(scratch);
}

// What the streamed schedule needs to know of the current device, queried once per device and
// thread, so a launch in the training step costs one cudaGetDevice and a lookup. The first query
// may come during a graph capture: this thread's capture mode is relaxed for it (it touches no
// stream).
struct DeviceFacts {
  int64_t l2_bytes = 0;
  // Blocks of each streamed kernel resident at once on the whole device: what its registers
  // and shared memory allow, not the thread limit (at 64 registers a thread, half of it).
  int64_t resident_forward = 0, resident_backward = 0;
};

DeviceFacts query_device_facts(int device) {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  CUTRAIN_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  int l2 = 0, sms = 0, forward = 0, backward = 0;
  cudaError_t err = cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device);
  if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (err == cudaSuccess)
    err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&forward, batchnorm_forward_streamed_kernel,
                                                        kThreads, 0);
  if (err == cudaSuccess)
    err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &backward, batchnorm_backward_streamed_kernel, kThreads, 0);
  CUTRAIN_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  CUTRAIN_CUDA_CHECK(err);
  return {l2, int64_t{sms} * forward, int64_t{sms} * backward};
}

DeviceFacts current_device_facts() {
  thread_local std::map<int, DeviceFacts> known;  // per thread: no lock
  int device = 0;
  CUTRAIN_CUDA_CHECK(cudaGetDevice(&device));
  auto it = known.find(device);
  if (it == known.end()) it = known.emplace(device, query_device_facts(device)).first;
  return it->second;
}

// arrays_per_value: the arrays a first pass reads (x; backward also dy, and y with the ReLU).
bool streamed(const BnDims& d, const Split& s, BnSchedule requested, int64_t arrays_per_value) {
  if (s.blocks == 1) return false;  // one kernel, each block passes over its own channel
  switch (requested) {
    case BnSchedule::TwoPass:
      return false;
    case BnSchedule::Streamed:
      return true;
    case BnSchedule::Auto:
      break;
  }
  // Smaller than that, the two-pass schedule's second pass still finds them in L2.
  return d.numel() * static_cast<int64_t>(sizeof(float)) * arrays_per_value >
         current_device_facts().l2_bytes / 2;
}

// The streamed launch's scratch after the partials (laid out for the current d, which may be
// narrower than the batch the scratch was sized for): the dx coefficients, then the counters,
// which are zeroed on the stream.
struct StreamPlan {
  int64_t lag;
  float* coefs;
  StreamSync sync;
};

StreamPlan plan_streamed(const BnDims& d, const Split& s, double* partials,
                         int64_t arrays_per_value, bool backward, int64_t requested_lag,
                         cudaStream_t stream) {
  float* coefs = reinterpret_cast<float*>(partials) + d.c * s.blocks * 4;
  auto* counters = reinterpret_cast<unsigned*>(coefs + 3 * d.c);
  CUTRAIN_CUDA_CHECK(
      cudaMemsetAsync(counters, 0, static_cast<size_t>(1 + 2 * d.c) * sizeof(unsigned), stream));
  int64_t lag = requested_lag < d.c ? requested_lag : d.c;
  if (lag <= 0) {
    const DeviceFacts f = current_device_facts();
    lag = bn_streamed_lag(d.c, s.blocks,
                          d.per_channel() * static_cast<int64_t>(sizeof(float)) * arrays_per_value,
                          f.l2_bytes, backward ? f.resident_backward : f.resident_forward);
  }
  return {lag, coefs, {counters, counters + 1, counters + 1 + d.c}};
}

}  // namespace

BnSchedule resolve_batchnorm_schedule(const BnDims& d, const BnConfig& cfg, bool backward) {
  const int64_t arrays = backward ? (cfg.relu ? 3 : 2) : 1;
  return streamed(d, split_channel(d), cfg.schedule, arrays) ? BnSchedule::Streamed
                                                              : BnSchedule::TwoPass;
}

void launch_batchnorm_forward_train(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                    const float* x, float* y, float* scratch, cudaStream_t stream) {
  if (d.numel() == 0) return;
  const Split s = split_channel(d);
  double* partials = partials_in(scratch, s);
  if (streamed(d, s, cfg.schedule, 1)) {
    const StreamPlan p = plan_streamed(d, s, partials, 1, false, cfg.streamed_lag, stream);
    const auto items = static_cast<unsigned>(2 * d.c * s.blocks);
    batchnorm_forward_streamed_kernel<<<items, kThreads, 0, stream>>>(
        d, cfg, ch, x, y, s.chunk, s.blocks, p.lag, partials, p.sync);
    CUTRAIN_CHECK_LAUNCH("batchnorm_forward_streamed_kernel");
    return;
  }
  const dim3 grid(s.blocks, static_cast<unsigned>(d.c));
  batchnorm_forward_train_kernel<<<grid, kThreads, 0, stream>>>(d, cfg, ch, x, y, s.chunk,
                                                                partials);
  CUTRAIN_CHECK_LAUNCH("batchnorm_forward_train_kernel");
  if (s.blocks == 1) return;
  batchnorm_forward_combine_kernel<<<grid, kThreads, 0, stream>>>(d, cfg, ch, x, y, s.chunk,
                                                                  partials);
  CUTRAIN_CHECK_LAUNCH("batchnorm_forward_combine_kernel");
}

void launch_batchnorm_forward_infer(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                    const float* x, float* y, cudaStream_t stream) {
  if (d.numel() == 0) return;
  const Split s = split_channel(d);
  const dim3 grid(s.blocks, static_cast<unsigned>(d.c));
  batchnorm_forward_infer_kernel<<<grid, kThreads, 0, stream>>>(d, cfg, ch, x, y, s.chunk);
  CUTRAIN_CHECK_LAUNCH("batchnorm_forward_infer_kernel");
}

void launch_batchnorm_backward(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                               const float* x, const float* y, const float* dy, float* dx,
                               float* scratch, cudaStream_t stream) {
  if (d.numel() == 0) return;
  const Split s = split_channel(d);
  double* partials = partials_in(scratch, s);
  // The first pass reads x and dy, and y with the fused ReLU. Without dx only that pass runs.
  const int64_t arrays = cfg.relu ? 3 : 2;
  if (streamed(d, s, cfg.schedule, arrays)) {
    const StreamPlan p = plan_streamed(d, s, partials, arrays, true, cfg.streamed_lag, stream);
    const int64_t lag = dx != nullptr ? p.lag : d.c;
    const auto items = static_cast<unsigned>((dx != nullptr ? 2 : 1) * d.c * s.blocks);
    batchnorm_backward_streamed_kernel<<<items, kThreads, 0, stream>>>(
        d, cfg, ch, x, y, dy, dx, s.chunk, s.blocks, lag, partials, p.coefs, p.sync);
    CUTRAIN_CHECK_LAUNCH("batchnorm_backward_streamed_kernel");
    return;
  }
  const dim3 grid(s.blocks, static_cast<unsigned>(d.c));
  batchnorm_backward_kernel<<<grid, kThreads, 0, stream>>>(d, cfg, ch, x, y, dy, dx, s.chunk,
                                                           partials);
  CUTRAIN_CHECK_LAUNCH("batchnorm_backward_kernel");
  if (s.blocks == 1) return;
  const dim3 combine_grid(dx != nullptr ? s.blocks : 1u, static_cast<unsigned>(d.c));
  batchnorm_backward_combine_kernel<<<combine_grid, kThreads, 0, stream>>>(
      d, cfg, ch, x, y, dy, dx, s.chunk, partials, s.blocks);
  CUTRAIN_CHECK_LAUNCH("batchnorm_backward_combine_kernel");
}

}  // namespace cutrain::kernels
