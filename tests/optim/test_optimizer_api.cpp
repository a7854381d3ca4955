// The Optimizer API of every rule on the CPU: gradient clipping by global norm, save_state /
// load_state, validation of every hyperparameter (the error names the flag), decay_groups.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/tensor.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::config_error_message;
using test::Contains;

const std::vector<std::string> kRules = {"sgd",      "momentum", "nesterov", "adagrad", "rmsprop",
                                         "adadelta", "adam",     "adamw",    "yogi"};

// |got - want| <= rtol * |want| element by element.
::testing::AssertionResult AllNear(const std::vector<float>& got, const std::vector<float>& want,
                                   double rtol) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << got.size() << " values, expected " << want.size();
  for (size_t i = 0; i < want.size(); ++i) {
    const double diff = std::abs(static_cast<double>(got[i]) - want[i]);
    if (!(diff <= rtol * std::abs(static_cast<double>(want[i]))))
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got[i] << " vs " << want[i] << " (rtol " << rtol << ")";
  }
  return ::testing::AssertionSuccess();
}

// "w" [200, 200] (one chunk and a bit: 40000 > kChunkElements) with the options' decay and "b" [3]
// in a group with lr_scale 0.5, no decay. Per step the gradients' global L2 norm is 5:
// w = +-a (alternating), 40000 a^2 = 4, 16, 1; b's squares sum to 21, 9, 24.
constexpr int64_t kW = 40000;
const float kA[3] = {0.01f, 0.02f, 0.005f};
const std::vector<float> kGb[3] = {{4.0f, -2.0f, 1.0f}, {2.0f, 2.0f, 1.0f}, {4.0f, -2.0f, 2.0f}};

struct Model {
  Model() {
    std::vector<float> w0(kW);
    for (int64_t i = 0; i < kW; ++i) w0[i] = 0.5f + 0.25f * static_cast<float>(i % 7);
    w = Tensor::from_vector(w0, {200, 200}, Device::CPU);
  }
  Tensor w, gw = Tensor::zeros({200, 200}, Device::CPU);
  Tensor b = Tensor::from_vector({1.5f, -0.75f, 2.0f}, {3}, Device::CPU);
  Tensor gb = Tensor::zeros({3}, Device::CPU);
  std::vector<ParamGroup> groups() {
    ParamGroup decayed, plain;
    decayed.params = {{"w", &w, &gw}};
    plain.params = {{"b", &b, &gb}};
    plain.lr_scale = 0.5;
    plain.weight_decay = 0.0;
    return {decayed, plain};
  }
  // Step s's gradients times `scale` (rounded to float like any gradient).
  void set_grads(int s, float scale) {
    std::vector<float> g(kW);
    for (int64_t i = 0; i < kW; ++i) g[i] = (i % 2 ? -kA[s] : kA[s]) * scale;
    gw.copy_from_host(g.data(), kW);
    std::vector<float> h = kGb[s];
    for (float& v : h) v *= scale;
    gb.copy_from_host(h.data(), 3);
  }
};

OptimizerOptions options_for(const std::string& rule, double clip_norm) {
  OptimizerOptions o;
  o.lr = rule == "adadelta" ? 1.0 : 0.05;
  o.weight_decay = 0.1;
  o.clip_norm = clip_norm;
  return o;
}

TEST(OptimClip, GlobalNormAboveThresholdScalesEveryGradient) {
  for (const std::string& rule : kRules) {
    SCOPED_TRACE(rule);
    Context ctx(Device::CPU);
    Model clipped, scaled, loose, plain;
    auto a = make_optimizer(rule, clipped.groups(), options_for(rule, 1.0), ctx);
    auto b = make_optimizer(rule, scaled.groups(), options_for(rule, 0.0), ctx);
    auto c = make_optimizer(rule, loose.groups(), options_for(rule, 10.0), ctx);
    auto d = make_optimizer(rule, plain.groups(), options_for(rule, 0.0), ctx);
    for (int s = 0; s < 3; ++s) {
      SCOPED_TRACE("step " + std::to_string(s + 1));
      clipped.set_grads(s, 1.0f);
      scaled.set_grads(s, 0.2f);  // what clipping to norm 1 must amount to
      loose.set_grads(s, 1.0f);
      plain.set_grads(s, 1.0f);
      const std::vector<float> g_before = clipped.gw.to_vector();
      for (auto* opt : {a.get(), b.get(), c.get(), d.get()}) opt->step(ctx);
      EXPECT_NEAR(a->last_grad_norm(ctx), 5.0, 5e-6);
      EXPECT_NEAR(c->last_grad_norm(ctx), 5.0, 5e-6);
      EXPECT_EQ(clipped.gw.to_vector(), g_before) << "clipping must not rewrite the gradients";
      // Norm 5 > 1: as if g / 5 (the factor is 1 / (5 + 1e-6), 2e-7 away).
      EXPECT_TRUE(AllNear(clipped.w.to_vector(), scaled.w.to_vector(), 1e-6)) << "w";
      EXPECT_TRUE(AllNear(clipped.b.to_vector(), scaled.b.to_vector(), 1e-6)) << "b";
      const OptimizerState sa = a->save_state(ctx), sb = b->save_state(ctx);
      ASSERT_EQ(sa.tensors.size(), sb.tensors.size());
      for (size_t k = 0; k < sa.tensors.size(); ++k)
        EXPECT_TRUE(AllNear(sa.tensors[k].second, sb.tensors[k].second, 1e-6))
            << sa.tensors[k].first;
      // Norm 5 < 10: untouched, bit for bit.
      EXPECT_EQ(loose.w.to_vector(), plain.w.to_vector());
      EXPECT_EQ(loose.b.to_vector(), plain.b.to_vector());
      EXPECT_NE(clipped.b.to_vector(), plain.b.to_vector());
    }
  }
}

