// How a thread of the batch-norm kernels (batchnorm.cu) walks its values of a channel, and the
// per-thread moments it accumulates on the way; shared with the CPU tests that check both.
//
// Thread t of T takes the values i = begin + t, begin + t + T, ... < end of channel c's M = n*s
// values; value i lives at x[(i / s) * xs + c * s + i % s] (y, dy: the same with ys). It takes
// them kBnGroup at a time, so that a kernel issues all of a group's loads before it uses any.
// Why: a loop body of load, compute, store keeps one load in flight per thread, far too few
// bytes for HBM (Little's law: ~3 MB in flight at 4.8 TB/s), and the streamed schedule's
// evict-first loads and stores are volatile asm, which the compiler neither unrolls nor reorders.
#pragma once

#include <cstdint>

#include "batchnorm.h"
#include "hd.h"

#if defined(__CUDACC__)
#define CUTRAIN_UNROLL _Pragma("unroll")
#else
#define CUTRAIN_UNROLL
#endif

namespace cutrain::kernels {

constexpr int kBnGroup = 4;

/// kBnGroup consecutive values of one thread: their offsets in x (and dx) and in y (and dy).
/// A prefix of `count` >= 1 is valid; the offsets past it point beyond the range, never read.
struct BnGroup {
  int64_t ax[kBnGroup], ay[kBnGroup];
  bool valid[kBnGroup];
  int count;
};

/// Calls f(const BnGroup&) for thread `thread` of `threads` over channel c's values [begin, end).
/// The stride is split once into q whole samples and rem values, so the walk divides nothing.
template <class F>
CUTRAIN_HD void bn_for_each_group(const BnDims& d, int64_t c, int64_t begin, int64_t end,
                                  int64_t thread, int64_t threads, F&& f) {
  int64_t i = begin + thread;
  if (i >= end) return;
  const int64_t xs = d.xs(), ys = d.ys(), channel = c * d.s;
  const int64_t q = threads / d.s, rem = threads - q * d.s;
  int64_t sample = i / d.s, j = i - sample * d.s;
  for (; i < end; i += kBnGroup * threads) {
    BnGroup g;
    g.count = 0;
    CUTRAIN_UNROLL
    for (int k = 0; k < kBnGroup; ++k) {
      g.valid[k] = i + k * threads < end;
      g.count += g.valid[k] ? 1 : 0;
      g.ax[k] = sample * xs + channel + j;
      g.ay[k] = sample * ys + channel + j;
      j += rem;
      sample += q;
      if (j >= d.s) {  // rem < s: wrapped into the next sample at most once
        j -= d.s;
        ++sample;
      }
    }
    f(g);
  }
}

/// One thread's moments of its (shifted) values, in float: count, mean and sum of squared
/// deviations M2.
struct BnThreadMoments {
  float count = 0.0f, mean = 0.0f, m2 = 0.0f;
};

/// Adds a group's valid values v[k]: the group's own mean and M2 (two passes over registers),
/// then Chan's merge, so two divisions per group rather than Welford's one per value.
CUTRAIN_HD void bn_add_group(BnThreadMoments& t, const float (&v)[kBnGroup], const BnGroup& g) {
  float sum = 0.0f;
  CUTRAIN_UNROLL
  for (int k = 0; k < kBnGroup; ++k) sum += g.valid[k] ? v[k] : 0.0f;
  const auto n = static_cast<float>(g.count);
  const float mean = sum / n;
  float m2 = 0.0f;
  CUTRAIN_UNROLL
  for (int k = 0; k < kBnGroup; ++k) {
    const float dev = v[k] - mean;
    m2 += g.valid[k] ? dev * dev : 0.0f;
  }
  const float count = t.count + n;
  const float delta = mean - t.mean;
  const float weight = n / count;  // 1 for the first group: t becomes the group
  t.m2 += m2 + delta * delta * t.count * weight;
  t.mean += delta * weight;
  t.count = count;
}

}  // namespace cutrain::kernels
