#include "cutrain/bench/layer_timing.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "busy_wait.h"
#include "cutrain/error.h"
#include "cutrain/rng.h"

namespace cutrain {
namespace {

// Marks the start and end of every layer call of one pass.
class Marks {
 public:
  Marks(size_t layers, bool cuda) : cuda_(cuda), host_(2 * 2 * layers) {
    if (cuda)
      for (size_t i = 0; i < 2 * 2 * layers; ++i) events_.push_back(std::make_unique<Event>());
  }
  void mark(size_t layer, bool backward, bool after, cudaStream_t stream) {
    const size_t k = (2 * layer + (backward ? 1 : 0)) * 2 + (after ? 1 : 0);
    if (cuda_)
      events_[k]->record(stream);
    else
      host_[k] = std::chrono::steady_clock::now();
  }
  double ms(size_t layer, bool backward) const {
    const size_t k = (2 * layer + (backward ? 1 : 0)) * 2;
    if (cuda_) return events_[k + 1]->elapsed_ms_since(*events_[k]);
    return std::chrono::duration<double, std::milli>(host_[k + 1] - host_[k]).count();
  }

 private:
  bool cuda_;
  std::vector<std::unique_ptr<Event>> events_;
  std::vector<std::chrono::steady_clock::time_point> host_;
};

}  // namespace

NetworkTiming time_layers(Sequential& model, const Shape& sample_shape, int warmup,
                          int iterations, Context& ctx) {
  if (iterations < 1 || warmup < 0) throw ConfigError("time: --iterations must be >= 1");
  Shape in{model.max_batch()};
  in.insert(in.end(), sample_shape.begin(), sample_shape.end());
  std::vector<float> host(static_cast<size_t>(numel_of(in)));
  Rng rng(1);
  for (float& v : host) v = rng.uniform();
  const Tensor x = Tensor::from_vector(host, in, ctx.device());
  std::vector<float> grad(static_cast<size_t>(numel_of(model.output_shape())));
  for (float& v : grad) v = rng.uniform(-1e-3f, 1e-3f);
  // On the device already: a copy from pageable host memory may wait for the stream, which
  // would stop the host from queueing ahead of the device.
  const Tensor dy = Tensor::from_vector(grad, model.output_shape(), ctx.device());

  const size_t n = model.layers().size();
  Marks marks(n, ctx.is_cuda());
  NetworkTiming t;
  t.layers.resize(n);
  for (size_t i = 0; i < n; ++i) {
    t.layers[i].name = std::to_string(i) + "." + model.layers()[i]->kind();
    if (model.absorbed(i + 1)) t.layers[i].name += "+" + model.layers()[i + 1]->kind();
    if (model.absorbed(i)) t.layers[i].name += " (in " + std::to_string(i - 1) + ")";
  }
  model.set_training(true);
  // CUDA: the device waits (busy_wait.h) for twice the host's time to queue the last iteration
  // before each timed one, so every launch and event is queued before the device reaches it and
  // the events time kernels, not launches.
  double enqueue_us = 1000.0;
  for (int it = 0; it < warmup + iterations; ++it) {
    const bool timed = it >= warmup;
    model.set_layer_hook(timed ? Sequential::LayerHook([&](size_t l, bool bwd, bool after) {
      marks.mark(l, bwd, after, ctx.stream());
    })
                               : Sequential::LayerHook());
    if (timed && ctx.is_cuda())
      kernels::launch_busy_wait(static_cast<int64_t>(std::min(1e6, 2.0 * enqueue_us + 100.0)),
                                ctx.stream());
    const auto queued_from = std::chrono::steady_clock::now();
    model.forward(x, ctx);
    model.output_grad().copy_from(dy, ctx.stream());
    model.backward(ctx);
    enqueue_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - queued_from)
            .count();
    ctx.synchronize();
    if (!timed) continue;
    for (size_t i = 0; i < n; ++i) {
      if (model.layers()[i]->is_reshape() || model.absorbed(i)) continue;  // never called
      const double f = marks.ms(i, false), b = marks.ms(i, true);
      t.layers[i].forward_ms += f / iterations;
      t.layers[i].backward_ms += b / iterations;
      t.forward_ms += f / iterations;
      t.backward_ms += b / iterations;
    }
  }
  model.set_layer_hook({});
  t.iterations = iterations;
  return t;
}

}  // namespace cutrain
