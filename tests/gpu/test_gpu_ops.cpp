// Every CUDA op against its CPU twin on seeded random inputs: the kernel launchers directly, and
// each layer's CUDA path through the public API. GPU outputs are poisoned with NaN first, so an
// element the GPU never writes fails the comparison, and guard elements past the end (or past
// the run batch) must stay poisoned. Skipped when no usable CUDA device is present.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "activation.h"
#include "cutrain/context.h"
#include "cutrain/device.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/pooling.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"
#include "multi_tensor.h"
#include "optimizer_update.h"
#include "softmax_ce.h"
#include "support/compare.h"
#include "support/cuda_test.h"

namespace {

using cutrain::Context;
using cutrain::Device;
using cutrain::Layer;
using cutrain::Parameter;
using cutrain::Rng;
using cutrain::Shape;
using cutrain::Tensor;
namespace kernels = cutrain::kernels;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int64_t kGuard = 37;  // poisoned elements after a kernel's output that must stay NaN

using GpuOps = cutrain::test::CudaTest;
using GpuLayers = GpuOps;
using cutrain::test::MaxAbs;
using cutrain::test::Poisoned;
using cutrain::test::StillPoisoned;
using cutrain::test::Uniform;
using cutrain::test::Upload;

// The GPU outputs may run on into the guard, which StillPoisoned checks on its own.
::testing::AssertionResult Near(const std::string& what, const std::vector<float>& gpu,
                                const std::vector<float>& cpu, double rtol, double atol) {
  return cutrain::test::Near(what, gpu, cpu, rtol, atol, cutrain::test::Tail::kIgnored);
}

void CheckActivation(kernels::Activation a, double rtol, double atol) {
  Context gpu(Device::CUDA);
  for (int64_t n : {int64_t{1}, int64_t{1000}, (int64_t{1} << 20) + 3}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    Rng rng(static_cast<uint64_t>(n) + 11);
    const std::vector<float> x = Uniform(rng, n, -6.0f, 6.0f), dy = Uniform(rng, n, -1.0f, 1.0f);
    std::vector<float> y(x.size()), dx(x.size());
    kernels::activation_forward_cpu(a, x.data(), y.data(), n);
    kernels::activation_backward_cpu(a, x.data(), y.data(), dy.data(), dx.data(), n);
    // Backward gets the CPU's y, so it is checked independently of forward.
    Tensor xg = Upload(x, gpu), y_in = Upload(y, gpu), dyg = Upload(dy, gpu);
    Tensor yg = Poisoned(n + kGuard, gpu), dxg = Poisoned(n + kGuard, gpu);
    kernels::launch_activation_forward(a, xg.data(), yg.data(), n, gpu.stream());
    kernels::launch_activation_backward(a, xg.data(), y_in.data(), dyg.data(), dxg.data(), n,
                                        gpu.stream());
    const std::vector<float> y_gpu = yg.to_vector(gpu.stream());
    const std::vector<float> dx_gpu = dxg.to_vector(gpu.stream());
    EXPECT_TRUE(Near("y", y_gpu, y, rtol, atol));
    EXPECT_TRUE(StillPoisoned("y", y_gpu, y.size()));
    EXPECT_TRUE(Near("dx", dx_gpu, dx, rtol, atol));
    EXPECT_TRUE(StillPoisoned("dx", dx_gpu, dx.size()));
  }
}

TEST_F(GpuOps, ReluKernelsMatchCpu) { CheckActivation(kernels::Activation::ReLU, 0.0, 0.0); }

TEST_F(GpuOps, SigmoidKernelsMatchCpu) {
  // Device expf is within 2 ulp of the host's.
  CheckActivation(kernels::Activation::Sigmoid, 1e-5, 1e-7);
}

TEST_F(GpuOps, SoftmaxCrossEntropyMatchesCpu) {
  Context gpu(Device::CUDA);
  for (float range : {5.0f, 1e4f}) {
    for (int classes : {10, 3}) {
      for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{256}, int64_t{1000}}) {
        SCOPED_TRACE("logits in +-" + std::to_string(range) + ", n = " + std::to_string(n) +
                     ", classes = " + std::to_string(classes));
        Rng rng(static_cast<uint64_t>(n * 131 + classes) + (range > 10.0f ? 7 : 0));
        const int64_t total = n * classes;
        const std::vector<float> logits = Uniform(rng, total, -range, range);
        std::vector<float> labels(static_cast<size_t>(n));
        for (float& l : labels) l = static_cast<float>(rng.below(static_cast<uint64_t>(classes)));
        const float scale = 1.0f / static_cast<float>(n);
        std::vector<float> dz(static_cast<size_t>(total)), scratch(static_cast<size_t>(2 * n)),
            sums(2);
        kernels::softmax_ce_cpu(logits.data(), labels.data(), n, classes, scale, dz.data(),
                                scratch.data(), sums.data());

        Tensor zg = Upload(logits, gpu), lg = Upload(labels, gpu);
        Tensor dzg = Poisoned(total + kGuard, gpu), sg = Poisoned(2 * n, gpu);
        Tensor sums_g = Poisoned(2, gpu), sums_only = Poisoned(2, gpu);
        kernels::launch_softmax_ce(zg.data(), lg.data(), n, classes, scale, dzg.data(), sg.data(),
                                   sums_g.data(), gpu.stream());
        kernels::launch_softmax_ce(zg.data(), lg.data(), n, classes, scale, nullptr, sg.data(),
                                   sums_only.data(), gpu.stream());  // evaluation: no gradient
        const std::vector<float> dz_gpu = dzg.to_vector(gpu.stream());
        // Near +-1e4 one ulp is ~1e-3: a row loss may round one ulp apart.
        const double loss_atol = range > 10.0f ? 4e-3 : 1e-5;
        EXPECT_TRUE(Near("dlogits", dz_gpu, dz, 1e-4, 1e-6 * scale));
        EXPECT_TRUE(StillPoisoned("dlogits", dz_gpu, dz.size()));
        for (const Tensor* s : {&sums_g, &sums_only}) {
          const std::vector<float> got = s->to_vector(gpu.stream());
          EXPECT_TRUE(Near("loss sum", got, {sums[0]}, 1e-5, loss_atol));
          EXPECT_EQ(got[1], sums[1]) << "correct predictions";
        }
      }
    }
  }
}

