// SGD: the multi-tensor chunk table, the CPU update over it, and the Optimizer API on the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/optim/optimizer.h"
#include "multi_tensor.h"
#include "optimizer_update.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using kernels::TensorChunk;
using kernels::TensorSlot;
using test::config_error_message;
using test::Contains;

const std::vector<int64_t> kSizes = {1, 3, 5, 4097, 70000};
constexpr int64_t kGuard = 16;          // poisoned elements before and after every tensor
constexpr float kPoison = -12345.625f;  // exactly representable, never a legitimate result

// Random values in +-[0.1, 2): never zero.
std::vector<float> nonzero_random(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> mag(0.1f, 2.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v(n);
  for (float& x : v) x = sign(gen) ? mag(gen) : -mag(gen);
  return v;
}

// One buffer holding every tensor of kSizes, each surrounded by kGuard poisoned elements.
struct Packed {
  std::vector<float> buf;
  std::vector<int64_t> offsets;  // where each tensor starts in buf
  std::vector<int> inside;       // 1 for elements of a tensor, 0 for guards
  explicit Packed(uint32_t seed) {
    int64_t at = kGuard;
    for (int64_t n : kSizes) offsets.push_back(std::exchange(at, at + n + kGuard));
    const std::vector<float> r = nonzero_random(static_cast<size_t>(at), seed);
    buf.assign(r.size(), kPoison);
    inside.assign(r.size(), 0);
    for (size_t t = 0; t < kSizes.size(); ++t) {
      std::copy_n(r.begin() + offsets[t], kSizes[t], buf.begin() + offsets[t]);
      std::fill_n(inside.begin() + offsets[t], kSizes[t], 1);
    }
  }
  float* at(size_t t) { return buf.data() + offsets[t]; }
};

// x - lr * g with both operations rounded to float (no fused multiply-add).
float expected_sgd(float x, float g, float lr) {
  volatile float step = lr * g;
  return x - step;
}

void check_table(const std::vector<TensorSlot>& slots, const std::vector<TensorChunk>& table,
                 int64_t chunk) {
  size_t c = 0;
  for (const TensorSlot& s : slots) {
    const int64_t expected_chunks = (s.numel + chunk - 1) / chunk;
    int64_t off = 0;
    for (int64_t k = 0; k < expected_chunks; ++k, ++c) {
      ASSERT_LT(c, table.size());
      const TensorChunk& t = table[c];
      EXPECT_EQ(t.param, s.param + off) << "chunk " << c;
      EXPECT_EQ(t.grad, s.grad + off) << "chunk " << c;
      for (int j = 0; j < kernels::kMaxStateTensors; ++j)  // null stays null
        EXPECT_EQ(t.state[j], s.state[j] ? s.state[j] + off : nullptr) << "chunk " << c;
      EXPECT_GT(t.length, 0);
      EXPECT_LE(t.length, chunk);
      EXPECT_EQ(t.length, std::min(chunk, s.numel - off));
      off += t.length;
    }
    EXPECT_EQ(off, s.numel);
  }
  EXPECT_EQ(c, table.size());
}

struct Buffers {
  Packed param{1}, grad{2}, state0{3}, state1{4};
  std::vector<TensorSlot> slots() {
    std::vector<TensorSlot> out;
    for (size_t t = 0; t < kSizes.size(); ++t) {
      // Vary which state tensors exist: none, the first, the second, both.
      float* s0 = (t % 2 == 1) ? state0.at(t) : nullptr;
      float* s1 = (t >= 2) ? state1.at(t) : nullptr;
      out.push_back({param.at(t), grad.at(t), {s0, s1}, kSizes[t]});
    }
    return out;
  }
};

TEST(ChunkTable, CoversEveryElementOnceInOrder) {
  Buffers b;
  const std::vector<TensorSlot> slots = b.slots();
  for (int64_t chunk : {int64_t{1000}, kernels::kChunkElements}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    const std::vector<TensorChunk> table = kernels::build_chunk_table(slots, chunk);
    check_table(slots, table, chunk);
    // Count coverage of every element of the parameter buffer: tensors once, guards never.
    std::vector<int> hits(b.param.buf.size(), 0);
    for (const TensorChunk& t : table)
      for (int64_t i = 0; i < t.length; ++i)
        ++hits[static_cast<size_t>(t.param + i - b.param.buf.data())];
    EXPECT_TRUE(hits == b.param.inside) << "an element is covered twice, or a guard once";
  }
  // 1 + 1 + 1 + 5 + 70 chunks of 1000; 1 + 1 + 1 + 1 + 3 of 32768.
  EXPECT_EQ(kernels::build_chunk_table(slots, 1000).size(), 78u);
  EXPECT_EQ(kernels::build_chunk_table(slots).size(), 7u);
  float p = 1.0f, g = 2.0f;  // empty tensors give no chunks
  EXPECT_TRUE(kernels::build_chunk_table({{&p, &g, {nullptr, nullptr}, 0}}).empty());
}

TEST(ChunkTable, NonPositiveChunkSizeIsRejected) {
  std::vector<float> p(4), g(4, 1.0f);
  const std::vector<kernels::TensorSlot> slots = {{p.data(), g.data(), {nullptr, nullptr}, 4}};
  EXPECT_THROW(kernels::build_chunk_table(slots, 0), ConfigError);
  EXPECT_THROW(kernels::build_chunk_table(slots, -3), ConfigError);
}

TEST(SgdKernel, CpuUpdateIsExactOverChunkTable) {
  Buffers b;
  const auto x0 = b.param.buf, g = b.grad.buf, s0 = b.state0.buf, s1 = b.state1.buf;
  const std::vector<TensorChunk> table = kernels::build_chunk_table(b.slots(), 1000);
  kernels::StepState st;
  st.lr = 0.0375f;
  st.step = 1;
  const auto chunks = static_cast<int64_t>(table.size());
  kernels::multi_tensor_update_cpu(kernels::OptimizerRule::Sgd, table.data(), chunks, {}, &st);
  // A new value behind the same pointer is used by the next call.
  std::vector<float> x1 = b.param.buf;
  st.lr = -0.5f;
  st.step = 2;
  kernels::multi_tensor_update_cpu(kernels::OptimizerRule::Sgd, table.data(), chunks, {}, &st);
  for (size_t k = 0; k < x0.size(); ++k) {  // guard elements keep their poison
    const bool in = b.param.inside[k];
    ASSERT_EQ(x1[k], in ? expected_sgd(x0[k], g[k], 0.0375f) : kPoison) << "element " << k;
    ASSERT_EQ(b.param.buf[k], in ? expected_sgd(x1[k], g[k], -0.5f) : kPoison) << "element " << k;
  }
  EXPECT_EQ(b.grad.buf, g);  // gradients and state are read-only for plain SGD
  EXPECT_EQ(b.state0.buf, s0);
  EXPECT_EQ(b.state1.buf, s1);
}

struct Model {  // three parameters, one spanning several default-size chunks
  Tensor w = Tensor::from_vector(nonzero_random(12, 10), {3, 4}, Device::CPU);
  Tensor b = Tensor::from_vector(nonzero_random(4, 11), {4}, Device::CPU);
  Tensor big = Tensor::from_vector(nonzero_random(70000, 12), {70000}, Device::CPU);
  Tensor gw = Tensor::zeros({3, 4}, Device::CPU), gb = Tensor::zeros({4}, Device::CPU),
         gbig = Tensor::zeros({70000}, Device::CPU);
  std::vector<Parameter> params() {
    return {{"0.weight", &w, &gw}, {"0.bias", &b, &gb}, {"1.weight", &big, &gbig}};
  }
  Tensor* values[3] = {&w, &b, &big};
  Tensor* grads[3] = {&gw, &gb, &gbig};
};

TEST(SgdOptimizer, ThreeStepsMatchClosedForm) {
  Context ctx(Device::CPU);
  Model m;
  auto opt = make_optimizer("sgd", m.params(), 0.1, ctx);
  EXPECT_EQ(opt->name(), "sgd");
  EXPECT_DOUBLE_EQ(opt->lr(), 0.1);
  EXPECT_EQ(opt->steps(), 0);

  const double lrs[3] = {0.1, 0.025, 0.3};
  std::vector<std::vector<float>> x0, stepwise;  // float step by step, and the closed form
  std::vector<std::vector<double>> closed;       // x0 - sum_s lr_s * g_s in double
  for (Tensor* v : m.values) x0.push_back(v->to_vector());
  stepwise = x0;
  for (const auto& v : x0) closed.emplace_back(v.begin(), v.end());
  for (int s = 0; s < 3; ++s) {
    if (s > 0) opt->set_lr(lrs[s]);
    EXPECT_DOUBLE_EQ(opt->lr(), lrs[s]);
    const float lr = static_cast<float>(lrs[s]);
    for (size_t p = 0; p < 3; ++p) {
      const auto g = nonzero_random(static_cast<size_t>(m.grads[p]->numel()), 100 + 10 * s + p);
      m.grads[p]->copy_from_host(g.data(), m.grads[p]->numel());
      for (size_t i = 0; i < g.size(); ++i) {
        stepwise[p][i] = expected_sgd(stepwise[p][i], g[i], lr);
        closed[p][i] -= lrs[s] * static_cast<double>(g[i]);
      }
    }
    opt->step(ctx);
    EXPECT_EQ(opt->steps(), s + 1);
  }
  for (size_t p = 0; p < 3; ++p) {
    const std::vector<float> got = m.values[p]->to_vector();
    EXPECT_EQ(got, stepwise[p]) << "parameter " << p;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], closed[p][i], 1e-5) << "parameter " << p << " at " << i;
      ASSERT_NE(got[i], x0[p][i]);
    }
  }
}

