// ResNet-18 as in d2l (shared/reference/models.md):
//   stem: conv 64@7x7 stride 2 pad 3, BN, ReLU, max-pool 3x3 stride 2 pad 1
//   4 stages of 2 residual blocks with 64, 128, 256, 512 channels; the first block of stages
//   2-4 halves H and W (conv1 stride 2) and takes a 1x1 stride-2 conv as its shortcut
//   global average pool, flatten, dense 10
// For a 1x96x96 input: stem [64, 24, 24], stages [64, 24, 24] [128, 12, 12] [256, 6, 6]
// [512, 3, 3], pool [512, 1, 1], [512], [10]. Global pooling makes the head independent of the
// input size (1x28x28 gives 7, 4, 2, 1 per side).
#include "cutrain/error.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/global_avg_pool.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/pooling.h"
#include "cutrain/models/registry.h"
#include "cutrain/models/residual_block.h"

namespace cutrain {

namespace detail {
// The stem both networks share (d2l's b1): conv 7x7/2, BN + ReLU (fused), max-pool 3x3/2 pad 1.
void add_resnet_stem(Sequential& net, int64_t in_channels) {
  BatchNormOptions relu;
  relu.fuse_relu = true;
  net.add(std::make_unique<Conv2d>(Conv2dOptions{in_channels, 64, 7, 2, 3}))
      .add(BatchNorm2d(64, relu))
      .add(MaxPool2d(3, 2, 1));
}
}  // namespace detail

Sequential make_resnet18(const Shape& sample_shape) {
  if (sample_shape.size() != 3 || sample_shape[0] < 1)
    throw ConfigError("resnet18: expected a sample shape [C, H, W], got " +
                      to_string(sample_shape));
  Sequential net;
  detail::add_resnet_stem(net, sample_shape[0]);
  int64_t channels = 64;
  for (int64_t stage_channels : {64, 128, 256, 512}) {
    for (int block = 0; block < 2; ++block) {
      ResidualBlockOptions o;
      o.in_channels = channels;
      o.out_channels = stage_channels;
      const bool first_of_later_stage = block == 0 && stage_channels != 64;
      o.stride = first_of_later_stage ? 2 : 1;
      o.use_1x1conv = first_of_later_stage;
      net.add(std::make_unique<ResidualBlock>(o));
      channels = stage_channels;
    }
  }
  net.add(std::make_unique<GlobalAvgPool2d>())
      .add(std::make_unique<Flatten>())
      .add(std::make_unique<Linear>(channels, 10));
  return net;
}

}  // namespace cutrain
