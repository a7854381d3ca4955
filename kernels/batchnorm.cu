// CUDA batch normalization (formulas: batchnorm_math.h; layout and contract: batchnorm.h).
//
// Grid (B, C): block b of channel c owns the consecutive values [b*chunk, min(M, (b+1)*chunk))
// of the channel's M = n*s values; value i lives at x[(i / s) * xs + c * s + i % s] and its
// y / dy at the same place with ys (xs = ys = C*s when packed; see BnDims).
// Training forward: each thread runs Welford in float on x - K, K = the channel's first value
// (shifted data: the float accumulators see deviations, not an offset such as 1e4), then a CUB
// block reduction merges the threads' moments with Chan's formula in double. With B == 1 that
// block finalizes and normalizes in the same launch; otherwise every block writes its (mean, M2)
// to scratch and a second kernel merges the B partials of its channel (a CUB reduction in a
// fixed order, so every block of the channel gets the same bits), normalizes its range, and
// block 0 writes the saved statistics and the running averages.
// Backward: the same two stages for (sum dy, sum dy*xhat), accumulated in double, then dx.
// Deterministic (no atomics, fixed orders); asynchronous on the stream, no host reads.
#include <cstdint>
#include <cub/block/block_reduce.cuh>

#include "batchnorm.h"
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

// Calls f(x_offset, y_offset) for this thread's values i = begin + threadIdx.x, += blockDim.x,
// < end of channel c (x_offset indexes x and dx, y_offset y and dy). The stride is split once
// into q whole samples and rem values, so the loop divides nothing.
template <class F>
__device__ void for_each_value(const BnDims& d, int64_t c, Range r, F&& f) {
  int64_t i = r.begin + threadIdx.x;
  if (i >= r.end) return;
  const int64_t xs = d.xs(), ys = d.ys(), channel = c * d.s;
  const int64_t q = blockDim.x / d.s, rem = blockDim.x - q * d.s;
  int64_t sample = i / d.s, j = i - sample * d.s;
  for (; i < r.end; i += blockDim.x) {
    f(sample * xs + channel + j, sample * ys + channel + j);
    j += rem;
    sample += q;
    if (j >= d.s) {  // rem < s: wrapped into the next sample at most once
      j -= d.s;
      ++sample;
    }
  }
}

// Moments of x - shift over the block's range; valid in thread 0.
__device__ BnMoments block_moments(const BnDims& d, int64_t c, Range r, const float* x, float shift,
                                   typename MomentReduce::TempStorage& tmp) {
  int count = 0;
  float mean = 0.0f, m2 = 0.0f;
  for_each_value(d, c, r, [&](int64_t ax, int64_t) {
    const float v = x[ax] - shift;
    ++count;
    const float delta = v - mean;
    mean += delta / static_cast<float>(count);
    m2 += delta * (v - mean);
  });
  BnMoments t;
  t.count = count;
  t.mean = mean;
  t.m2 = m2;
  return MomentReduce(tmp).Reduce(t, MergeMoments{});
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

__device__ void normalize_range(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                int64_t c, Range r, float mean, float inv_std,
                                const float* __restrict__ x, float* __restrict__ y) {
  const float gamma = ch.gamma[c], beta = ch.beta[c];
  for_each_value(d, c, r, [&](int64_t ax, int64_t ay) {
    y[ay] = bn_forward_element(x[ax], mean, inv_std, gamma, beta, cfg.relu);
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

__device__ void dx_range(const BnDims& d, const BnConfig& cfg, const BnChannels& ch, int64_t c,
                         Range r, const float* coef, const float* __restrict__ x,
                         const float* __restrict__ y, const float* __restrict__ dy,
                         float* __restrict__ dx) {
  const float mean = ch.save_mean[c], inv_std = ch.save_inv_std[c];
  const float scale = coef[0], mean_dy = coef[1], mean_dy_xhat = coef[2];
  for_each_value(d, c, r, [&](int64_t ax, int64_t ay) {
    const float g = bn_masked_dy(dy[ay], cfg.relu ? y[ay] : 0.0f, cfg.relu);
    const float v =
        bn_backward_element(g, bn_xhat(x[ax], mean, inv_std), scale, mean_dy, mean_dy_xhat);
    dx[ax] = cfg.accumulate_dx ? dx[ax] + v : v;
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
    if (threadIdx.x == 0) {
      double* p = partials + 2 * (c * gridDim.x + blockIdx.x);
      p[0] = m.mean;
      p[1] = m.m2;
    }
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
  BnMoments local;
  for (int64_t b = threadIdx.x; b < gridDim.x; b += kThreads) {
    const Range pr = block_range(m, chunk, b);
    const double* p = partials + 2 * (c * gridDim.x + b);
    BnMoments part;
    part.count = static_cast<double>(pr.end - pr.begin);
    part.mean = p[0];
    part.m2 = p[1];
    local = bn_merge(local, part);
  }
  const BnMoments total = MomentReduce(tmp).Reduce(local, MergeMoments{});
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
  const float mean = ch.save_mean[c], inv_std = ch.save_inv_std[c];
  BnSums local{0.0, 0.0};
  for_each_value(d, c, r, [&](int64_t ax, int64_t ay) {
    const float g = bn_masked_dy(dy[ay], cfg.relu ? y[ay] : 0.0f, cfg.relu);
    local.dy += g;
    local.dy_xhat += static_cast<double>(g) * bn_xhat(x[ax], mean, inv_std);
  });
  const BnSums s = SumReduce(tmp).Reduce(local, AddSums{});
  if (gridDim.x > 1) {
    if (threadIdx.x == 0) {
      double* p = partials + 2 * (c * gridDim.x + blockIdx.x);
      p[0] = s.dy;
      p[1] = s.dy_xhat;
    }
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
  BnSums local{0.0, 0.0};
  for (int64_t b = threadIdx.x; b < parts; b += kThreads) {
    const double* p = partials + 2 * (c * parts + b);
    local.dy += p[0];
    local.dy_xhat += p[1];
  }
  const BnSums s = SumReduce(tmp).Reduce(local, AddSums{});
  if (threadIdx.x == 0) finish_backward(s, m, ch, c, blockIdx.x == 0, coef);
  __syncthreads();
  if (dx != nullptr) dx_range(d, cfg, ch, c, block_range(m, chunk, blockIdx.x), coef, x, y, dy, dx);
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

}  // namespace

void launch_batchnorm_forward_train(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                    const float* x, float* y, float* scratch, cudaStream_t stream) {
  if (d.numel() == 0) return;
  const Split s = split_channel(d);
  double* partials = partials_in(scratch, s);
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
