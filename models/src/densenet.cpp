// DenseNet as in d2l (shared/reference/models.md), growth rate 32, blocks [4, 4, 4, 4]:
//   stem: conv 64@7x7 stride 2 pad 3, BN, ReLU, max-pool 3x3 stride 2 pad 1 (ResNet's)
//   4 dense blocks (each adds 4 * 32 channels), between them transitions: BN, ReLU,
//   conv 1x1 halving the channels, average pool 2x2 stride 2
//   BN, ReLU, global average pool, flatten, dense 10
// For a 1x96x96 input: stem [64, 24, 24]; block [192, 24, 24], transition [96, 12, 12];
// [224, 12, 12], [112, 6, 6]; [240, 6, 6], [120, 3, 3]; [248, 3, 3]; pool [248, 1, 1].
// Small inputs: a transition whose input is already 1x1 keeps it (its pool is left out: with
// 1x1x28x28 the stem gives 7x7 and the transitions 3x3, 1x1, 1x1). The parameters are the same
// for every input size.
#include "cutrain/error.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/dense_block.h"
#include "cutrain/models/global_avg_pool.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/pooling.h"
#include "cutrain/models/registry.h"

namespace cutrain {

namespace detail {
void add_resnet_stem(Sequential& net, int64_t in_channels);  // resnet.cpp
}  // namespace detail

namespace {
// Output side of the stem for an input side: conv 7/2 pad 3, then max-pool 3/2 pad 1.
int64_t stem_side(int64_t side) {
  const int64_t conv = (side + 2 * 3 - 7) / 2 + 1;
  return (conv + 2 * 1 - 3) / 2 + 1;
}
}  // namespace

Sequential make_densenet(const Shape& sample_shape) {
  if (sample_shape.size() != 3 || sample_shape[0] < 1 || sample_shape[1] < 1 || sample_shape[2] < 1)
    throw ConfigError("densenet: expected a sample shape [C, H, W], got " +
                      to_string(sample_shape));
  constexpr int64_t kGrowth = 32, kConvs = 4, kBlocks = 4;
  BatchNormOptions relu;
  relu.fuse_relu = true;
  Sequential net;
  detail::add_resnet_stem(net, sample_shape[0]);
  int64_t channels = 64;
  int64_t h = stem_side(sample_shape[1]), w = stem_side(sample_shape[2]);
  for (int64_t b = 0; b < kBlocks; ++b) {
    net.add(std::make_unique<DenseBlock>(DenseBlockOptions{channels, kGrowth, kConvs}));
    channels += kConvs * kGrowth;
    if (b == kBlocks - 1) break;
    net.add(BatchNorm2d(channels, relu))
        .add(std::make_unique<Conv2d>(Conv2dOptions{channels, channels / 2, 1, 1, 0}));
    channels /= 2;
    if (h >= 2 && w >= 2) {
      net.add(AvgPool2d(2, 2));
      h /= 2;
      w /= 2;
    }
  }
  net.add(BatchNorm2d(channels, relu))
      .add(std::make_unique<GlobalAvgPool2d>())
      .add(std::make_unique<Flatten>())
      .add(std::make_unique<Linear>(channels, 10));
  return net;
}

}  // namespace cutrain
