// LeNet-5 for 1x28x28 Fashion-MNIST as in d2l: conv 6@5x5 pad 2, pool, conv 16@5x5, pool,
// dense 120, 84, 10. "classic" uses sigmoid and average pooling; the modern one ReLU and max.
// LeNet-BN (d2l): batch normalization after each convolution and hidden dense layer.
#include "cutrain/error.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/pooling.h"
#include "cutrain/models/registry.h"

namespace cutrain {

Sequential make_lenet(bool classic) {
  const ActivationKind act = classic ? ActivationKind::Sigmoid : ActivationKind::ReLU;
  auto pool = [classic] { return classic ? AvgPool2d(2, 2) : MaxPool2d(2, 2); };
  auto activation = [act] { return std::make_unique<ActivationLayer>(act); };
  Sequential net;
  net.add(std::make_unique<Conv2d>(Conv2dOptions{1, 6, 5, 1, 2}))
      .add(activation())
      .add(pool())
      .add(std::make_unique<Conv2d>(Conv2dOptions{6, 16, 5, 1, 0}))
      .add(activation())
      .add(pool())
      .add(std::make_unique<Flatten>())
      .add(std::make_unique<Linear>(16 * 5 * 5, 120))
      .add(activation())
      .add(std::make_unique<Linear>(120, 84))
      .add(activation())
      .add(std::make_unique<Linear>(84, 10));
  return net;
}

// conv 6@5x5 (no padding: 28 -> 24), BN, sigmoid, avgpool -> 12; conv 16@5x5 -> 8, BN, sigmoid,
// avgpool -> 4; flatten 16*4*4; dense 120, BN, sigmoid; dense 84, BN, sigmoid; dense 10.
Sequential make_lenet_bn() {
  auto sigmoid = [] { return std::make_unique<ActivationLayer>(ActivationKind::Sigmoid); };
  Sequential net;
  net.add(std::make_unique<Conv2d>(Conv2dOptions{1, 6, 5, 1, 0}))
      .add(BatchNorm2d(6))
      .add(sigmoid())
      .add(AvgPool2d(2, 2))
      .add(std::make_unique<Conv2d>(Conv2dOptions{6, 16, 5, 1, 0}))
      .add(BatchNorm2d(16))
      .add(sigmoid())
      .add(AvgPool2d(2, 2))
      .add(std::make_unique<Flatten>())
      .add(std::make_unique<Linear>(16 * 4 * 4, 120))
      .add(BatchNorm1d(120))
      .add(sigmoid())
      .add(std::make_unique<Linear>(120, 84))
      .add(BatchNorm1d(84))
      .add(sigmoid())
      .add(std::make_unique<Linear>(84, 10));
  return net;
}

std::vector<std::string> model_names() {
  return {"lenet", "lenet-classic", "lenet-bn", "resnet18", "densenet"};
}

Sequential make_model(const std::string& name) { return make_model(name, Shape{1, 28, 28}); }

Sequential make_model(const std::string& name, const Shape& sample_shape) {
  if (name == "lenet" || name == "lenet-classic" || name == "lenet-bn") {
    if (sample_shape != Shape{1, 28, 28})
      throw ConfigError("model " + name + " takes 1x28x28 samples, not " + to_string(sample_shape) +
                        " (no --resize with the LeNets)");
    return name == "lenet-bn" ? make_lenet_bn() : make_lenet(name == "lenet-classic");
  }
  if (name == "resnet18") return make_resnet18(sample_shape);
  if (name == "densenet") return make_densenet(sample_shape);
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("--model: unknown model '" + name + "' (available: " + known + ")");
}

}  // namespace cutrain
