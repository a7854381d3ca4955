// The nine fused optimizers through make_optimizer on the CPU against the update rules of
// shared/reference/optimizers.md, written out again here in double (never through the
// library's update_element): three steps with changing gradients and learning rates, two
// parameter groups (one decayed, one with lr_scale 0.5 and no decay), default and non-default
// hyperparameters; parameters and every state tensor are compared after each step.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/tensor.h"

namespace cutrain {
namespace {

constexpr double kRtol = 1e-5;

// The library keeps hyperparameters, learning rates and scales in float: the reference rounds
// each constant to float once and then works in double. (Without it 1 - 0.999 would be 1.3e-5
// away, relatively, from 1 - 0.999f and Adam's s alone would exceed the tolerance.)
double F(double v) { return static_cast<double>(static_cast<float>(v)); }

// Default eps of each rule, from the table of optimizers.md (sgd and momentum use none).
double spec_default_eps(const std::string& rule) {
  if (rule == "adadelta") return 1e-5;
  if (rule == "yogi") return 1e-3;
  return 1e-6;
}

// Names of the state tensors save_state reports per parameter ("<param>.<slot>").
std::vector<std::string> slot_names(const std::string& rule) {
  if (rule == "sgd") return {};
  if (rule == "momentum" || rule == "nesterov") return {"v"};
  if (rule == "adagrad" || rule == "rmsprop") return {"s"};
  if (rule == "adadelta") return {"s", "delta"};
  return {"v", "s"};  // adam, adamw, yogi
}

struct Hyper {  // already rounded to float
  double momentum, beta1, beta2, gamma, rho, eps;
};

Hyper hyper_of(const std::string& rule, const OptimizerOptions& o) {
  return {F(o.momentum), F(o.beta1), F(o.beta2),
          F(o.gamma),    F(o.rho),   F(o.eps.value_or(spec_default_eps(rule)))};
}

struct RefState {
  double a = 0.0, b = 0.0;  // the rule's state tensors in slot_names order, 0 initially
};

// One step of `rule` on one element x with gradient g at step t (from 1), group learning rate
// eta and group weight decay wd, exactly as the table of optimizers.md writes it.
double ref_step(const std::string& rule, const Hyper& h, double eta, double wd, int t, double x,
                double g, RefState& st) {
  if (rule != "adamw") g += wd * x;  // L2 folded into the gradient
  if (rule == "sgd") return x - eta * g;
  if (rule == "momentum") {  // v = beta v + g; x -= eta v
    st.a = h.momentum * st.a + g;
    return x - eta * st.a;
  }
  if (rule == "nesterov") {  // v = beta v + g; x -= eta (g + beta v)
    st.a = h.momentum * st.a + g;
    return x - eta * (g + h.momentum * st.a);
  }
  if (rule == "adagrad") {  // s += g^2; x -= eta g / sqrt(s + eps)
    st.a += g * g;
    return x - eta * g / std::sqrt(st.a + h.eps);
  }
  if (rule == "rmsprop") {  // s = gamma s + (1 - gamma) g^2; x -= eta g / sqrt(s + eps)
    st.a = h.gamma * st.a + (1.0 - h.gamma) * g * g;
    return x - eta * g / std::sqrt(st.a + h.eps);
  }
  if (rule == "adadelta") {  // s, dx; eta multiplies g' in the update only (PyTorch's lr)
    st.a = h.rho * st.a + (1.0 - h.rho) * g * g;
    const double gp = std::sqrt(st.b + h.eps) / std::sqrt(st.a + h.eps) * g;
    st.b = h.rho * st.b + (1.0 - h.rho) * gp * gp;
    return x - eta * gp;
  }
  // adam, adamw, yogi: v, s
  if (rule == "adamw") x -= eta * wd * x;  // decoupled decay before the adam step
  st.a = h.beta1 * st.a + (1.0 - h.beta1) * g;
  if (rule == "yogi") {
    const double d = g * g - st.b;
    st.b += (1.0 - h.beta2) * g * g * ((d > 0.0) - (d < 0.0));
  } else {
    st.b = h.beta2 * st.b + (1.0 - h.beta2) * g * g;
  }
  const double vh = st.a / (1.0 - std::pow(h.beta1, t));
  const double sh = st.b / (1.0 - std::pow(h.beta2, t));
  return x - eta * vh / (std::sqrt(sh) + h.eps);
}

// Parameter "w" [2, 2] in a group with the options' weight decay; "b" [3] in a group with
// lr_scale 0.5 and weight decay 0. Gradients keep their sign per element (no cancellation in
// v), b[1]'s are tiny so that eps matters, and b[2]'s drop below sqrt(s) at step 2 (Yogi's
// sign(g^2 - s) turns negative there, with a wide margin).
const std::vector<float> kW0 = {0.8f, -1.2f, 1.5f, -2.5f};
const std::vector<float> kB0 = {2.0f, -0.5f, 1.0f};
const std::vector<float> kGw[3] = {
    {0.5f, -0.3f, 1.2f, -2.0f}, {0.25f, -0.9f, 0.6f, -1.0f}, {0.7f, -0.2f, 0.4f, -0.5f}};
const std::vector<float> kGb[3] = {
    {-1.0f, 2e-4f, 3.0f}, {-0.5f, 4e-4f, 0.01f}, {-2.0f, 1e-4f, 0.5f}};
constexpr double kScaleB = 0.5;

struct Model {
  Tensor w = Tensor::from_vector(kW0, {2, 2}, Device::CPU);
  Tensor gw = Tensor::zeros({2, 2}, Device::CPU);
  Tensor b = Tensor::from_vector(kB0, {3}, Device::CPU);
  Tensor gb = Tensor::zeros({3}, Device::CPU);
  std::vector<ParamGroup> groups() {
    ParamGroup decayed, plain;
    decayed.params = {{"w", &w, &gw}};  // weight decay from OptimizerOptions
    plain.params = {{"b", &b, &gb}};
    plain.lr_scale = kScaleB;
    plain.weight_decay = 0.0;
    return {decayed, plain};
  }
};

void expect_rel(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, kRtol * std::abs(want)) << what;
}

// Three steps at learning rates lrs (set_lr before steps 2 and 3) against ref_step.
void check_three_steps(const std::string& rule, OptimizerOptions o, const double (&lrs)[3]) {
  Context ctx(Device::CPU);
  Model m;
  o.lr = lrs[0];
  auto opt = make_optimizer(rule, m.groups(), o, ctx);
  ASSERT_EQ(opt->name(), rule);
  const Hyper h = hyper_of(rule, o);
  const double wd = F(o.weight_decay);
  std::vector<double> w(kW0.begin(), kW0.end()), b(kB0.begin(), kB0.end());
  std::vector<RefState> sw(w.size()), sb(b.size());
  for (int s = 0; s < 3; ++s) {
    SCOPED_TRACE("step " + std::to_string(s + 1));
    if (s > 0) opt->set_lr(lrs[s]);
    m.gw.copy_from_host(kGw[s].data(), 4);
    m.gb.copy_from_host(kGb[s].data(), 3);
    opt->step(ctx);
    EXPECT_EQ(opt->steps(), s + 1);
    const double eta = F(lrs[s]);
    // The library multiplies the float learning rate by the float group scale, in float.
    const double eta_b = F(F(lrs[s]) * F(kScaleB));
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = ref_step(rule, h, eta, wd, s + 1, w[i], kGw[s][i], sw[i]);
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = ref_step(rule, h, eta_b, 0.0, s + 1, b[i], kGb[s][i], sb[i]);

    const std::vector<float> gw = m.w.to_vector(), gb = m.b.to_vector();
    for (size_t i = 0; i < w.size(); ++i) expect_rel(gw[i], w[i], "w[" + std::to_string(i) + "]");
    for (size_t i = 0; i < b.size(); ++i) expect_rel(gb[i], b[i], "b[" + std::to_string(i) + "]");

    const OptimizerState state = opt->save_state(ctx);
    EXPECT_EQ(state.steps, s + 1);
    const std::vector<std::string> slots = slot_names(rule);
    ASSERT_EQ(state.tensors.size(), 2 * slots.size());
    for (size_t k = 0; k < slots.size(); ++k) {
      const auto& [wname, wv] = state.tensors[k];
      const auto& [bname, bv] = state.tensors[slots.size() + k];
      EXPECT_EQ(wname, "w." + slots[k]);
      EXPECT_EQ(bname, "b." + slots[k]);
      ASSERT_EQ(wv.size(), w.size());
      ASSERT_EQ(bv.size(), b.size());
      for (size_t i = 0; i < w.size(); ++i)
        expect_rel(wv[i], k == 0 ? sw[i].a : sw[i].b, wname + "[" + std::to_string(i) + "]");
      for (size_t i = 0; i < b.size(); ++i)
        expect_rel(bv[i], k == 0 ? sb[i].a : sb[i].b, bname + "[" + std::to_string(i) + "]");
    }
  }
}

class OptimClosedForm : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimClosedForm, ThreeStepsWithDefaultHyperparameters) {
  const std::string rule = GetParam();
  OptimizerOptions o;  // eps unset: the rule's default
  o.weight_decay = 0.1;
  const double base = rule == "adadelta" ? 1.0 : 0.1;
  check_three_steps(rule, o, {base, 0.5 * base, 2.0 * base});
}

