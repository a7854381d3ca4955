// The chunk walk of every rule through make_optimizer on the CPU: parameters of odd sizes
// (1 .. 70001, one spanning three chunks), 1200 tiny ones, all borrowed at unaligned offsets of
// one buffer with poisoned guards between them. Two steps must update every element exactly
// once, as a plain per-element loop over kernels::update_element does (the library's own math:
// the point here is which elements the walk touches, with which group settings), and leave
// guards and gradients alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/tensor.h"
#include "optimizer_math.h"

namespace cutrain {
namespace {

using kernels::OptimizerRule;

constexpr int64_t kGuard = 16;          // poisoned elements between tensors
constexpr float kPoison = -12345.625f;  // exactly representable, never a legitimate result
constexpr int kTiny = 1200;             // tensors of 1..3 elements after the big ones
const double kLrs[2] = {0.05, 0.02};    // learning rate of each step (x20 for adadelta)
constexpr float kDecay = 0.01f;         // weight decay of the even-numbered tensors
constexpr float kScale = 0.5f;          // lr_scale of the odd-numbered tensors (no decay)

struct RuleCase {
  const char* name;
  OptimizerRule rule;
  float eps;  // the default of optimizers.md
};
const RuleCase kRules[] = {
    {"sgd", OptimizerRule::Sgd, 0.0f},           {"momentum", OptimizerRule::Momentum, 0.0f},
    {"nesterov", OptimizerRule::Nesterov, 0.0f}, {"adagrad", OptimizerRule::Adagrad, 1e-6f},
    {"rmsprop", OptimizerRule::RmsProp, 1e-6f},  {"adadelta", OptimizerRule::Adadelta, 1e-5f},
    {"adam", OptimizerRule::Adam, 1e-6f},        {"adamw", OptimizerRule::AdamW, 1e-6f},
    {"yogi", OptimizerRule::Yogi, 1e-3f},
};

template <OptimizerRule R>
void apply(const kernels::ElementContext& e, float& x, float g, float& a, float& b) {
  kernels::update_element<R>(e, x, g, a, b);
}

// update_element for a rule known at run time.
void update(OptimizerRule r, const kernels::ElementContext& e, float& x, float g, float& a,
            float& b) {
  using R = OptimizerRule;
  switch (r) {
    case R::Sgd:
      return apply<R::Sgd>(e, x, g, a, b);
    case R::Momentum:
      return apply<R::Momentum>(e, x, g, a, b);
    case R::Nesterov:
      return apply<R::Nesterov>(e, x, g, a, b);
    case R::Adagrad:
      return apply<R::Adagrad>(e, x, g, a, b);
    case R::RmsProp:
      return apply<R::RmsProp>(e, x, g, a, b);
    case R::Adadelta:
      return apply<R::Adadelta>(e, x, g, a, b);
    case R::Adam:
      return apply<R::Adam>(e, x, g, a, b);
    case R::AdamW:
      return apply<R::AdamW>(e, x, g, a, b);
    case R::Yogi:
      return apply<R::Yogi>(e, x, g, a, b);
  }
}

// Random values in +-[0.1, 2): never zero.
void fill_nonzero(float* v, int64_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> mag(0.1f, 2.0f);
  std::bernoulli_distribution sign(0.5);
  for (int64_t i = 0; i < n; ++i) v[i] = sign(gen) ? mag(gen) : -mag(gen);
}

// Parameter and gradient buffers holding every tensor between kGuard poisoned elements. The
// first tensor starts at an odd offset (data() + kGuard + 1): every pointer the walk sees is
// misaligned for 16-byte vectors in some tensors and aligned in others.
struct Buffers {
  std::vector<int64_t> sizes, offsets;
  std::vector<float> param, grad;
  std::vector<int> inside;  // 1 for elements of a tensor, 0 for guards
  std::vector<Tensor> values, grads;

