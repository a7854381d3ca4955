#include "bench/bench_timing.h"

#include <algorithm>

#include "cutrain/rng.h"

namespace cutrain::detail {

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

Tensor random_tensor(const Shape& shape, Device device, uint64_t seed, float lo, float hi) {
  std::vector<float> host(static_cast<size_t>(numel_of(shape)));
  Rng rng(seed);
  for (float& x : host) x = rng.uniform(lo, hi);
  return Tensor::from_vector(host, shape, device);
}

double copy_gbps(Context& ctx, int64_t floats, int warmup, int iterations) {
  const Tensor src = Tensor::zeros(Shape{floats}, ctx.device());
  Tensor dst(Shape{floats}, ctx.device());
  const std::vector<double> copy =
      time_us(ctx, warmup, iterations, [&] { dst.copy_from(src, ctx.stream()); });
  return 2.0 * static_cast<double>(floats) * sizeof(float) / (median(copy) * 1e3);
}

}  // namespace cutrain::detail