// Runs steps [from, to) of a fixed gradient sequence on m with opt.
void run_steps(Optimizer& opt, Model& m, Context& ctx, int from, int to) {
  for (int s = from; s < to; ++s) {
    m.set_grads(s % 3, 1.0f + 0.5f * static_cast<float>(s));
    opt.step(ctx);
  }
}

TEST(OptimState, SavedStateContinuesIdentically) {
  for (const std::string& rule : kRules) {
    SCOPED_TRACE(rule);
    Context ctx(Device::CPU);
    Model ma, mb;
    auto a = make_optimizer(rule, ma.groups(), options_for(rule, 0.0), ctx);
    auto b = make_optimizer(rule, mb.groups(), options_for(rule, 0.0), ctx);
    run_steps(*a, ma, ctx, 0, 2);
    run_steps(*b, mb, ctx, 5, 6);  // some other history, overwritten by load_state
    const OptimizerState saved = a->save_state(ctx);
    EXPECT_EQ(saved.steps, 2);
    b->load_state(saved, ctx);
    EXPECT_EQ(b->steps(), 2);
    mb.w.copy_from(ma.w);
    mb.b.copy_from(ma.b);
    run_steps(*a, ma, ctx, 2, 4);
    run_steps(*b, mb, ctx, 2, 4);
    EXPECT_EQ(b->steps(), 4);
    EXPECT_EQ(ma.w.to_vector(), mb.w.to_vector());
    EXPECT_EQ(ma.b.to_vector(), mb.b.to_vector());
    const OptimizerState sa = a->save_state(ctx), sb = b->save_state(ctx);
    EXPECT_EQ(sa.steps, sb.steps);
    EXPECT_EQ(sa.tensors, sb.tensors);
  }
}

TEST(OptimState, MismatchedStateThrowsDataErrorAndKeepsState) {
  Context ctx(Device::CPU);
  Model m;
  auto opt = make_optimizer("adam", m.groups(), options_for("adam", 0.0), ctx);
  run_steps(*opt, m, ctx, 0, 1);
  const OptimizerState good = opt->save_state(ctx);
  ASSERT_EQ(good.tensors.size(), 4u);  // w.v, w.s, b.v, b.s

  OptimizerState fewer = good, renamed = good, shorter = good, longer = good, negative = good;
  fewer.tensors.pop_back();
  renamed.tensors[1].first = "w.m";
  shorter.tensors[2].second.pop_back();
  longer.tensors[0].second.push_back(1.0f);
  negative.steps = -1;
  for (auto& t : {&fewer, &renamed, &shorter, &longer, &negative})
    for (auto& [name, values] : t->tensors)
      for (float& v : values) v += 1.0f;  // would be visible had anything been copied
  EXPECT_THROW(opt->load_state(fewer, ctx), DataError);
  EXPECT_THROW(opt->load_state(renamed, ctx), DataError);
  EXPECT_THROW(opt->load_state(shorter, ctx), DataError);
  EXPECT_THROW(opt->load_state(longer, ctx), DataError);
  EXPECT_THROW(opt->load_state(negative, ctx), DataError);
  const OptimizerState after = opt->save_state(ctx);
  EXPECT_EQ(after.steps, 1);
  EXPECT_EQ(after.tensors, good.tensors);

  auto sgd = make_optimizer("sgd", m.groups(), options_for("sgd", 0.0), ctx);
  EXPECT_TRUE(sgd->save_state(ctx).tensors.empty());
  EXPECT_THROW(sgd->load_state(good, ctx), DataError);
}