TEST_F(GpuOps, SgdUpdateMatchesCpuOverChunkTable) {
  Context gpu(Device::CUDA);
  constexpr int64_t kC = kernels::kChunkElements;
  const std::vector<int64_t> sizes = {1, 37, kC, kC + 1, 999, 3 * kC + 1001};
  Rng rng(5);
  std::vector<std::vector<float>> grads;
  std::vector<Tensor> pc, gc, pg, gg;
  int64_t expected_chunks = 0;
  for (int64_t n : sizes) {
    const std::vector<float> p = Uniform(rng, n, -2.0f, 2.0f);
    grads.push_back(Uniform(rng, n, -3.0f, 3.0f));
    pc.push_back(Tensor::from_vector(p, Shape{n}, Device::CPU));
    gc.push_back(Tensor::from_vector(grads.back(), Shape{n}, Device::CPU));
    pg.push_back(Upload(p, gpu));
    gg.push_back(Upload(grads.back(), gpu));
    expected_chunks += (n + kC - 1) / kC;
  }
  std::vector<kernels::TensorSlot> cpu_slots, gpu_slots;
  for (size_t i = 0; i < sizes.size(); ++i) {
    cpu_slots.push_back({pc[i].data(), gc[i].data(), {nullptr, nullptr}, sizes[i]});
    gpu_slots.push_back({pg[i].data(), gg[i].data(), {nullptr, nullptr}, sizes[i]});
  }
  const std::vector<kernels::TensorChunk> cpu_table = kernels::build_chunk_table(cpu_slots);
  const std::vector<kernels::TensorChunk> gpu_table = kernels::build_chunk_table(gpu_slots);
  ASSERT_EQ(static_cast<int64_t>(gpu_table.size()), expected_chunks);
  ASSERT_EQ(cpu_table.size(), gpu_table.size());
  const auto chunks = static_cast<int64_t>(gpu_table.size());

  // The table of device pointers goes to device memory as raw words, as
  // core/src/optim/fused_optimizer.cpp does; the learning rate is read from device memory at each
  // launch.
  const auto words =
      static_cast<int64_t>(gpu_table.size() * sizeof(kernels::TensorChunk) / sizeof(float));
  const auto state_words = static_cast<int64_t>(sizeof(kernels::StepState) / sizeof(float));
  Tensor table(Shape{words}, Device::CUDA), state_dev(Shape{state_words}, Device::CUDA);
  table.copy_from_host(reinterpret_cast<const float*>(gpu_table.data()), words, gpu.stream());
  kernels::StepState st;
  for (float lr : {0.05f, 0.3f}) {
    st.lr = lr;
    ++st.step;
    state_dev.copy_from_host(reinterpret_cast<const float*>(&st), state_words, gpu.stream());
    kernels::launch_multi_tensor_update(
        kernels::OptimizerRule::Sgd, reinterpret_cast<const kernels::TensorChunk*>(table.data()),
        chunks, {}, reinterpret_cast<const kernels::StepState*>(state_dev.data()), gpu.stream());
    kernels::multi_tensor_update_cpu(kernels::OptimizerRule::Sgd, cpu_table.data(), chunks, {},
                                     &st);
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string name = "tensor " + std::to_string(i) + " (" + std::to_string(sizes[i]) + ")";
    // The GPU may fuse x - lr * g into one FMA: one rounding apart.
    EXPECT_TRUE(
        Near(name + " param", pg[i].to_vector(gpu.stream()), pc[i].to_vector(), 1e-6, 1e-6));
    EXPECT_TRUE(Near(name + " grad (read only)", gg[i].to_vector(gpu.stream()), grads[i], 0, 0));
  }
}