TEST(SgdOptimizer, NamesAndUnknownOptimizer) {
  const std::vector<std::string> names = optimizer_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "sgd"), names.end());
  Context ctx(Device::CPU);
  Model m;
  const std::string msg =
      config_error_message([&] { make_optimizer("adamw9", m.params(), 0.1, ctx); });
  EXPECT_TRUE(Contains(msg, "sgd"));
  EXPECT_TRUE(Contains(msg, "adamw9"));
}

TEST(SgdOptimizer, InvalidLearningRateNamesFlag) {
  Context ctx(Device::CPU);
  Model m;
  for (double bad : {-0.1, std::nan(""), HUGE_VAL}) {
    const std::string msg =
        config_error_message([&] { make_optimizer("sgd", m.params(), bad, ctx); });
    EXPECT_TRUE(Contains(msg, "--lr")) << "lr " << bad;
  }
  auto opt = make_optimizer("sgd", m.params(), 0.2, ctx);
  EXPECT_TRUE(Contains(config_error_message([&] { opt->set_lr(-1.0); }), "--lr"));
  EXPECT_DOUBLE_EQ(opt->lr(), 0.2);  // unchanged by the rejected value
  // lr = 0 is valid and leaves the values as they were.
  m.gw.fill(3.0f);
  const std::vector<float> before = m.w.to_vector();
  opt->set_lr(0.0);
  opt->step(ctx);
  EXPECT_EQ(m.w.to_vector(), before);
  EXPECT_EQ(opt->steps(), 1);
}

TEST(SgdOptimizer, MismatchedOrMissingGradientThrows) {
  Context ctx(Device::CPU);
  Model m;
  Tensor short_grad = Tensor::zeros({11}, Device::CPU);
  std::vector<Parameter> params = m.params();
  params[0].grad = &short_grad;
  EXPECT_TRUE(
      Contains(config_error_message([&] { make_optimizer("sgd", params, 0.1, ctx); }), "0.weight"));
  params = m.params();
  params[1].grad = nullptr;
  EXPECT_THROW(make_optimizer("sgd", params, 0.1, ctx), ConfigError);
}

}  // namespace
}  // namespace cutrain