  Buffers() {
    sizes = {1, 3, 5, 4097, 70001};
    for (int k = 0; k < kTiny; ++k) sizes.push_back(1 + k % 3);
    int64_t at = kGuard + 1;
    for (int64_t n : sizes) offsets.push_back(std::exchange(at, at + n + kGuard));
    param.assign(static_cast<size_t>(at), kPoison);
    grad.assign(param.size(), kPoison);
    inside.assign(param.size(), 0);
    std::mt19937 gen(7);
    for (size_t t = 0; t < sizes.size(); ++t) {
      fill_nonzero(param.data() + offsets[t], sizes[t], gen);
      std::fill_n(inside.begin() + offsets[t], sizes[t], 1);
      values.push_back(Tensor::borrow(param.data() + offsets[t], {sizes[t]}, Device::CPU));
      grads.push_back(Tensor::borrow(grad.data() + offsets[t], {sizes[t]}, Device::CPU));
    }
  }
  // Even tensors: the options' decay. Odd tensors: lr_scale 0.5, no decay.
  std::vector<ParamGroup> groups() {
    ParamGroup even, odd;
    odd.lr_scale = kScale;
    odd.weight_decay = 0.0;
    for (size_t t = 0; t < sizes.size(); ++t)
      (t % 2 ? odd : even).params.push_back({"p" + std::to_string(t), &values[t], &grads[t]});
    return {even, odd};
  }
  void new_gradients(std::mt19937& gen) {
    for (size_t t = 0; t < sizes.size(); ++t) fill_nonzero(grad.data() + offsets[t], sizes[t], gen);
  }
};

// |got - want| <= 1e-6 |want|: a few roundings apart at most (an FMA the compiler may form in
// one loop and not the other), far below what one update more or less changes (> 1e-5, checked).
bool close(float got, float want) {
  return std::abs(static_cast<double>(got) - want) <= 1e-6 * std::abs(static_cast<double>(want));
}

TEST(OptimChunks, EveryRuleUpdatesEachElementOnceAndNoGuard) {
  for (const RuleCase& rc : kRules) {
    SCOPED_TRACE(rc.name);
    Context ctx(Device::CPU);
    Buffers b;
    const double lr_mult = rc.rule == OptimizerRule::Adadelta ? 20.0 : 1.0;
    OptimizerOptions o;
    o.lr = kLrs[0] * lr_mult;
    o.weight_decay = kDecay;
    auto opt = make_optimizer(rc.name, b.groups(), o, ctx);
    const int n_state = kernels::state_tensors(rc.rule);

    // The reference: a plain loop over every tensor and element, state from zero.
    kernels::RuleConstants k;
    k.beta1 = rc.rule == OptimizerRule::Momentum || rc.rule == OptimizerRule::Nesterov
                  ? static_cast<float>(o.momentum)
                  : static_cast<float>(o.beta1);
    k.beta2 = static_cast<float>(rc.rule == OptimizerRule::RmsProp    ? o.gamma
                                 : rc.rule == OptimizerRule::Adadelta ? o.rho
                                                                      : o.beta2);
    k.eps = rc.eps;
    std::vector<float> x = b.param, s0(b.param.size(), 0.0f), s1(b.param.size(), 0.0f);
    std::mt19937 gen(11);
    for (int step = 1; step <= 2; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      b.new_gradients(gen);
      const std::vector<float> grad = b.grad;
      const float lr = static_cast<float>(kLrs[step - 1] * lr_mult);
      opt->set_lr(kLrs[step - 1] * lr_mult);
      opt->step(ctx);
      const float bc1 = kernels::bias_correction(k.beta1, step);
      const float bc2 = kernels::bias_correction(k.beta2, step);
      const std::vector<float> before = x;
      for (size_t t = 0; t < b.sizes.size(); ++t) {
        const kernels::ElementContext e{k, t % 2 ? lr * kScale : lr, t % 2 ? 0.0f : kDecay, bc1,
                                        bc2};
        for (int64_t i = b.offsets[t]; i < b.offsets[t] + b.sizes[t]; ++i)
          update(rc.rule, e, x[i], grad[i], s0[i], s1[i]);
      }
      size_t bad = 0, weak = 0, elements = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        elements += b.inside[i];
        if (b.inside[i]) {
          // An update that nearly vanishes (v = b1 v + g cancelling) cannot tell once from twice.
          if (std::abs(x[i] - before[i]) <= 1e-5 * std::abs(before[i])) ++weak;
          if (!close(b.param[i], x[i]) && bad++ < 5)
            ADD_FAILURE() << "element " << i << ": " << b.param[i] << ", expected " << x[i]
                          << " (was " << before[i] << ")";
        } else if (b.param[i] != kPoison || b.grad[i] != kPoison) {
          if (bad++ < 5) ADD_FAILURE() << "guard element " << i << " was written";
        }
      }
      EXPECT_EQ(bad, 0u);
      EXPECT_LT(weak, elements / 100) << "updates too small to detect a missed or repeated one";
      EXPECT_EQ(b.grad, grad) << "gradients are read only";

      // State: n_state consecutive tensors "p<t>.<slot>" per parameter, groups in order.
      const OptimizerState st = opt->save_state(ctx);
      ASSERT_EQ(st.tensors.size(), b.sizes.size() * static_cast<size_t>(n_state));
      size_t bad_state = 0;
      for (size_t j = 0; j < st.tensors.size(); ++j) {
        const auto& [name, v] = st.tensors[j];
        const size_t t = std::stoul(name.substr(1, name.find('.') - 1));
        const std::vector<float>& ref = j % n_state ? s1 : s0;
        ASSERT_EQ(static_cast<int64_t>(v.size()), b.sizes[t]) << name;
        for (int64_t i = 0; i < b.sizes[t]; ++i)
          if (!close(v[i], ref[b.offsets[t] + i]) && bad_state++ < 5)
            ADD_FAILURE() << name << "[" << i << "]: " << v[i] << ", expected "
                          << ref[b.offsets[t] + i];
      }
      EXPECT_EQ(bad_state, 0u);
    }
  }
}

}  // namespace
}  // namespace cutrain