using MakeLayer = std::function<std::unique_ptr<Layer>()>;

// Builds the layer on each device from one seed (at batch built[0]), runs forward and backward
// at batch n <= built[0] on the same x and dy, and compares y, dx and every parameter gradient.
// atol is relative to the largest |cpu| value of each tensor: the rounding error of a long float
// sum (or of an FFT/Winograd convolution) scales with its terms, not with a result near zero.
// With `math` TF32 the GPU side runs on TF32 tensor cores (wider tolerances, see below).
void CheckLayer(const MakeLayer& make, const Shape& built, int64_t n, double rtol = 1e-4,
                double atol = 1e-4, cutrain::Float32Math math = cutrain::Float32Math::Full) {
  Context cpu(Device::CPU), gpu(Device::CUDA, math);
  std::unique_ptr<Layer> lc = make(), lg = make();
  Rng rc(42), rg(42);
  const Shape out_built = lc->build(built, Device::CPU, rc);
  ASSERT_EQ(lg->build(built, Device::CUDA, rg), out_built);
  const std::string k = lc->kind();
  std::vector<Parameter> pc = lc->parameters(), pg = lg->parameters();
  ASSERT_EQ(pc.size(), pg.size());
  // Same seed, host initialisation: equal parameters. Reading on the default stream also waits
  // for the initialisation that build() queued there.
  for (size_t i = 0; i < pc.size(); ++i)
    ASSERT_TRUE(Near(k + "." + pc[i].name + " initial value", pg[i].value->to_vector(),
                     pc[i].value->to_vector(), 0, 0));
  // Then equal random offsets everywhere: the built biases are zero.
  cutrain::test::PerturbParametersAlike(pc, pg, 4321);

  Shape in = built, out = out_built;
  in[0] = out[0] = n;
  Rng data(1234);
  Tensor xc = Tensor::from_vector(Uniform(data, cutrain::numel_of(in), -1, 1), in, Device::CPU);
  Tensor dyc = Tensor::from_vector(Uniform(data, cutrain::numel_of(out), -1, 1), out, Device::CPU);
  Tensor xg = xc.to(Device::CUDA, gpu.stream()), dyg = dyc.to(Device::CUDA, gpu.stream());
  // Outputs sized for the built batch and poisoned: rows past the run batch must stay NaN.
  Tensor yc(out_built, Device::CPU), dxc(built, Device::CPU);
  Tensor yg(out_built, Device::CUDA), dxg(built, Device::CUDA);
  for (Tensor* t : {&yc, &dxc}) t->fill(kNaN);
  for (Tensor* t : {&yg, &dxg}) t->fill(kNaN, gpu.stream());
  for (Parameter& p : pc) p.grad->fill(kNaN);
  for (Parameter& p : pg) p.grad->fill(kNaN, gpu.stream());
  Tensor ycn = yc.narrow_batch(n), dxcn = dxc.narrow_batch(n);
  Tensor ygn = yg.narrow_batch(n), dxgn = dxg.narrow_batch(n);
  lc->forward(xc, ycn, cpu);
  lc->backward(xc, ycn, dyc, &dxcn, cpu);
  lg->forward(xg, ygn, gpu);
  lg->backward(xg, ygn, dyg, &dxgn, gpu);

  const std::vector<float> y_cpu = ycn.to_vector(), dx_cpu = dxcn.to_vector();
  const std::vector<float> y_gpu = yg.to_vector(gpu.stream()), dx_gpu = dxg.to_vector(gpu.stream());
  EXPECT_TRUE(Near(k + " y", y_gpu, y_cpu, rtol, atol * MaxAbs(y_cpu)));
  EXPECT_TRUE(StillPoisoned(k + " y", y_gpu, y_cpu.size()));
  EXPECT_TRUE(Near(k + " dx", dx_gpu, dx_cpu, rtol, atol * MaxAbs(dx_cpu)));
  EXPECT_TRUE(StillPoisoned(k + " dx", dx_gpu, dx_cpu.size()));
  for (size_t i = 0; i < pc.size(); ++i) {
    const std::vector<float> g_cpu = pc[i].grad->to_vector();
    EXPECT_TRUE(Near(k + "." + pc[i].name + " grad", pg[i].grad->to_vector(gpu.stream()), g_cpu,
                     rtol, atol * MaxAbs(g_cpu)));
  }
}

