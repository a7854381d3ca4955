// LeNet-5 for 1x28x28 Fashion-MNIST as in d2l: conv 6@5x5 pad 2, pool, conv 16@5x5, pool,
// dense 120, 84, 10. "classic" uses sigmoid and average pooling; the modern one ReLU and max.
#include "cutrain/error.h"
#include "cutrain/models/activation.h"
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

std::vector<std::string> model_names() { return {"lenet", "lenet-classic"}; }

Sequential make_model(const std::string& name) {
  if (name == "lenet") return make_lenet(false);
  if (name == "lenet-classic") return make_lenet(true);
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("--model: unknown model '" + name + "' (available: " + known + ")");
}

}  // namespace cutrain
