// Fused optimizer kernels vs their CPU twins on seeded random inputs (split from test_gpu_ops.cpp,
// same style and helpers): every rule over a device chunk table built as fused_optimizer.cpp does,
// ten steps; the global-norm clip; adam with decay and clipping through make_optimizer. Device
// tensors sit between NaN guards that must stay NaN. Skipped without a usable CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/device.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"
#include "grad_norm.h"
#include "multi_tensor.h"
#include "optimizer_update.h"
#include "support/compare.h"
#include "support/cuda_test.h"

namespace {

using cutrain::Context;
using cutrain::Device;
using cutrain::Rng;
using cutrain::Shape;
using cutrain::Tensor;
namespace kernels = cutrain::kernels;
using Rule = kernels::OptimizerRule;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int64_t kGuard = 37;  // NaN elements before and after every device tensor
constexpr int64_t kC = kernels::kChunkElements;
constexpr int kSteps = 10;

using GpuOptimizers = cutrain::test::CudaTest;
using cutrain::test::MaxAbs;
using cutrain::test::Near;
using cutrain::test::Uniform;

// n values at `offset` (misaligned when odd) inside a NaN-poisoned device buffer.
struct Guarded {
  Guarded(const std::vector<float>& v, int64_t offset, const Context& ctx)
      : buf(Shape{offset + static_cast<int64_t>(v.size()) + kGuard}, Device::CUDA),
        offset(offset),
        n(static_cast<int64_t>(v.size())) {
    buf.fill(kNaN, ctx.stream());
    upload(v, ctx);
  }
  float* data() { return buf.data() + offset; }
  void upload(const std::vector<float>& v, const Context& ctx) {
    Tensor::borrow(data(), Shape{n}, Device::CUDA).copy_from_host(v.data(), n, ctx.stream());
  }
  // The n values; adds a failure when a guard element is not NaN any more.
  std::vector<float> download(const Context& ctx, const std::string& what) const {
    const std::vector<float> all = buf.to_vector(ctx.stream());
    for (size_t i = 0; i < all.size(); ++i)
      if ((static_cast<int64_t>(i) < offset || static_cast<int64_t>(i) >= offset + n) &&
          !std::isnan(all[i])) {
        ADD_FAILURE() << what << ": guard element " << i << " was written (" << all[i] << ")";
        break;
      }
    return {all.begin() + offset, all.begin() + offset + n};
  }
  Tensor buf;
  int64_t offset, n;
};

// A chunk table and a StepState in device memory, as raw float words (fused_optimizer.cpp).
struct DeviceTable {
  DeviceTable(const std::vector<kernels::TensorChunk>& t, const Context& ctx)
      : chunks(static_cast<int64_t>(t.size())),
        words(Shape{std::max<int64_t>(chunks * kWords, 1)}, Device::CUDA) {
    words.copy_from_host(reinterpret_cast<const float*>(t.data()), chunks * kWords, ctx.stream());
  }
  const kernels::TensorChunk* get() const {
    return reinterpret_cast<const kernels::TensorChunk*>(words.data());
  }
  static constexpr int64_t kWords = sizeof(kernels::TensorChunk) / sizeof(float);
  static_assert(sizeof(kernels::TensorChunk) % sizeof(float) == 0, "copied as floats");
  int64_t chunks;
  Tensor words;
};

struct DeviceState {
  static constexpr int64_t kWords = sizeof(kernels::StepState) / sizeof(float);
  static_assert(sizeof(kernels::StepState) % sizeof(float) == 0, "copied as floats");
  Tensor words{Shape{kWords}, Device::CUDA};
  kernels::StepState* get() { return reinterpret_cast<kernels::StepState*>(words.data()); }
  void upload(const kernels::StepState& s, const Context& ctx) {
    words.copy_from_host(reinterpret_cast<const float*>(&s), kWords, ctx.stream());
  }
  kernels::StepState download(const Context& ctx) const {
    const std::vector<float> w = words.to_vector(ctx.stream());
    kernels::StepState s;
    std::memcpy(static_cast<void*>(&s), w.data(), sizeof s);
    return s;
  }
};

// Offsets inside a cudaMalloc'd (256-byte aligned) buffer: kA floats = 160 bytes keeps every
// pointer 16-byte aligned, so the float4 path and its scalar tail run; kA + 1 misaligns every
// pointer of one tensor spanning three chunks, kA + 2 only the gradient (by 8 bytes).
struct Layout {
  int64_t n, offset, grad_offset;
};
constexpr int64_t kA = 40;
static_assert(kA >= kGuard && (kA * sizeof(float)) % 16 == 0, "aligned offset after the guard");
const Layout kLayout[] = {{1, kA, kA},       {3, kA, kA},      {37, kA, kA},
                          {4097, kA, kA},    {kC + 5, kA, kA}, {2 * kC + 7, kA + 1, kA + 1},
                          {1001, kA, kA + 2}};

// Host and device copies of the parameters, gradients and state of kLayout's tensors.
struct Tensors {
  Tensors(Rng& rng, int n_state, const Context& gpu) {
    for (const Layout& l : kLayout) {
      hx.push_back(Uniform(rng, l.n, -2.0f, 2.0f));
      hg.push_back(Uniform(rng, l.n, -1.0f, 1.0f));
      for (int k = 0; k < 2; ++k)  // positive: valid for every rule's state (v, s, dx)
        hs[k].push_back(k < n_state ? Uniform(rng, l.n, 0.01f, 1.0f) : std::vector<float>());
      dx.emplace_back(hx.back(), l.offset, gpu);
      dg.emplace_back(hg.back(), l.grad_offset, gpu);
      for (int k = 0; k < n_state; ++k) ds[k].emplace_back(hs[k].back(), l.offset, gpu);
    }
  }
  // Table over the host or device copies; half the tensors in a group with lr_scale 0.5 and
  // weight decay 0.01.
  std::vector<kernels::TensorChunk> table(bool device, int64_t chunk = kernels::kChunkElements) {
    std::vector<kernels::TensorSlot> slots;
    for (size_t i = 0; i < hx.size(); ++i) {
      kernels::TensorSlot s{device ? dx[i].data() : hx[i].data(),
                            device ? dg[i].data() : hg[i].data(),
                            {nullptr, nullptr},
                            kLayout[i].n};
      for (int k = 0; k < 2; ++k)
        if (!hs[k][i].empty()) s.state[k] = device ? ds[k][i].data() : hs[k][i].data();
      if (i % 2) s.lr_scale = 0.5f, s.weight_decay = 0.01f;
      slots.push_back(s);
    }
    return kernels::build_chunk_table(slots, chunk);
  }
  std::vector<std::vector<float>> hx, hg, hs[2];
  std::vector<Guarded> dx, dg, ds[2];
};

// Yogi takes sign(g^2 - s): where g^2 and s agree to a rounding, an FMA on the GPU may pick the
// other sign (both are right). Nudge such gradients (by the host's x and s) 1 % away.
void AvoidYogiTies(Tensors& t, float grad_scale) {
  for (size_t i = 0; i < t.hg.size(); ++i)
    for (size_t j = 0; j < t.hg[i].size(); ++j) {
      const float wd = i % 2 ? 0.01f : 0.0f;
      const double g = t.hg[i][j] * grad_scale + wd * t.hx[i][j], s = t.hs[1][i][j];
      if (std::abs(g * g - s) <= 1e-3 * s) t.hg[i][j] *= 1.01f;
    }
}

struct RuleCase {
  const char* name;
  Rule rule;
  kernels::RuleConstants k;
};

// Test listings show the rule's name instead of the struct's bytes.
void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

class GpuOptimizerRules : public ::testing::TestWithParam<RuleCase> {
 protected:
  void SetUp() override {
    const std::string why = cutrain::cuda_unusable_reason();
    if (!why.empty()) GTEST_SKIP() << "no usable CUDA device: " << why;
  }
};

TEST_P(GpuOptimizerRules, KernelMatchesCpuOverTenSteps) {
  const RuleCase& rc = GetParam();
  const int n_state = kernels::state_tensors(rc.rule);
  Context gpu(Device::CUDA);
  Rng rng(1000 + static_cast<uint64_t>(rc.rule));
  Tensors t(rng, n_state, gpu);
  const std::vector<kernels::TensorChunk> cpu_table = t.table(false), gpu_table = t.table(true);
  ASSERT_EQ(cpu_table.size(), gpu_table.size());
  ASSERT_GE(cpu_table.size(), std::size(kLayout) + 3);  // the big tensors span several chunks
  const DeviceTable table(gpu_table, gpu);
  DeviceState state;
  // Rules with bias correction run at an Adam-like rate; see the tolerance below.
  const bool corrected = rc.rule == Rule::Adam || rc.rule == Rule::AdamW || rc.rule == Rule::Yogi;
  const float lr0 = corrected ? 1e-3f : rc.rule == Rule::Adadelta ? 1.0f : 0.05f;
  kernels::StepState st;
  // The largest |value| of each tensor along the way (CPU side): the tolerances scale with it.
  std::vector<double> x_peak(t.hx.size()), s_peak[2] = {x_peak, x_peak};
  auto track_peaks = [&] {
    for (size_t i = 0; i < t.hx.size(); ++i) {
      x_peak[i] = std::max(x_peak[i], MaxAbs(t.hx[i]));
      for (int k = 0; k < n_state; ++k) s_peak[k][i] = std::max(s_peak[k][i], MaxAbs(t.hs[k][i]));
    }
  };
  track_peaks();
  for (int step = 1; step <= kSteps; ++step) {
    st.lr = lr0 * (1.0f - 0.05f * static_cast<float>(step));
    st.grad_scale = step % 3 ? 1.0f : 0.6f;
    st.step = step;
    for (size_t i = 0; i < t.hg.size(); ++i) {  // in place: the CPU table points into hg
      const std::vector<float> g = Uniform(rng, kLayout[i].n, -1.0f, 1.0f);
      std::copy(g.begin(), g.end(), t.hg[i].begin());
    }
    if (rc.rule == Rule::Yogi) AvoidYogiTies(t, st.grad_scale);
    for (size_t i = 0; i < t.hg.size(); ++i) t.dg[i].upload(t.hg[i], gpu);
    state.upload(st, gpu);
    kernels::launch_multi_tensor_update(rc.rule, table.get(), table.chunks, rc.k, state.get(),
                                        gpu.stream());
    kernels::multi_tensor_update_cpu(rc.rule, cpu_table.data(), table.chunks, rc.k, &st);
    track_peaks();
  }
  // 1e-6 relative, plus 1e-6 of the largest |value| the tensor had along the way: nvcc forms
  // FMAs the host build does not, one rounding apart per operation, and a value that rose and
  // then nearly cancelled (Adadelta at lr 1 takes x from 5.5 to 1e-3) keeps the rounding of its
  // peak. 1e-7 of the final max|x| (about one ulp there) was used up to 0.98 by Adadelta's
  // seed in a CPU replay of the kernel's FMAs; with the peak and 1e-6, 50 seeds of every rule
  // stay under 0.3 of it, while a wrong formula is off by orders more. The same bound for every
  // rule: Adam's bias corrections are computed in double on both sides (optimizer_math.h).
  for (size_t i = 0; i < t.hx.size(); ++i) {
    SCOPED_TRACE("tensor " + std::to_string(i) + " (" + std::to_string(kLayout[i].n) + ")");
    EXPECT_TRUE(Near("param", t.dx[i].download(gpu, "param"), t.hx[i], 1e-6, 1e-6 * x_peak[i]));
    EXPECT_TRUE(Near("grad (read only)", t.dg[i].download(gpu, "grad"), t.hg[i], 0, 0));
    for (int k = 0; k < n_state; ++k)
      EXPECT_TRUE(Near("state " + std::to_string(k), t.ds[k][i].download(gpu, "state"), t.hs[k][i],
                       1e-6, 1e-6 * s_peak[k][i]));
  }
}

kernels::RuleConstants Constants(float b1, float b2, float eps) { return {b1, b2, eps}; }

INSTANTIATE_TEST_SUITE_P(
    AllRules, GpuOptimizerRules,
    ::testing::Values(RuleCase{"sgd", Rule::Sgd, Constants(0.9f, 0.999f, 0.0f)},
                      RuleCase{"momentum", Rule::Momentum, Constants(0.9f, 0.999f, 0.0f)},
                      RuleCase{"nesterov", Rule::Nesterov, Constants(0.5f, 0.999f, 0.0f)},
                      RuleCase{"adagrad", Rule::Adagrad, Constants(0.9f, 0.999f, 1e-6f)},
                      RuleCase{"rmsprop", Rule::RmsProp, Constants(0.9f, 0.9f, 1e-6f)},
                      RuleCase{"adadelta", Rule::Adadelta, Constants(0.9f, 0.9f, 1e-5f)},
                      RuleCase{"adam", Rule::Adam, Constants(0.9f, 0.999f, 1e-6f)},
                      RuleCase{"adamw", Rule::AdamW, Constants(0.8f, 0.99f, 1e-6f)},
                      RuleCase{"yogi", Rule::Yogi, Constants(0.9f, 0.999f, 1e-3f)}),
    [](const ::testing::TestParamInfo<RuleCase>& info) { return std::string(info.param.name); });

// With the default chunks (10 of them) and with chunks of 64 floats (over 1,600: more partial
// sums than the scale kernel's block has threads, so its strided loop runs).
TEST_F(GpuOptimizers, ClipGradNormMatchesCpuThenClippedUpdate) {
  Context gpu(Device::CUDA);
  Rng rng(77);
  Tensors t(rng, 1, gpu);
  DeviceState state;
  const kernels::RuleConstants k = Constants(0.9f, 0.999f, 0.0f);
  double sum = 0.0;  // the norm in double, for the record
  for (const auto& g : t.hg)
    for (float v : g) sum += static_cast<double>(v) * v;
  const double norm = std::sqrt(sum);  // ~ sqrt(100000 / 3) ~ 180
  for (const int64_t chunk : {kernels::kChunkElements, int64_t{64}})
    for (const float max_norm : {1.0f, 1e4f}) {
      SCOPED_TRACE("chunks of " + std::to_string(chunk) + ", max_norm " + std::to_string(max_norm));
      const std::vector<kernels::TensorChunk> cpu_table = t.table(false, chunk),
                                              gpu_table = t.table(true, chunk);
      const DeviceTable table(gpu_table, gpu);
      const int64_t chunks = table.chunks;
      ASSERT_GT(chunks, chunk == 64 ? 1000 : 5);
      Tensor partials(Shape{chunks}, Device::CUDA);
      std::vector<float> host_partials(static_cast<size_t>(chunks));
      kernels::StepState st;
      st.lr = 0.05f;
      st.step = 1;
      st.grad_scale = 123.0f;  // both must overwrite it
      state.upload(st, gpu);
      kernels::launch_clip_grad_norm(table.get(), chunks, max_norm, partials.data(), state.get(),
                                     gpu.stream());
      kernels::clip_grad_norm_cpu(cpu_table.data(), chunks, max_norm, host_partials.data(), &st);
      const kernels::StepState got = state.download(gpu);
      EXPECT_NEAR(st.grad_norm, norm, 1e-6 * norm);
      EXPECT_NEAR(got.grad_norm, st.grad_norm, 1e-6 * st.grad_norm);
      EXPECT_NEAR(got.grad_scale, st.grad_scale, 1e-6 * st.grad_scale);
      EXPECT_TRUE(got.lr == st.lr && got.step == st.step) << "the clip writes norm and scale only";
      EXPECT_NEAR(got.grad_scale, std::min(1.0, max_norm / norm), 1e-6 * got.grad_scale);
      kernels::launch_multi_tensor_update(Rule::Momentum, table.get(), chunks, k, state.get(),
                                          gpu.stream());
      kernels::multi_tensor_update_cpu(Rule::Momentum, cpu_table.data(), chunks, k, &st);
      for (size_t i = 0; i < t.hx.size(); ++i) {
        const std::string name = "tensor " + std::to_string(i);
        // One FMA apart per operation (see KernelMatchesCpuOverTenSteps).
        EXPECT_TRUE(Near(name + " param", t.dx[i].download(gpu, name), t.hx[i], 1e-6,
                         1e-7 * MaxAbs(t.hx[i])));
        EXPECT_TRUE(Near(name + " v", t.ds[0][i].download(gpu, name), t.hs[0][i], 1e-6,
                         1e-6 * MaxAbs(t.hs[0][i])));
      }
    }
}

// One device's side: w [37, 29] and big [7, 10001] decayed, b [29] not (decay_groups).
struct Side {
  Side(Device device, const std::vector<std::vector<float>>& init) : ctx(device) {
    const Shape shapes[3] = {{37, 29}, {29}, {7, 10001}};
    for (int i = 0; i < 3; ++i) {
      values[i] = Tensor::from_vector(init[i], shapes[i], device);
      grads[i] = Tensor::zeros(shapes[i], device);
    }
    cutrain::OptimizerOptions o;
    o.lr = 2e-3;
    o.weight_decay = 0.05;
    o.clip_norm = 1.0;
    opt = cutrain::make_optimizer("adam",
                                  cutrain::decay_groups({{"w", &values[0], &grads[0]},
                                                         {"b", &values[1], &grads[1]},
                                                         {"big", &values[2], &grads[2]}}),
                                  o, ctx);
  }
  Context ctx;
  Tensor values[3], grads[3];
  std::unique_ptr<cutrain::Optimizer> opt;
};

TEST_F(GpuOptimizers, AdamWithDecayAndClippingMatchesCpuThroughMakeOptimizer) {
  Rng rng(2024);
  std::vector<std::vector<float>> init;
  for (int64_t n : {37 * 29, 29, 7 * 10001}) init.push_back(Uniform(rng, n, -1.0f, 1.0f));
  Side cpu(Device::CPU, init), gpu(Device::CUDA, init);
  for (int step = 1; step <= kSteps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    // Every third step the gradients are small: global norm < 1, no clipping.
    const float scale = step % 3 == 0 ? 1e-3f : 1.0f;
    for (int i = 0; i < 3; ++i) {
      const std::vector<float> g = Uniform(rng, init[i].size(), -scale, scale);
      cpu.grads[i].copy_from_host(g.data(), cpu.grads[i].numel());
      gpu.grads[i].copy_from_host(g.data(), gpu.grads[i].numel(), gpu.ctx.stream());
    }
    const double lr = 2e-3 * (1.0 - 0.05 * step);
    cpu.opt->set_lr(lr);
    gpu.opt->set_lr(lr);
    cpu.opt->step(cpu.ctx);
    gpu.opt->step(gpu.ctx);
    const double norm = cpu.opt->last_grad_norm(cpu.ctx);
    EXPECT_GT(norm, step % 3 == 0 ? 0.01 : 100.0);  // clipped twice out of three steps
    EXPECT_NEAR(gpu.opt->last_grad_norm(gpu.ctx), norm, 1e-6 * norm);
  }
  // Params within KernelMatchesCpuOverTenSteps's bound (the clip scales agree to 1e-6, which
  // moves Adam's update by ~1e-6 of lr, far below it).
  for (int i = 0; i < 3; ++i) {
    const std::vector<float> c = cpu.values[i].to_vector();
    EXPECT_TRUE(Near("param " + std::to_string(i), gpu.values[i].to_vector(gpu.ctx.stream()), c,
                     1e-6, 1e-7 * MaxAbs(c)));
  }
  const cutrain::OptimizerState sc = cpu.opt->save_state(cpu.ctx),
                                sg = gpu.opt->save_state(gpu.ctx);
  EXPECT_EQ(sg.steps, kSteps);
  ASSERT_EQ(sc.tensors.size(), sg.tensors.size());
  for (size_t k = 0; k < sc.tensors.size(); ++k) {
    EXPECT_EQ(sg.tensors[k].first, sc.tensors[k].first);
    EXPECT_TRUE(Near(sc.tensors[k].first, sg.tensors[k].second, sc.tensors[k].second, 1e-6,
                     1e-6 * MaxAbs(sc.tensors[k].second)));
  }
}

// load_state copies into state that steps queued on the (non-blocking) compute stream may still
// be writing: it must order itself after them. 200 steps over 16M elements (about 67 GB of
// traffic, tens of ms even on an H200) are still running when the host calls load_state, so a
// copy that did not wait would be overwritten by the later steps.
TEST_F(GpuOptimizers, LoadStateWaitsForQueuedSteps) {
  Context gpu(Device::CUDA);
  const int64_t n = int64_t{1} << 24;
  Tensor x = Tensor::zeros({n}, Device::CUDA), g(Shape{n}, Device::CUDA);
  g.fill(1.0f);
  auto opt = cutrain::make_optimizer("momentum", {{"x", &x, &g}}, 0.1, gpu);
  cutrain::OptimizerState loaded = opt->save_state(gpu);
  ASSERT_EQ(loaded.tensors.size(), 1u);
  // 7 is a value the queued steps never write (v = 0.9 v + 1 goes 1, 1.9, 2.71, ... towards 10
  // and never equals 7 in float).
  std::fill(loaded.tensors[0].second.begin(), loaded.tensors[0].second.end(), 7.0f);
  loaded.steps = 3;
  for (int i = 0; i < 200; ++i) opt->step(gpu);  // queued on the compute stream
  opt->load_state(loaded, gpu);
  const std::vector<float> v = opt->save_state(gpu).tensors.at(0).second;
  ASSERT_EQ(static_cast<int64_t>(v.size()), n);
  int64_t wrong = 0;
  for (float e : v) wrong += e == 7.0f ? 0 : 1;  // NaN counts as wrong
  EXPECT_EQ(wrong, 0) << "of " << n << " state values differ from the loaded 7.0";
  EXPECT_EQ(opt->steps(), 3);
}

}  // namespace