TEST_F(GpuLayers, LinearMatchesCpu) {
  CheckLayer([] { return std::make_unique<cutrain::Linear>(37, 23); }, {5, 37}, 5);
}

TEST_F(GpuLayers, LinearNarrowBatchMatchesCpu) {
  CheckLayer([] { return std::make_unique<cutrain::Linear>(37, 23); }, {8, 37}, 5);
}

// Sets (or with nullptr unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Linear's two ways on CUDA: the bias inside cuBLASLt GEMM epilogues (BIAS forward, BGRADB
// backward) and the separate cuBLAS calls (CUTRAIN_CUBLASLT=0, or no cuBLASLt algorithm), each
// against the CPU at LeNet's shapes (batch 256, and a partial batch) and at odd ones.
TEST_F(GpuLayers, LinearBothBiasPathsMatchCpu) {
  struct Case {
    int64_t in, out, built, n;
  };
  for (const bool fused : {true, false}) {
    const ScopedEnv env("CUTRAIN_CUBLASLT", fused ? nullptr : "0");
    // Batches of 1 and sides of 1 take the separate calls even when fused is on.
    for (const Case& c :
         {Case{400, 120, 256, 256}, Case{120, 84, 256, 96}, Case{84, 10, 256, 256},
          Case{400, 10, 256, 7}, Case{400, 10, 256, 1}, Case{37, 23, 8, 5}, Case{1, 1, 3, 3}}) {
      SCOPED_TRACE(std::string(fused ? "cuBLASLt epilogues" : "separate calls") + ", linear " +
                   std::to_string(c.in) + "->" + std::to_string(c.out) + ", batch " +
                   std::to_string(c.n) + " of " + std::to_string(c.built));
      CheckLayer([&] { return std::make_unique<cutrain::Linear>(c.in, c.out); }, {c.built, c.in},
                 c.n);
    }
    // Which way ran: the switch must be obeyed; with it on, LeNet's first Linear must take the
    // epilogues (cuBLASLt has FP32 BIAS/BGRADB algorithms on sm_80/sm_90: a silent fallback is
    // correct but costs two launches a layer, and would make the fused half above test nothing).
    Context gpu(Device::CUDA);
    cutrain::Linear layer(400, 120);
    Rng rng(1);
    layer.build({256, 400}, Device::CUDA, rng);
    Tensor x = Tensor::from_vector(Uniform(rng, 256 * 400, -1, 1), {256, 400}, Device::CPU)
                   .to(Device::CUDA, gpu.stream());
    Tensor y({256, 120}, Device::CUDA), dy({256, 120}, Device::CUDA);
    dy.fill(0.5f, gpu.stream());
    layer.forward(x, y, gpu);
    layer.backward(x, y, dy, nullptr, gpu);
    gpu.synchronize();
    if (!fused) {
      EXPECT_FALSE(layer.bias_fused());
      continue;
    }
    EXPECT_TRUE(layer.bias_fused())
        << "Linear 400->120 at batch 256: cuBLASLt offered no algorithm with the BIAS/BGRADB "
           "epilogues (or CUTRAIN_CUBLASLT is set), so the bias ran in separate cuBLAS calls";
  }
}

