// Network builders by name (an explicit table, no static self-registration).
#pragma once

#include <string>
#include <vector>

#include "cutrain/models/sequential.h"

namespace cutrain {

/// Names accepted by make_model: "lenet" (ReLU, max-pool), "lenet-classic" (sigmoid, average
/// pool) and "lenet-bn" (LeNet with batch normalization), for 1x28x28 input; "resnet18" and
/// "densenet" (d2l's, for any [C, H, W] input: 1x96x96 in the book, 1x28x28 works too); all
/// with 10 classes.
std::vector<std::string> model_names();
/// An unbuilt network for 1x28x28 samples; throws ConfigError naming the available models for
/// an unknown name.
Sequential make_model(const std::string& name);
/// An unbuilt network for samples of `sample_shape` [C, H, W] (build it with the same shape).
/// The LeNets accept only 1x28x28.
Sequential make_model(const std::string& name, const Shape& sample_shape);

Sequential make_lenet(bool classic);
/// LeNet-BN (shared/reference/models.md): BN after each convolution and hidden dense layer.
Sequential make_lenet_bn();
/// ResNet-18 (d2l): 7x7/2 conv stem + 3x3/2 max-pool, 4 stages of 2 residual blocks (64, 128,
/// 256, 512 channels), global average pool, dense 10.
Sequential make_resnet18(const Shape& sample_shape);
/// DenseNet (d2l): the same stem, 4 dense blocks of 4 conv blocks with growth 32, transitions
/// halving channels and H, W (the pool is left out where H or W is already 1), BN, ReLU,
/// global average pool, dense 10.
Sequential make_densenet(const Shape& sample_shape);

}  // namespace cutrain