TEST(OptimValidation, EveryBadValueNamesItsFlag) {
  struct Case {
    const char* rule;
    const char* flag;
    void (*set)(OptimizerOptions&);
  };
  const Case cases[] = {
      {"sgd", "--lr", [](OptimizerOptions& o) { o.lr = -1.0; }},
      {"adam", "--lr", [](OptimizerOptions& o) { o.lr = std::nan(""); }},
      {"momentum", "--momentum", [](OptimizerOptions& o) { o.momentum = 1.0; }},
      {"nesterov", "--momentum", [](OptimizerOptions& o) { o.momentum = -0.5; }},
      {"adam", "--beta1", [](OptimizerOptions& o) { o.beta1 = -0.1; }},
      {"yogi", "--beta2", [](OptimizerOptions& o) { o.beta2 = 1.0; }},
      {"rmsprop", "--gamma", [](OptimizerOptions& o) { o.gamma = 1.5; }},
      {"adadelta", "--rho", [](OptimizerOptions& o) { o.rho = -1.0; }},
      {"adam", "--eps", [](OptimizerOptions& o) { o.eps = 0.0; }},
      {"adagrad", "--eps", [](OptimizerOptions& o) { o.eps = -1e-3; }},
      {"sgd", "--weight-decay", [](OptimizerOptions& o) { o.weight_decay = -1.0; }},
      {"adamw", "--weight-decay", [](OptimizerOptions& o) { o.weight_decay = INFINITY; }},
      {"sgd", "--clip-norm", [](OptimizerOptions& o) { o.clip_norm = -1.0; }},
  };
  Context ctx(Device::CPU);
  Model m;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.rule) + " " + c.flag);
    OptimizerOptions o;
    c.set(o);
    const std::string msg =
        config_error_message([&] { make_optimizer(c.rule, m.groups(), o, ctx); });
    EXPECT_TRUE(Contains(msg, c.flag)) << msg;
  }
  // Boundaries that are valid: zero learning rate, momentum, betas, decay, clip.
  OptimizerOptions edge;
  edge.lr = 0.0;
  edge.momentum = edge.beta1 = edge.beta2 = edge.gamma = edge.rho = 0.0;
  edge.weight_decay = edge.clip_norm = 0.0;
  for (const std::string& rule : kRules)
    EXPECT_NO_THROW(make_optimizer(rule, m.groups(), edge, ctx));
  auto opt = make_optimizer("adam", m.groups(), OptimizerOptions{}, ctx);
  EXPECT_TRUE(Contains(config_error_message([&] { opt->set_lr(std::nan("")); }), "--lr"));
}

TEST(OptimValidation, NamesInBookOrderAndUnknownNameListsThem) {
  EXPECT_EQ(optimizer_names(), kRules);
  Context ctx(Device::CPU);
  Model m;
  const std::string msg =
      config_error_message([&] { make_optimizer("lamb", m.groups(), OptimizerOptions{}, ctx); });
  EXPECT_TRUE(Contains(msg, "lamb")) << msg;
  for (const std::string& rule : kRules) EXPECT_TRUE(Contains(msg, rule)) << msg;
}

TEST(OptimDecayGroups, MatricesAreDecayedVectorsAreNot) {
  Context ctx(Device::CPU);
  Tensor w = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, Device::CPU);
  Tensor conv = Tensor::from_vector({1, -1, 2, -2, 3, -3, 4, -4}, {2, 1, 2, 2}, Device::CPU);
  Tensor bias = Tensor::from_vector({1, -2}, {2}, Device::CPU);
  Tensor bn = Tensor::from_vector({3, 4, 5}, {3}, Device::CPU);
  Tensor gw = Tensor::zeros({2, 3}, Device::CPU), gconv = Tensor::zeros({2, 1, 2, 2}, Device::CPU);
  Tensor gbias = Tensor::zeros({2}, Device::CPU), gbn = Tensor::zeros({3}, Device::CPU);
  const std::vector<Parameter> params = {{"0.weight", &w, &gw},
                                         {"0.bias", &bias, &gbias},
                                         {"1.weight", &conv, &gconv},
                                         {"2.bias", &bn, &gbn}};
  const std::vector<ParamGroup> groups = decay_groups(params);
  ASSERT_EQ(groups.size(), 2u);
  ASSERT_EQ(groups[0].params.size(), 2u);
  EXPECT_EQ(groups[0].params[0].name, "0.weight");
  EXPECT_EQ(groups[0].params[1].name, "1.weight");
  EXPECT_FALSE(groups[0].weight_decay.has_value());  // the options' decay
  ASSERT_EQ(groups[1].params.size(), 2u);
  EXPECT_EQ(groups[1].params[0].name, "0.bias");
  EXPECT_EQ(groups[1].params[1].name, "2.bias");
  ASSERT_TRUE(groups[1].weight_decay.has_value());
  EXPECT_EQ(*groups[1].weight_decay, 0.0);
  EXPECT_EQ(groups[0].lr_scale, 1.0);
  EXPECT_EQ(groups[1].lr_scale, 1.0);

  // Zero gradients, sgd with decay 0.5 and lr 0.1: weights shrink by 5 %, vectors stay.
  OptimizerOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.5;
  auto opt = make_optimizer("sgd", groups, o, ctx);
  const std::vector<float> w0 = w.to_vector(), c0 = conv.to_vector();
  const std::vector<float> b0 = bias.to_vector(), n0 = bn.to_vector();
  opt->step(ctx);
  std::vector<float> w1 = w0, c1 = c0;
  for (float& v : w1) v *= 0.95f;
  for (float& v : c1) v *= 0.95f;
  EXPECT_TRUE(AllNear(w.to_vector(), w1, 1e-6));
  EXPECT_TRUE(AllNear(conv.to_vector(), c1, 1e-6));
  EXPECT_EQ(bias.to_vector(), b0);
  EXPECT_EQ(bn.to_vector(), n0);
  EXPECT_TRUE(decay_groups({}).empty());
}

}  // namespace
}  // namespace cutrain
