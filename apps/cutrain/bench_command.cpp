#include "bench_command.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "cutrain/bench/layer_timing.h"
#include "cutrain/bench/optimizer_bench.h"
#include "cutrain/build_info.h"
#include "cutrain/context.h"
#include "cutrain/data/fashion_mnist.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/registry.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/train/trainer.h"
#include "device_flags.h"
#include "number_flags.h"
#include "train_config.h"

namespace cutrain::app {

void add_timing_options(CLI::App* cmd, std::string& device, int& iterations, int& warmup,
                        const std::string& unit) {
  cmd->add_option("--device", device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--iterations", iterations, "Timed " + unit)
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--warmup", warmup, "Untimed " + unit + " first")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
}

BenchCommands add_bench_command(CLI::App& app, BenchOptimizerConfig& c, BenchTrainConfig& t) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (timings, not tests)");
  CLI::App* train = bench->add_subcommand(
      "train",
      "Training examples/sec: median of --epochs epochs after a warm-up epoch (two with "
      "--cuda-graph: a batch size's graph is captured on its second use)");
  train->add_option("--model", t.model, "Network")
      ->check(CLI::IsMember(model_names()))
      ->capture_default_str();
  train->add_option("--device", t.device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  train->add_option("--data", t.data_dir, "Fashion-MNIST directory (default: $CUTRAIN_DATA, else " +
                                              std::string(data::kDefaultFashionMnistDir) + ")");
  train->add_option("--batch-size", t.batch_size, "Examples per minibatch")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  train->add_option("--epochs", t.epochs, "Timed epochs")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}))
      ->capture_default_str();
  train->add_option("--lr", t.lr, "Learning rate (SGD)")->check(kPositiveNumber);
  train->add_flag("--cuda-graph", t.cuda_graph, "Replay each step from a CUDA graph");
  train->add_flag("--data-on-device", t.data_on_device,
                  "Keep the data set on the GPU; shuffle and gather there");
  train->add_flag("--unfused", t.unfused,
                  "Run activation layers on their own, not absorbed by the conv/linear before "
                  "them (for comparison)");
  add_tf32_flag(train, t.tf32);
  bench->require_subcommand(1);
  CLI::App* opt = bench->add_subcommand("optimizer", "Time one fused optimizer step");
  opt->add_option("--optimizer", c.optimizer, "Optimizer")
      ->check(CLI::IsMember(optimizer_names()))
      ->capture_default_str();
  opt->add_option("--params", c.params, "Total parameters")
      ->check(CLI::Range(int64_t{1}, int64_t{4'000'000'000}))
      ->capture_default_str();
  opt->add_option("--tensors", c.tensors, "Split the parameters into this many tensors")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}))
      ->capture_default_str();
  opt->add_flag("--lenet", c.lenet, "Use LeNet's ten parameter tensors (61,706 parameters)");
  add_timing_options(opt, c.device, c.iterations, c.warmup, "steps");
  opt->add_option("--clip-norm", c.clip_norm, "Also clip by global norm (adds two launches)")
      ->check(kNonNegativeNumber);
  return {bench, opt, train};
}

int run_bench_train(const BenchTrainConfig& c) {
  const DeviceChoice choice = choose_device(c.device);
  check_cuda_only_flags({c.cuda_graph, c.data_on_device, c.tf32}, choice);
  const std::string dir = c.data_dir.empty() ? data::default_data_dir() : c.data_dir;
  const data::ImageDataset train = data::load_fashion_mnist(dir, data::Split::Train);
  const data::ImageDataset test = data::load_fashion_mnist(dir, data::Split::Test);
  Context ctx(choice.device, float32_math(c.tf32));
  Sequential model = make_model(c.model);
  model.set_fuse_activations(!c.unfused);
  model.build({train.channels, train.height, train.width}, c.batch_size, choice.device, 0);
  auto opt = make_optimizer("sgd", model.parameters(), c.lr, ctx);
  TrainerOptions o;
  o.batch_size = c.batch_size;
  o.cuda_graph = c.cuda_graph;
  o.data_on_device = c.data_on_device;
  Trainer trainer(model, *opt, ctx, train, test, o);
  // Warm-up: cuDNN plans, allocator, caches. A step's graph is captured on the second use of
  // its batch size, so the last partial batch (once per epoch) needs a second epoch.
  const int64_t warmup = c.cuda_graph ? 2 : 1;
  for (int64_t e = 1; e <= warmup; ++e) trainer.train_epoch(e);
  std::vector<double> rates;
  for (int64_t e = 1; e <= c.epochs; ++e)
    rates.push_back(trainer.train_epoch(warmup + e).examples_per_sec);
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const std::string mode = std::string(c.cuda_graph ? "graph" : "eager") +
                           (c.data_on_device ? " + data-on-device" : "") +
                           (c.unfused ? ", unfused activations" : "") + (c.tf32 ? ", tf32" : "");
  std::printf("bench train: %s on %s, batch %lld, sgd, %s; examples/sec per epoch:",
              c.model.c_str(), device_name(choice.device), static_cast<long long>(c.batch_size),
              mode.c_str());
  for (double r : rates) std::printf(" %.0f", r);
  std::printf("\nmedian %.0f examples/sec (%lld timed epochs after %lld warm-up)\n",
              sorted[sorted.size() / 2], static_cast<long long>(c.epochs),
              static_cast<long long>(warmup));
  if (c.cuda_graph)
    std::printf(
        "graphs: %lld captured, %lld replays, %lld failed captures (run eagerly); the largest "
        "has %lld nodes (launches per training step)\n",
        static_cast<long long>(trainer.pipeline().graph_captures()),
        static_cast<long long>(trainer.pipeline().graph_replays()),
        static_cast<long long>(trainer.pipeline().graph_failed_captures()),
        static_cast<long long>(trainer.pipeline().graph_max_nodes()));
  if (choice.device == Device::CUDA) {
    int linear = 0, fused = 0;
    for (const auto& layer : model.layers())
      if (const auto* l = dynamic_cast<const Linear*>(layer.get())) {
        ++linear;
        fused += l->bias_fused() ? 1 : 0;
      }
    if (linear > 0)
      std::printf("linear layers: %d of %d with the bias inside cuBLASLt epilogues%s\n", fused,
                  linear, std::getenv("CUTRAIN_CUBLASLT") ? " (CUTRAIN_CUBLASLT is set)" : "");
  }
  return 0;
}