TEST_F(GpuLayers, Conv2dMatchesCpu) {
  struct Case {
    cutrain::Conv2dOptions opt;
    int64_t h, w;
  };
  for (const Case& c : {Case{{1, 6, 5, 1, 2}, 28, 28}, Case{{6, 16, 5, 1, 0}, 15, 13},
                        Case{{3, 4, 3, 2, 1}, 9, 10}}) {
    SCOPED_TRACE("conv " + std::to_string(c.opt.in_channels) + "->" +
                 std::to_string(c.opt.out_channels) + " k" + std::to_string(c.opt.kernel) + " s" +
                 std::to_string(c.opt.stride) + " p" + std::to_string(c.opt.padding) + " on " +
                 std::to_string(c.h) + "x" + std::to_string(c.w));
    CheckLayer([&] { return std::make_unique<cutrain::Conv2d>(c.opt); },
               {3, c.opt.in_channels, c.h, c.w}, 3);
  }
}

TEST_F(GpuLayers, Conv2dNarrowBatchMatchesCpu) {
  CheckLayer(
      [] {
        return std::make_unique<cutrain::Conv2d>(cutrain::Conv2dOptions{6, 16, 5, 1, 0});
      },
      {5, 6, 14, 14}, 3);
}

// --tf32: convolutions and GEMMs on TF32 tensor cores. Operands keep 10 mantissa bits (relative
// rounding 2^-11), so a product is off by up to ~1e-3 and a K-term sum of random-signed terms by
// ~1e-3 of its largest value: 1e-2 of the largest |cpu| value bounds it with room, yet a wrong
// layout, algorithm or math type (errors of order 1) still fails.
TEST_F(GpuLayers, Tf32LayersMatchCpuLoosely) {
  constexpr double kTol = 1e-2;
  constexpr auto kTf32 = cutrain::Float32Math::TF32;
  for (const bool fused : {true, false}) {
    const ScopedEnv env("CUTRAIN_CUBLASLT", fused ? nullptr : "0");
    SCOPED_TRACE(fused ? "cuBLASLt epilogues" : "separate cuBLAS calls");
    CheckLayer([] { return std::make_unique<cutrain::Linear>(400, 120); }, {256, 400}, 256, kTol,
               kTol, kTf32);
    CheckLayer([] { return std::make_unique<cutrain::Linear>(37, 23); }, {8, 37}, 5, kTol, kTol,
               kTf32);
  }
  for (const cutrain::Conv2dOptions& o :
       {cutrain::Conv2dOptions{1, 6, 5, 1, 2}, cutrain::Conv2dOptions{64, 64, 3, 1, 1},
        cutrain::Conv2dOptions{64, 128, 1, 2, 0}}) {
    SCOPED_TRACE("conv " + std::to_string(o.in_channels) + "->" + std::to_string(o.out_channels) +
                 " k" + std::to_string(o.kernel) + " s" + std::to_string(o.stride));
    CheckLayer([&] { return std::make_unique<cutrain::Conv2d>(o); }, {8, o.in_channels, 14, 14}, 8,
               kTol, kTol, kTf32);
  }
}

