// Trains a small dense network for a few steps on generated data through the installed public
// API only; exits 0 when the loss went down.
#include <cutrain/context.h>
#include <cutrain/models/activation.h>
#include <cutrain/models/linear.h>
#include <cutrain/models/sequential.h>
#include <cutrain/models/softmax_cross_entropy.h>
#include <cutrain/optim/optimizer.h>

#include <cstdio>
#include <memory>
#include <vector>

int main() {
  using namespace cutrain;
  const int64_t n = 64, features = 8;
  Context ctx(Device::CPU);
  Sequential net;
  net.add(std::make_unique<Linear>(features, 16))
      .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
      .add(std::make_unique<Linear>(16, 2));
  net.build({features}, n, Device::CPU, 0);
  SoftmaxCrossEntropy loss;
  loss.build(n, Device::CPU);
  auto opt = make_optimizer("sgd", net.parameters(), 0.5, ctx);

  // Class 1 when the first feature is positive.
  Rng rng(1);
  std::vector<float> x(n * features), y(n);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t f = 0; f < features; ++f) x[i * features + f] = rng.uniform(-1.0f, 1.0f);
    y[i] = x[i * features] > 0 ? 1.0f : 0.0f;
  }
  Tensor xs = Tensor::from_vector(x, {n, features}, Device::CPU);
  Tensor ys = Tensor::from_vector(y, {n}, Device::CPU);

  float first = 0, last = 0, sums[2];
  for (int step = 0; step < 50; ++step) {
    loss.forward(net.forward(xs, ctx), ys, &net.output_grad(), sums, ctx);
    net.backward(ctx);
    opt->step(ctx);
    if (step == 0) first = sums[0] / n;
    last = sums[0] / n;
  }
  std::printf("consumer: loss %.4f -> %.4f, accuracy %.2f (cutrain built %s CUDA)\n", first, last,
              sums[1] / n, cuda_built() ? "with" : "without");
  return last < 0.5f * first ? 0 : 1;
}