int run_bench_optimizer(const BenchOptimizerConfig& c) {
  OptimizerBenchConfig config;
  config.optimizer = c.optimizer;
  config.device = choose_device(c.device).device;
  config.iterations = c.iterations;
  config.warmup = c.warmup;
  config.clip_norm = c.clip_norm;
  if (c.lenet) {
    Sequential net = make_model("lenet");
    net.build({1, 28, 28}, 1, Device::CPU, 0);
    for (const Parameter& p : net.parameters()) config.shapes.push_back(p.value->shape());
  } else {
    const int64_t per = c.params / c.tensors;
    for (int64_t i = 0; i < c.tensors; ++i)
      config.shapes.push_back({i + 1 < c.tensors ? per : c.params - per * (c.tensors - 1)});
  }
  const OptimizerBenchResult r = bench_optimizer(config);
  std::printf(
      "optimizer %s  device %s  params %lld in %lld tensors  %.0f B/param\n"
      "step: median %.2f us (min %.2f) of %d samples; %d kernel launch(es) per step on CUDA\n"
      "effective bandwidth %.1f GB/s; device copy of the same bytes %.1f GB/s (ratio %.2f)\n",
      c.optimizer.c_str(), device_name(config.device), static_cast<long long>(r.params),
      static_cast<long long>(r.tensors), r.bytes_per_param, r.median_us, r.min_us, c.iterations,
      r.launches_per_step, r.gbps, r.copy_gbps, r.gbps / r.copy_gbps);
  // Bytes that stay in L2 make both bandwidths cache figures: such a step (LeNet's) is bound by
  // its launches, and only its microseconds compare.
  if (config.device == Device::CUDA) {
    const RuntimeInfo info = runtime_info();
    const double moved = r.bytes_per_param * static_cast<double>(r.params);
    if (!info.devices.empty() && moved < static_cast<double>(info.devices[0].l2_bytes))
      std::printf(
          "note: %.1f MB per step fit in the %.0f MB L2 cache: the GB/s are cache "
          "figures; compare the microseconds\n",
          moved / 1e6, static_cast<double>(info.devices[0].l2_bytes) / 1e6);
  }
  return 0;
}

CLI::App* add_time_command(CLI::App& app, TimeConfig& c) {
  CLI::App* cmd = app.add_subcommand("time", "Per-layer forward/backward time of a model");
  cmd->add_option("--model", c.model, "Network")
      ->check(CLI::IsMember(model_names()))
      ->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "Examples per batch")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  add_timing_options(cmd, c.device, c.iterations, c.warmup, "forward+backward passes");
  add_tf32_flag(cmd, c.tf32);
  return cmd;
}

int run_time(const TimeConfig& c) {
  const DeviceChoice choice = choose_device(c.device);
  check_cuda_only_flags({false, false, c.tf32}, choice);
  Context ctx(choice.device, float32_math(c.tf32));
  Sequential model = make_model(c.model);
  const Shape sample{1, 28, 28};
  model.build(sample, c.batch_size, choice.device, 0);
  const NetworkTiming t = time_layers(model, sample, c.warmup, c.iterations, ctx);
  std::printf("%s on %s%s, batch %lld, average of %d iterations (ms)\n", c.model.c_str(),
              device_name(choice.device), c.tf32 ? " (tf32)" : "",
              static_cast<long long>(c.batch_size), t.iterations);
  std::printf("%-22s %10s %10s\n", "layer", "forward", "backward");
  for (const LayerTime& l : t.layers)
    std::printf("%-22s %10.4f %10.4f\n", l.name.c_str(), l.forward_ms, l.backward_ms);
  std::printf("%-22s %10.4f %10.4f\n", "total", t.forward_ms, t.backward_ms);
  return 0;
}

}  // namespace cutrain::app
