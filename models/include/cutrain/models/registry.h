// Network builders by name (an explicit table, no static self-registration).
#pragma once

#include <string>
#include <vector>

#include "cutrain/models/sequential.h"

namespace cutrain {

/// Names accepted by make_model: "lenet" (ReLU, max-pool), "lenet-classic" (sigmoid, average
/// pool) and "lenet-bn" (LeNet with batch normalization), all for 1x28x28 input and 10 classes.
std::vector<std::string> model_names();
/// An unbuilt network; throws ConfigError naming the available models for an unknown name.
Sequential make_model(const std::string& name);

Sequential make_lenet(bool classic);
/// LeNet-BN (shared/reference/models.md): BN after each convolution and hidden dense layer.
Sequential make_lenet_bn();

}  // namespace cutrain
