// Trains a small dense network for a few steps on generated data through the installed public
// API only, with one layer of its own (LearnedScale); exits 0 when the loss went down.
#include <cutrain/context.h>
#include <cutrain/error.h>
#include <cutrain/models/activation.h>
#include <cutrain/models/layer.h>
#include <cutrain/models/linear.h>
#include <cutrain/models/sequential.h>
#include <cutrain/models/softmax_cross_entropy.h>
#include <cutrain/optim/optimizer.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace {

// A layer of the program's own: y = a * x with one learned scalar a (CPU only; a CUDA version
// would launch its kernels on ctx.stream()). backward overwrites the gradient, as every layer does.
class LearnedScale : public cutrain::Layer {
 public:
  std::string kind() const override { return "learned_scale"; }
  cutrain::Shape build(const cutrain::Shape& input_shape, cutrain::Device device,
                       cutrain::Rng&) override {
    if (device != cutrain::Device::CPU) throw cutrain::ConfigError("learned_scale: CPU only");
    a_ = cutrain::Tensor::from_vector({1.0f}, {1}, device);
    da_ = cutrain::Tensor::zeros({1}, device);
    return input_shape;
  }
  void forward(const cutrain::Tensor& x, cutrain::Tensor& y, cutrain::Context&) override {
    for (int64_t i = 0; i < x.numel(); ++i) y.data()[i] = a_.data()[0] * x.data()[i];
  }
  void backward(const cutrain::Tensor& x, const cutrain::Tensor&, const cutrain::Tensor& dy,
                cutrain::Tensor* dx, cutrain::Context&) override {
    double da = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      da += static_cast<double>(x.data()[i]) * dy.data()[i];
      if (dx) dx->data()[i] = a_.data()[0] * dy.data()[i];
    }
    da_.data()[0] = static_cast<float>(da);
  }
  std::vector<cutrain::Parameter> parameters() override { return {{"a", &a_, &da_}}; }

 private:
  cutrain::Tensor a_, da_;
};

}  // namespace

int main() {
  using namespace cutrain;
  const int64_t n = 64, features = 8;
  Context ctx(Device::CPU);
  Sequential net;
  net.add(std::make_unique<Linear>(features, 16))
      .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
      .add(std::make_unique<LearnedScale>())
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
  const float a = net.parameters()[2].value->to_vector()[0];
  std::printf(
      "consumer: loss %.4f -> %.4f, accuracy %.2f, learned scale %.4f (cutrain built %s "
      "CUDA)\n",
      first, last, sums[1] / n, a, cuda_built() ? "with" : "without");
  // The custom layer took part: its parameter reached the optimizer and moved.
  return last < 0.5f * first && a != 1.0f ? 0 : 1;
}