TEST_P(OptimClosedForm, ThreeStepsWithCustomHyperparameters) {
  const std::string rule = GetParam();
  OptimizerOptions o;
  o.momentum = 0.5;
  o.beta1 = 0.8;
  o.beta2 = 0.99;
  o.gamma = 0.8;
  o.rho = 0.95;
  o.eps = 1e-3;
  o.weight_decay = 0.05;
  const double base = rule == "adadelta" ? 0.5 : 0.2;
  check_three_steps(rule, o, {base, 1.5 * base, 0.25 * base});
}

INSTANTIATE_TEST_SUITE_P(OptimAll, OptimClosedForm,
                         ::testing::Values("sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                           "adadelta", "adam", "adamw", "yogi"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// First steps typed out as numbers, independent of ref_step: x0 = 1.5, g = 0.5, eta 0.1, no
// decay, default hyperparameters; second step of momentum / nesterov with g = -0.25.
TEST(OptimFirstStep, MatchesHandComputedValues) {
  struct Case {
    const char* rule;
    double x1, x2;
  };
  const double g = 0.5, g2 = -0.25;
  const Case cases[] = {
      {"sgd", 1.5 - 0.1 * g, 1.5 - 0.1 * g - 0.1 * g2},
      {"momentum", 1.5 - 0.1 * g, 1.5 - 0.1 * g - 0.1 * (0.9 * g + g2)},
      {"nesterov", 1.5 - 0.1 * (g + 0.9 * g),
       1.5 - 0.1 * 1.9 * g - 0.1 * (g2 + 0.9 * (0.9 * g + g2))},
      {"adagrad", 1.5 - 0.1 * g / std::sqrt(g * g + 1e-6), NAN},
      {"rmsprop", 1.5 - 0.1 * g / std::sqrt(0.1 * g * g + 1e-6), NAN},
      // dx = 0: g' = sqrt(eps) / sqrt(0.1 g^2 + eps) g, with eta = 0.1 multiplying it.
      {"adadelta", 1.5 - 0.1 * std::sqrt(1e-5) / std::sqrt(0.1 * g * g + 1e-5) * g, NAN},
      // Bias correction makes the first step eta * g / (|g| + eps).
      {"adam", 1.5 - 0.1 * g / (g + 1e-6), NAN},
      {"adamw", 1.5 - 0.1 * g / (g + 1e-6), NAN},
      {"yogi", 1.5 - 0.1 * g / (g + 1e-3), NAN},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    Context ctx(Device::CPU);
    Tensor x = Tensor::from_vector({1.5f}, {1}, Device::CPU);
    Tensor gx = Tensor::from_vector({static_cast<float>(g)}, {1}, Device::CPU);
    auto opt = make_optimizer(c.rule, std::vector<Parameter>{{"x", &x, &gx}}, 0.1, ctx);
    opt->step(ctx);
    expect_rel(x.to_vector()[0], c.x1, "x after step 1");
    if (std::isnan(c.x2)) continue;
    gx.fill(static_cast<float>(g2));
    opt->step(ctx);
    expect_rel(x.to_vector()[0], c.x2, "x after step 2");
  }
}

// optimizers.md: Adadelta "has no learning rate of its own; an optional eta multiplies g'
// (default 1)", and OptimizerOptions::lr documents "for adadelta a multiplier of its step
// (default 1)": with default options the first step is g' itself.
TEST(OptimAdadelta, DefaultOptionsTakeTheUnscaledStep) {
  Context ctx(Device::CPU);
  Tensor x = Tensor::from_vector({1.5f}, {1}, Device::CPU);
  Tensor gx = Tensor::from_vector({0.5f}, {1}, Device::CPU);
  std::vector<ParamGroup> groups(1);
  groups[0].params = {{"x", &x, &gx}};
  auto opt = make_optimizer("adadelta", groups, OptimizerOptions{}, ctx);
  opt->step(ctx);
  expect_rel(x.to_vector()[0], 1.5 - std::sqrt(1e-5) / std::sqrt(0.1 * 0.25 + 1e-5) * 0.5,
             "x after one adadelta step with default options");
}

}  // namespace
}  // namespace cutrain
