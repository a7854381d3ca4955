// The CUDA input paths and CUDA graphs change how work reaches the GPU, not what it computes:
//  - the device epoch order (random keys + CUB radix sort) is the host loader's permutation, and
//    the gather kernel produces the floats BatchLoader::fill produces, bit for bit;
//  - training with pinned staging, --data-on-device, --cuda-graph and both gives the same
//    metrics for the same seed, with a per-step scheduler changing the lr between replays and
//    partial last batches (a second graph per shape);
//  - a run resumed from a checkpoint in graph mode continues Adam's step count t on the device;
//  - the device-resident data follow a data set changed in place, and more data sets than stay
//    uploaded.
// Skipped without a usable device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "add.h"
#include "batch_gather.h"
#include "cutrain/context.h"
#include "cutrain/data/loader.h"
#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/rng.h"
#include "cutrain/schedule/scheduler.h"
#include "cutrain/train/batch_pipeline.h"
#include "cutrain/train/checkpoint.h"
#include "cutrain/train/trainer.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"
#include "train/step_graphs.h"

namespace {

using cutrain::Context;
using cutrain::Device;
using cutrain::EpochMetrics;
using cutrain::Tensor;
namespace data = cutrain::data;
namespace kernels = cutrain::kernels;

using GpuPipeline = cutrain::test::CudaTest;

// The tests hold raw bytes (uint8 images, int32 orders) in float tensors: the public Tensor is
// the only device allocation the test binary may use (it also builds without CUDA headers).
template <typename T>
Tensor DeviceCopy(const std::vector<T>& host, const Context& ctx) {
  const size_t bytes = host.size() * sizeof(T);
  std::vector<float> words((bytes + 3) / 4 + 1, 0.0f);
  std::memcpy(words.data(), host.data(), bytes);
  Tensor t(cutrain::Shape{static_cast<int64_t>(words.size())}, Device::CUDA);
  t.copy_from_host(words.data(), t.numel(), ctx.stream());
  return t;
}

template <typename T>
std::vector<T> Download(const Tensor& t, int64_t n, const Context& ctx) {
  const std::vector<float> words = t.to_vector(ctx.stream());
  std::vector<T> host(static_cast<size_t>(n));
  std::memcpy(host.data(), words.data(), host.size() * sizeof(T));
  return host;
}

template <typename T>
T* As(Tensor& t) {
  return reinterpret_cast<T*>(t.data());
}

TEST_F(GpuPipeline, DeviceShuffleOrderIsTheHostLoadersPermutation) {
  Context ctx(Device::CUDA);
  for (int64_t count : {1, 2, 255, 1000, 60000}) {
    for (uint64_t seed : {0ull, 7ull}) {
      for (uint64_t epoch : {0ull, 3ull}) {
        std::vector<int64_t> host(static_cast<size_t>(count));
        kernels::shuffle_order_cpu(seed, epoch, count, host.data());
        Tensor scratch(cutrain::Shape{static_cast<int64_t>(
                           kernels::shuffle_order_scratch_bytes(count) / 4 + 4)},
                       Device::CUDA);
        Tensor order = cutrain::test::Poisoned(count, ctx);  // NaN bits: never a valid index
        kernels::launch_shuffle_order(seed, epoch, count, As<int32_t>(order), scratch.data(),
                                      ctx.stream());
        const std::vector<int32_t> device = Download<int32_t>(order, count, ctx);
        for (int64_t i = 0; i < count; ++i)
          ASSERT_EQ(device[static_cast<size_t>(i)], host[static_cast<size_t>(i)])
              << "count " << count << " seed " << seed << " epoch " << epoch << " at " << i;
      }
    }
  }
}

TEST_F(GpuPipeline, GatherKernelEqualsTheCpuTwin) {
  Context ctx(Device::CUDA);
  cutrain::Rng rng(3);
  for (int64_t pixels : {1, 3, 784, 3000}) {
    const int64_t count = 50, n = 37;
    std::vector<uint8_t> images(static_cast<size_t>(count * pixels)), labels(count);
    for (uint8_t& b : images) b = static_cast<uint8_t>(rng.below(256));
    for (uint8_t& b : labels) b = static_cast<uint8_t>(rng.below(10));
    std::vector<int32_t> index(static_cast<size_t>(n));
    for (int32_t& i : index) i = static_cast<int32_t>(rng.below(count));
    for (bool indexed : {false, true}) {
      std::vector<float> want_x(static_cast<size_t>(n * pixels)), want_y(n);
      kernels::gather_batch_cpu(images.data(), labels.data(), indexed ? index.data() : nullptr, n,
                                pixels, want_x.data(), want_y.data());
      Tensor d_images = DeviceCopy(images, ctx), d_labels = DeviceCopy(labels, ctx);
      Tensor d_index = DeviceCopy(index, ctx);
      // NaN guards after both outputs: a write past the end must show.
      constexpr int64_t kGuardFloats = 64;
      Tensor x = cutrain::test::Poisoned(n * pixels + kGuardFloats, ctx),
             y = cutrain::test::Poisoned(n + kGuardFloats, ctx);
      kernels::launch_gather_batch(As<uint8_t>(d_images), As<uint8_t>(d_labels),
                                   indexed ? As<int32_t>(d_index) : nullptr, n, pixels, x.data(),
                                   y.data(), ctx.stream());
      const std::vector<float> got_x = x.to_vector(ctx.stream()), got_y = y.to_vector(ctx.stream());
      EXPECT_EQ(std::vector<float>(got_x.begin(), got_x.begin() + n * pixels), want_x)
          << "pixels " << pixels;
      EXPECT_EQ(std::vector<float>(got_y.begin(), got_y.begin() + n), want_y)
          << "pixels " << pixels;
      EXPECT_TRUE(cutrain::test::StillPoisoned("x guard", got_x, want_x.size()));
      EXPECT_TRUE(cutrain::test::StillPoisoned("y guard", got_y, want_y.size()));
    }
  }
}

struct Mode {
  bool graph, resident;
};

struct RunResult {
  std::vector<EpochMetrics> epochs;
  int64_t captures = 0, replays = 0, failed_captures = 0, max_nodes = 0;
};

// `epochs` epochs of `model` with Adam and a per-step cosine schedule (the lr changes before
// every replay); 600 training examples in batches of 64 (a last batch of 24) and 130 test
// examples (a last batch of 2).
RunResult Train(const std::string& model_name, Mode mode, int64_t epochs) {
  const data::ImageDataset train = cutrain::test::separable_images(600, 1);
  const data::ImageDataset test = cutrain::test::separable_images(130, 2);
  Context ctx(Device::CUDA);
  cutrain::Sequential model = cutrain::make_model(model_name);
  model.build({1, 28, 28}, 64, Device::CUDA, 5);
  auto opt = cutrain::make_optimizer("adam", model.parameters(), 0.01, ctx);
  auto sched = cutrain::make_scheduler("cosine:max_update=40,final_lr=0.001", 0.01);
  cutrain::TrainerOptions o;
  o.batch_size = 64;
  o.seed = 11;
  o.scheduler = sched.get();
  o.schedule_unit = cutrain::ScheduleUnit::Step;
  o.cuda_graph = mode.graph;
  o.data_on_device = mode.resident;
  cutrain::Trainer trainer(model, *opt, ctx, train, test, o);
  RunResult r;
  for (int64_t e = 1; e <= epochs; ++e) r.epochs.push_back(trainer.train_epoch(e));
  r.captures = trainer.pipeline().graph_captures();
  r.replays = trainer.pipeline().graph_replays();
  r.failed_captures = trainer.pipeline().graph_failed_captures();
  r.max_nodes = trainer.pipeline().graph_max_nodes();
  return r;
}

void ExpectSameMetrics(const RunResult& want, const RunResult& got, const std::string& what) {
  ASSERT_EQ(want.epochs.size(), got.epochs.size());
  for (size_t e = 0; e < want.epochs.size(); ++e) {
    const EpochMetrics &a = want.epochs[e], &b = got.epochs[e];
    SCOPED_TRACE(what + ", epoch " + std::to_string(e + 1));
    // The same kernels in the same order on the same floats: equal up to rounding at most (a
    // replay with a stale lr or input for one step moves the loss by far more than 1e-6).
    EXPECT_NEAR(b.train_loss, a.train_loss, 1e-6 * std::abs(a.train_loss) + 1e-7);
    EXPECT_NEAR(b.test_loss, a.test_loss, 1e-6 * std::abs(a.test_loss) + 1e-7);
    EXPECT_NEAR(b.train_acc, a.train_acc, 1.5 / 600);  // at most one example flips
    EXPECT_NEAR(b.test_acc, a.test_acc, 1.5 / 130);
    EXPECT_DOUBLE_EQ(b.lr, a.lr);
  }
}

TEST_F(GpuPipeline, GraphsAndResidentDataGiveTheEagerMetrics) {
  for (const std::string model : {"lenet", "lenet-bn"}) {
    const RunResult eager = Train(model, {false, false}, 3);
    EXPECT_LT(eager.epochs.back().train_loss, eager.epochs.front().train_loss) << model;
    EXPECT_EQ(eager.captures, 0);
    const RunResult resident = Train(model, {false, true}, 3);
    ExpectSameMetrics(eager, resident, model + " --data-on-device");
    for (bool on_device : {false, true}) {
      const RunResult graph = Train(model, {true, on_device}, 3);
      ExpectSameMetrics(eager, graph,
                        model + " --cuda-graph" + (on_device ? " --data-on-device" : ""));
      // Train 64 and 24, eval 64 and 2: four shapes, each captured once, on its second use.
      EXPECT_GE(graph.captures, 4) << model;  // more if a workspace grew in between
      // A failed capture runs its batches eagerly (same metrics, on stderr only): none may fail.
      EXPECT_EQ(graph.failed_captures, 0) << model;
      EXPECT_GT(graph.replays, 3 * 9) << model;
      // A training step: at least a kernel per layer forward and backward, and the update.
      EXPECT_GT(graph.max_nodes,
                2 * static_cast<int64_t>(cutrain::make_model(model).layers().size()))
          << model;
    }
  }
}

// A captured step bakes in more than its batch size: the optimizer whose buffers it updates and
// whether each batch norm normalises with batch or running statistics. Another optimizer, or
// other layer modes, must not replay a graph captured for the old ones.
TEST_F(GpuPipeline, GraphsFollowTheOptimizerAndTheLayerModes) {
  const data::ImageDataset d = cutrain::test::separable_images(64, 4);
  Context ctx(Device::CUDA);
  cutrain::Sequential model = cutrain::make_model("lenet-bn");
  model.build({1, 28, 28}, 64, Device::CUDA, 3);
  cutrain::PipelineOptions o;
  o.cuda_graph = true;
  cutrain::BatchPipeline pipeline(model, ctx, {1, 28, 28}, 8, o);
  const data::BatchLoader loader(d, 64, /*shuffle=*/false, 0);
  auto values = [&] {
    std::vector<float> all;
    for (const cutrain::Parameter& p : model.parameters()) {
      const std::vector<float> v = p.value->to_vector(ctx.stream());
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  auto moved = [](const std::vector<float>& a, const std::vector<float>& b) {
    double most = 0.0;
    for (size_t i = 0; i < a.size(); ++i) most = std::max(most, std::abs(double{a[i]} - b[i]));
    return most;
  };
  // Three steps each: eager warm-up, capture, replay.
  auto opt_a = cutrain::make_optimizer("sgd", model.parameters(), 0.1, ctx);
  const std::vector<float> start = values();
  for (int i = 0; i < 3; ++i) pipeline.train_step(0, pipeline.stage(loader, 0), *opt_a);
  const int64_t captures = pipeline.graph_captures();
  ASSERT_GE(captures, 1);
  const std::vector<float> before = values();
  const double step_a = moved(before, start);
  ASSERT_GT(step_a, 1e-4);  // what a stale replay of opt_a's step would show
  {
    // lr 1e-30 moves no weight by more than ~1e-29; a replay of opt_a's step would move them
    // as far as opt_a did.
    auto opt_b = cutrain::make_optimizer("sgd", model.parameters(), 1e-30, ctx);
    for (int i = 0; i < 3; ++i) pipeline.train_step(0, pipeline.stage(loader, 0), *opt_b);
  }
  EXPECT_LT(moved(values(), before), 1e-20) << "a step of the first optimizer ran again";
  EXPECT_GT(pipeline.graph_captures(), captures);
  // And a new optimizer made where the last one was destroyed is still another one, though its
  // buffers likely reuse opt_b's addresses (so a stale replay could even look right): it must
  // get graphs of its own, and at lr 0.1 it moves the weights as opt_a did.
  const int64_t captures_b = pipeline.graph_captures();
  auto opt_c = cutrain::make_optimizer("sgd", model.parameters(), 0.1, ctx);
  for (int i = 0; i < 3; ++i) pipeline.train_step(0, pipeline.stage(loader, 0), *opt_c);
  EXPECT_GT(pipeline.graph_captures(), captures_b) << "opt_b's graph replayed for opt_c";
  EXPECT_GT(moved(values(), before), 0.1 * step_a);

  // Forward + loss of one batch in evaluation mode (running statistics), then in training mode
  // (batch statistics), three times each: the training-mode losses must be their own.
  model.set_training(false);
  for (int64_t slot = 0; slot < 3; ++slot) pipeline.eval_step(slot, pipeline.stage(loader, 0));
  model.set_training(true);
  for (int64_t slot = 3; slot < 6; ++slot) pipeline.eval_step(slot, pipeline.stage(loader, 0));
  std::vector<double> loss;
  for (int64_t slot = 0; slot < 6; ++slot) loss.push_back(pipeline.sums(slot, slot + 1).loss);
  EXPECT_EQ(pipeline.graph_failed_captures(), 0);
  EXPECT_NEAR(loss[2], loss[0], 1e-6 * std::abs(loss[0]));  // eager vs replay, eval mode
  EXPECT_NEAR(loss[5], loss[3], 1e-6 * std::abs(loss[3]));  // the same in training mode
  EXPECT_GT(std::abs(loss[3] - loss[0]), 1e-3 * std::abs(loss[0]))
      << "the training-mode forward gave the evaluation-mode loss";
}

// The device-resident input stage keeps uploads by where a data set lives: a data set changed
// in place (same addresses, same size) must be uploaded again, and more data sets than it keeps
// (two) must still each give their own results. The reference is the pinned path, which reads
// the host bytes for every batch.
TEST_F(GpuPipeline, ResidentDataFollowsDataSetsChangedInPlace) {
  data::ImageDataset a = cutrain::test::separable_images(130, 2);
  const data::ImageDataset a_before = a;
  const data::ImageDataset b = cutrain::test::separable_images(130, 3);
  const data::ImageDataset c = cutrain::test::separable_images(70, 4);
  Context ctx(Device::CUDA);
  cutrain::Sequential model = cutrain::make_model("lenet");
  model.build({1, 28, 28}, 64, Device::CUDA, 5);
  cutrain::PipelineOptions on_device;
  on_device.data_on_device = true;
  cutrain::BatchPipeline resident(model, ctx, {1, 28, 28}, 3, on_device);
  auto expect_same = [&](const data::ImageDataset& staged, const data::ImageDataset& content,
                         const std::string& what) {
    const cutrain::EvalResult got = resident.evaluate(staged);
    const cutrain::EvalResult want = cutrain::evaluate_model(model, content, ctx);
    EXPECT_NEAR(got.loss, want.loss, 1e-6 * std::abs(want.loss)) << what;
    EXPECT_DOUBLE_EQ(got.accuracy, want.accuracy) << what;
    EXPECT_EQ(got.examples, want.examples) << what;
  };
  expect_same(a, a_before, "first upload");
  // The test can fail: the two contents give different losses.
  ASSERT_NE(cutrain::evaluate_model(model, a_before, ctx).loss,
            cutrain::evaluate_model(model, b, ctx).loss);
  const uint8_t* images = a.images.data();
  const uint8_t* labels = a.labels.data();
  std::copy(b.images.begin(), b.images.end(), a.images.begin());
  std::copy(b.labels.begin(), b.labels.end(), a.labels.begin());
  ASSERT_EQ(a.images.data(), images);
  ASSERT_EQ(a.labels.data(), labels);
  expect_same(a, b, "changed in place");
  expect_same(b, b, "second data set");
  expect_same(c, c, "third data set (evicts one)");
  expect_same(a, b, "first again, after an eviction");
  expect_same(c, c, "third again");
}

TEST_F(GpuPipeline, GraphRunResumedFromACheckpointContinuesTheStepCount) {
  const RunResult straight = Train("lenet", {true, false}, 2);
  cutrain::test::TempDir dir;
  const std::string path = (dir.path() / "last.safetensors").string();
  const data::ImageDataset train = cutrain::test::separable_images(600, 1);
  const data::ImageDataset test = cutrain::test::separable_images(130, 2);
  std::vector<EpochMetrics> resumed;
  for (int64_t e = 1; e <= 2; ++e) {  // a fresh process per epoch, as after a restart
    Context ctx(Device::CUDA);
    cutrain::Sequential model = cutrain::make_model("lenet");
    model.build({1, 28, 28}, 64, Device::CUDA, 5);
    auto opt = cutrain::make_optimizer("adam", model.parameters(), 0.01, ctx);
    auto sched = cutrain::make_scheduler("cosine:max_update=40,final_lr=0.001", 0.01);
    if (e > 1) cutrain::load_checkpoint(path, model, opt.get(), sched.get(), ctx);
    cutrain::TrainerOptions o;
    o.batch_size = 64;
    o.seed = 11;
    o.scheduler = sched.get();
    o.schedule_unit = cutrain::ScheduleUnit::Step;
    o.cuda_graph = true;
    cutrain::Trainer trainer(model, *opt, ctx, train, test, o);
    resumed.push_back(trainer.train_epoch(e));
    cutrain::save_checkpoint(path, {"lenet", e, "{}"}, model, opt.get(), sched.get(), ctx);
  }
  RunResult r;
  r.epochs = resumed;
  ExpectSameMetrics(straight, r, "resumed");
}

// A step whose capture fails (here: a stream synchronisation, which capture forbids) runs
// eagerly instead, exactly once per call, and is counted; other keys still capture and replay.
// The second key's work swallows the error, so the capture fails only at its end: that must not
// leave a stale error behind for the launch checks of later work (the third key).
TEST_F(GpuPipeline, FailedCaptureFallsBackToEagerWork) {
  Context ctx(Device::CUDA);
  cutrain::detail::StepGraphs graphs(/*enabled=*/true, ctx);
  Tensor counter = Tensor::zeros(cutrain::Shape{1}, Device::CUDA);
  const Tensor one = Tensor::from_vector({1.0f}, cutrain::Shape{1}, Device::CUDA);
  auto add_one = [&] {  // a kernel launch, checked
    kernels::launch_add_forward(counter.data(), one.data(), counter.data(), 1, false, ctx.stream());
  };
  int host_calls = 0;
  auto syncing = [&] {
    ++host_calls;
    ctx.synchronize();  // illegal while capturing: throws
    add_one();
  };
  for (int i = 0; i < 4; ++i) graphs.run(1, syncing);
  // warm-up, failed capture (recorded nothing), its eager rerun, then two eager calls
  EXPECT_EQ(host_calls, 5);
  EXPECT_EQ(graphs.failed_captures(), 1);
  EXPECT_EQ(graphs.captures(), 0);
  EXPECT_EQ(counter.to_vector(ctx.stream())[0], 4.0f);

  auto swallowing = [&] {
    try {
      ctx.synchronize();
    } catch (const cutrain::DeviceError&) {  // the capture is invalidated all the same
    }
  };
  for (int i = 0; i < 3; ++i) EXPECT_NO_THROW(graphs.run(2, swallowing));
  EXPECT_EQ(graphs.failed_captures(), 2);

  // warm-up, capture + replay, replay: each adds one
  for (int i = 0; i < 3; ++i) EXPECT_NO_THROW(graphs.run(3, add_one));
  EXPECT_EQ(graphs.captures(), 1);
  EXPECT_EQ(graphs.replays(), 2);
  EXPECT_EQ(counter.to_vector(ctx.stream())[0], 7.0f);
}

}  // namespace
