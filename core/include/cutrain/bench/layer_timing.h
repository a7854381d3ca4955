// Per-layer timing of a network (like `caffe time`): forward and backward milliseconds of each
// layer, averaged over iterations after a warm-up, on random input. CUDA times come from
// events recorded around each layer (no synchronisation inside an iteration); CPU times from a
// steady clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cutrain/models/sequential.h"

namespace cutrain {

struct LayerTime {
  std::string name;  ///< "3.conv2d"
  double forward_ms = 0, backward_ms = 0;
};

struct NetworkTiming {
  std::vector<LayerTime> layers;
  double forward_ms = 0, backward_ms = 0;  ///< whole passes (loss excluded)
  int iterations = 0;
};

/// `model` must be built on ctx's device; its input is [max_batch, sample_shape...].
NetworkTiming time_layers(Sequential& model, const Shape& sample_shape, int warmup,
                          int iterations, Context& ctx);

}  // namespace cutrain