// The switch must reach the libraries: a 400-term GEMM on TF32 tensor cores cannot give the
// float32 result bit for bit (Full matches the CPU to 1e-4 in the tests above; here the two GPU
// results must differ), through cuBLASLt and through cuBLAS's handle (CUTRAIN_CUBLASLT=0).
// Whether cuDNN takes a tensor-op algorithm for a convolution is its heuristic's choice, so the
// convolution's share of changed values is printed, not required.
TEST_F(GpuLayers, Tf32ChangesGemmResults) {
  if (const char* o = std::getenv("NVIDIA_TF32_OVERRIDE"); o != nullptr && std::string(o) == "0")
    GTEST_SKIP() << "NVIDIA_TF32_OVERRIDE=0 turns TF32 off for the whole process";
  auto changed = [](const std::vector<float>& a, const std::vector<float>& b) {
    size_t n = 0;
    for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i] ? 1 : 0;
    return static_cast<double>(n) / static_cast<double>(a.size());
  };
  auto run = [](const MakeLayer& make, const Shape& in, cutrain::Float32Math math) {
    Context gpu(Device::CUDA, math);
    std::unique_ptr<Layer> layer = make();
    Rng rng(7);
    const Shape out = layer->build(in, Device::CUDA, rng);
    Tensor x = Tensor::from_vector(Uniform(rng, cutrain::numel_of(in), -1, 1), in, Device::CPU)
                   .to(Device::CUDA, gpu.stream());
    Tensor y(out, Device::CUDA);
    layer->forward(x, y, gpu);
    return y.to_vector(gpu.stream());
  };
  for (const bool fused : {true, false}) {
    const ScopedEnv env("CUTRAIN_CUBLASLT", fused ? nullptr : "0");
    const MakeLayer linear = [] { return std::make_unique<cutrain::Linear>(400, 120); };
    const double share = changed(run(linear, {256, 400}, cutrain::Float32Math::Full),
                                 run(linear, {256, 400}, cutrain::Float32Math::TF32));
    EXPECT_GT(share, 0.5) << (fused ? "cuBLASLt" : "cuBLAS")
                          << ": TF32 left the GEMM's results unchanged";
  }
  const MakeLayer conv = [] {
    return std::make_unique<cutrain::Conv2d>(cutrain::Conv2dOptions{64, 64, 3, 1, 1});
  };
  const Shape in{32, 64, 16, 16};
  std::printf("conv 64->64 3x3 on 32x64x16x16: TF32 changed %.1f%% of the outputs\n",
              100.0 * changed(run(conv, in, cutrain::Float32Math::Full),
                              run(conv, in, cutrain::Float32Math::TF32)));
}

void CheckPool(cutrain::PoolMode mode) {
  for (const auto& [k, s, shape] : {std::tuple<int64_t, int64_t, Shape>{2, 2, {3, 4, 9, 7}},
                                    std::tuple<int64_t, int64_t, Shape>{3, 2, {2, 3, 11, 8}}}) {
    SCOPED_TRACE("k" + std::to_string(k) + " s" + std::to_string(s) + " on " +
                 cutrain::to_string(shape));
    CheckLayer([&, k = k, s = s] { return std::make_unique<cutrain::Pool2d>(mode, k, s); }, shape,
               shape[0]);
  }
}

TEST_F(GpuLayers, MaxPool2dMatchesCpu) { CheckPool(cutrain::PoolMode::Max); }

TEST_F(GpuLayers, AvgPool2dMatchesCpu) { CheckPool(cutrain::PoolMode::Average); }

TEST_F(GpuLayers, ActivationLayersMatchCpu) {
  for (auto kind : {cutrain::ActivationKind::ReLU, cutrain::ActivationKind::Sigmoid}) {
    SCOPED_TRACE(kind == cutrain::ActivationKind::ReLU ? "relu" : "sigmoid");
    CheckLayer([kind] { return std::make_unique<cutrain::ActivationLayer>(kind); }, {3, 5, 7, 9},
               3);
  }
}

}  // namespace
