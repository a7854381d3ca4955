#include "cutrain/lab/regression.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>
#include <utility>

#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/lab/trace.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/sequential.h"
#include "cutrain/rng.h"
#include "lab/single_thread.h"

namespace cutrain::lab {
namespace {

using Clock = std::chrono::steady_clock;

// Loss of the model over the whole data set: one forward of all rows (the model is built for
// max(count, batch) rows).
double full_loss(Sequential& model, const Tensor& x_all, const std::vector<float>& y,
                 Context& ctx) {
  const Tensor& out = model.forward(x_all, ctx);
  return squared_loss(out.data(), y.data(), x_all.dim(0));
}

// The book's initialisation: w ~ N(0, std^2), b = 0.
void init_like_book(Sequential& model, double std_dev, uint64_t seed) {
  Rng rng(seed ^ 0x6c616273ull);  // a stream apart from the shuffling's
  for (const Parameter& p : model.parameters()) {
    std::vector<float> v(static_cast<size_t>(p.value->numel()), 0.0f);
    if (p.value->rank() >= 2)
      for (float& w : v) w = static_cast<float>(std_dev * rng.normal());
    p.value->copy_from_host(v.data(), p.value->numel());
  }
}

}  // namespace

double squared_loss(const float* y_hat, const float* y, int64_t n, float* dy) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(y_hat[i]) - static_cast<double>(y[i]);
    sum += 0.5 * d * d;
    if (dy) dy[i] = static_cast<float>(d / static_cast<double>(n));
  }
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

RegressionResult run_regression(const RegressionData& data, const RegressionOptions& o,
                                const std::function<void(const LossPoint&)>& on_point) {
  if (data.count < 1 || data.features < 1) throw DataError("regression: empty data set");
  if (static_cast<int64_t>(data.x.size()) != data.count * data.features ||
      static_cast<int64_t>(data.y.size()) != data.count)
    throw DataError("regression: x and y do not match count and features");
  if (o.batch_size < 1) throw ConfigError("--batch-size: expected at least 1");
  if (o.epochs < 1) throw ConfigError("--epochs: expected at least 1");
  if (o.eval_every < 1) throw ConfigError("--eval-every: expected at least 1 example");
  if (!(o.init_std >= 0.0)) throw ConfigError("init_std: expected a value >= 0");

  const detail::SingleThreadScope single_thread;
  const int64_t n = data.count, d = data.features, batch = std::min(o.batch_size, n);
  Context ctx(Device::CPU);
  Sequential model;
  model.add(std::make_unique<Linear>(d, 1));
  model.build({d}, std::max(n, batch), Device::CPU, o.seed);
  init_like_book(model, o.init_std, o.seed);
  std::vector<ParamGroup> groups(1);
  groups[0].params = model.parameters();
  std::unique_ptr<Optimizer> opt = make_optimizer(o.optimizer, std::move(groups), o.optim, ctx);
  OptimizerOptions used = o.optim;
  used.lr = opt->lr();

  RegressionResult result;
  result.description = describe_optimizer(o.optimizer, used) + ", batch " + std::to_string(batch) +
                       ", " + std::to_string(o.epochs) + " epochs";
  const Tensor x_all = Tensor::from_vector(data.x, {n, d}, Device::CPU);
  Tensor xb({batch, d}, Device::CPU);
  std::vector<float> yb(static_cast<size_t>(batch));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng shuffle(o.seed);

  int64_t seen = 0;
  double seconds = 0.0;
  auto evaluate = [&]() {
    LossPoint p;
    p.examples = seen;
    p.epoch = static_cast<double>(seen) / static_cast<double>(n);
    p.seconds = seconds;
    p.loss = full_loss(model, x_all, data.y, ctx);
    if (on_point) on_point(p);
    result.curve.push_back(p);
  };
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates, one permutation per epoch
      std::swap(order[i], order[shuffle.below(static_cast<uint64_t>(i + 1))]);
    for (int64_t first = 0; first < n; first += batch) {
      const auto start = Clock::now();
      const int64_t m = std::min(batch, n - first);
      float* xp = xb.data();
      for (int64_t r = 0; r < m; ++r) {
        const int64_t src = order[first + r];
        std::copy_n(data.x.data() + src * d, d, xp + r * d);
        yb[r] = data.y[src];
      }
      const Tensor x = xb.narrow_batch(m);
      const Tensor& out = model.forward(x, ctx);
      squared_loss(out.data(), yb.data(), m, model.output_grad().data());
      model.backward(ctx);
      opt->step(ctx);
      seconds += std::chrono::duration<double>(Clock::now() - start).count();
      const int64_t before = seen;
      seen += m;
      // d2l evaluates when the example count hits a multiple of 200; with batches that do not
      // divide 200 this evaluates when a multiple is passed instead.
      if (seen / o.eval_every != before / o.eval_every) evaluate();
    }
  }
  if (result.curve.empty() || result.curve.back().examples != seen) evaluate();

  result.final_loss = result.curve.back().loss;
  result.seconds = seconds;
  for (const Parameter& p : model.parameters()) {
    const std::vector<float> v = p.value->to_vector();
    if (p.value->rank() >= 2)
      result.weight = v;
    else
      result.bias = v.at(0);
  }
  return result;
}

std::vector<RegressionRun> book_regression_runs(int64_t epochs, uint64_t seed) {
  std::vector<RegressionRun> runs;
  auto add = [&](const std::string& name, double lr, int64_t batch, auto&& set) {
    RegressionRun r;
    r.options.optimizer = name;
    r.options.optim.lr = lr;
    r.options.batch_size = batch;
    r.options.epochs = epochs;
    r.options.seed = seed;
    set(r.options);
    OptimizerOptions shown = r.options.optim;
    if (name == "adadelta") shown.lr.reset();  // the book gives only rho
    r.label = describe_optimizer(name, shown) + ", batch " + std::to_string(batch);
    runs.push_back(std::move(r));
  };
  auto none = [](RegressionOptions&) {};
  add("sgd", 1.0, 1500, none);  // GD: one update per epoch
  add("sgd", 0.005, 1, none);
  add("sgd", 0.05, 10, none);
  add("sgd", 0.4, 100, none);
  for (const auto& [lr, beta] : {std::pair{0.02, 0.5}, std::pair{0.01, 0.9}, std::pair{0.005, 0.9}})
    add("momentum", lr, 10, [beta = beta](RegressionOptions& o) { o.optim.momentum = beta; });
  add("adagrad", 0.1, 10, none);
  add("rmsprop", 0.01, 10, [](RegressionOptions& o) { o.optim.gamma = 0.9; });
  add("adadelta", 1.0, 10, [](RegressionOptions& o) { o.optim.rho = 0.9; });
  add("adam", 0.01, 10, none);
  add("yogi", 0.01, 10, none);
  return runs;
}

}  // namespace cutrain::lab
