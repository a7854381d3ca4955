// What the benchmarks share (private): samples of one timed body (CUDA events on the device, a
// steady clock on the CPU), their median, random inputs, and the copy bandwidth every
// bandwidth-bound op is compared against.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/stream.h"
#include "cutrain/tensor.h"

namespace cutrain::detail {

/// The middle sample (the upper one of an even count); `samples` must not be empty.
double median(std::vector<double> samples);

/// Values uniform in [lo, hi) from Rng(seed), on `device`.
Tensor random_tensor(const Shape& shape, Device device, uint64_t seed, float lo = -1.0f,
                     float hi = 1.0f);

/// Microseconds per call of `body`, `iterations` samples after `warmup` untimed calls. On CUDA,
/// body queues work on ctx.stream(); each sample is the events around `reps` back-to-back calls,
/// divided by reps: an event pair around a single few-microsecond launch times the host's
/// launch latency, not the device's work. reps doubles (up to kMaxReps) until a sample lasts
/// kSampleUs, the same calibration as bench/peers/adam_torch.py, and each sample follows one
/// untimed call.
template <typename F>
std::vector<double> time_us(Context& ctx, int warmup, int iterations, F&& body) {
  constexpr double kSampleUs = 200.0;
  constexpr int kMaxReps = 1024;
  for (int i = 0; i < warmup; ++i) body();
  ctx.synchronize();
  std::vector<double> samples;
  if (ctx.is_cuda()) {
    Event start, stop;
    // One untimed call first keeps the device busy while the host records `start` and queues
    // the timed calls: otherwise the time from `start` to the first launch (the host's work
    // before it: cuDNN's checks, a memset) counts as the op's, by up to 10 % at one or two reps.
    auto sample = [&](int reps) {
      body();
      start.record(ctx.stream());
      for (int r = 0; r < reps; ++r) body();
      stop.record(ctx.stream());
      stop.synchronize();
      return 1000.0 * stop.elapsed_ms_since(start) / reps;
    };
    int reps = 1;
    while (reps < kMaxReps && sample(reps) * reps < kSampleUs) reps *= 2;
    for (int i = 0; i < iterations; ++i) samples.push_back(sample(reps));
  } else {
    for (int i = 0; i < iterations; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      body();
      samples.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  return samples;
}

/// GB/s of copying `floats` floats to another buffer on ctx's device (each byte read and
/// written, so 8 bytes per float), from the median of `iterations` copies.
double copy_gbps(Context& ctx, int64_t floats, int warmup, int iterations);

}  // namespace cutrain::detail
