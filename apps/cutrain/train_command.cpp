#include "train_command.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "cutrain/context.h"
#include "cutrain/data/fashion_mnist.h"
#include "cutrain/error.h"
#include "cutrain/memory_stats.h"
#include "cutrain/models/registry.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/train/checkpoint.h"
#include "cutrain/train/metrics.h"
#include "cutrain/train/trainer.h"
#include "device_flags.h"
#include "number_flags.h"
#include "progress.h"
#include "schedule_command.h"

namespace cutrain::app {

CLI::App* add_train_command(CLI::App& app, TrainConfig& c) {
  CLI::App* cmd = app.add_subcommand("train", "Train a model on Fashion-MNIST");
  cmd->add_option("--model", c.model, "Network to train")
      ->check(CLI::IsMember(model_names()))
      ->capture_default_str();
  cmd->add_option("--optimizer", c.optimizer, "Optimizer")
      ->check(CLI::IsMember(optimizer_names()))
      ->capture_default_str();
  cmd->add_option("--lr", c.lr,
                  "Learning rate (> 0; sgd on resnet18 / densenet: default 0.05 / 0.1 as in the "
                  "book; adadelta: multiplier of its step, default 1)")
      ->check(kPositiveNumber)
      ->capture_default_str();
  cmd->add_option("--momentum", c.optim.momentum, "momentum, nesterov: beta")
      ->capture_default_str();
  cmd->add_option("--beta1", c.optim.beta1, "adam, adamw, yogi: beta1")->capture_default_str();
  cmd->add_option("--beta2", c.optim.beta2, "adam, adamw, yogi: beta2")->capture_default_str();
  cmd->add_option("--gamma", c.optim.gamma, "rmsprop: gamma")->capture_default_str();
  cmd->add_option("--rho", c.optim.rho, "adadelta: rho")->capture_default_str();
  cmd->add_option("--eps", c.eps,
                  "epsilon (default: 1e-6 adagrad/rmsprop/adam/adamw, 1e-5 adadelta, 1e-3 yogi)");
  cmd->add_option("--weight-decay", c.optim.weight_decay,
                  "L2 weight decay (decoupled for adamw); weights only unless --decay-biases")
      ->capture_default_str();
  cmd->add_flag("--decay-biases", c.decay_biases, "Apply weight decay to biases too");
  cmd->add_option("--clip-norm", c.optim.clip_norm,
                  "Clip gradients to this global L2 norm (0 = off)")
      ->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "Examples per minibatch")
      ->check(CLI::Range(int64_t{1}, kMaxBatchSize))
      ->capture_default_str();
  cmd->add_option("--epochs", c.epochs, "Passes over the training set")
      ->check(CLI::Range(int64_t{1}, kMaxEpochs))
      ->capture_default_str();
  cmd->add_option("--device", c.device, "auto (CUDA when usable), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--data", c.data_dir,
                  "Directory with the Fashion-MNIST IDX files (default: $CUTRAIN_DATA, else " +
                      std::string(data::kDefaultFashionMnistDir) + ")");
  cmd->add_option("--seed", c.seed, "Seed for initialisation and shuffling")
      ->capture_default_str();
  cmd->add_option("--metrics", c.metrics_path,
                  "Write per-epoch metrics to FILE: JSON lines, or CSV when FILE ends in .csv");
  cmd->add_option("--checkpoint-dir", c.checkpoint_dir,
                  "After every epoch write DIR/last.safetensors (weights, optimizer, scheduler)");
  cmd->add_option("--resume", c.resume_path,
                  "Continue the run saved in this checkpoint up to --epochs in total (keeps "
                  "writing checkpoints next to it unless --checkpoint-dir says otherwise)");
  cmd->add_flag("!--no-progress", c.progress, "No progress bar, even on a terminal");
  cmd->add_option("--train-limit", c.train_limit,
                  "Use only the first N training examples (0 = all)")
      ->check(kNonNegativeNumber);
  cmd->add_flag("--drop-last", c.drop_last,
                "Leave out each epoch's last partial batch (batch norm then never sees a tiny "
                "batch; with --cuda-graph training has one shape)");
  cmd->add_flag("--precise-bn", c.precise_bn,
                "Before each evaluation, recompute the batch norms' statistics over the epoch's "
                "training examples with the final weights (one more forward pass; the running "
                "averages lag weights trained at a high lr)");
  cmd->add_option("--resize", c.resize,
                  "Resize the images bilinearly to NxN on the training device before the model "
                  "(d2l: 96 for resnet18 and densenet; 0 = off)")
      ->check(CLI::Range(int64_t{0}, kMaxResize))
      ->capture_default_str();
  cmd->add_flag("--cuda-graph", c.cuda_graph,
                "CUDA only: capture forward, backward and optimizer step once per batch size "
                "and replay them as one graph (same results, fewer launches)");
  cmd->add_flag("--data-on-device", c.data_on_device,
                "CUDA only: keep the data set on the GPU (~55 MB) and shuffle and gather the "
                "batches there instead of copying each batch from pinned host memory");
  add_tf32_flag(cmd, c.tf32);
  cmd->add_option("--scheduler", c.scheduler, scheduler_help());
  cmd->add_option("--schedule-unit", c.schedule_unit,
                  "What the scheduler's t counts: epoch (default) or step (updates)")
      ->check(CLI::IsMember({"epoch", "step"}))
      ->capture_default_str();
  return cmd;
}

namespace {

// SIGINT/SIGTERM ask the run to stop after the current step; a second signal kills it.
std::atomic<int> g_stop_signal{0};

extern "C" void request_stop(int sig) {
  g_stop_signal.store(sig);
  std::signal(sig, SIG_DFL);
}

// Fault injection for tests and drills: CUTRAIN_FAULT_SIGNAL_AT_STEP="N" or "N:TERM" raises
// SIGINT (or SIGTERM) in the process after its N-th update, exactly as a user would; a
// ":twice" suffix raises it a second time at once (the impatient user: it must kill the run).
struct InjectedSignal {
  int64_t step = 0;
  int sig = SIGINT;
  bool twice = false;
};

InjectedSignal injected_signal() {
  InjectedSignal f;
  const char* v = std::getenv("CUTRAIN_FAULT_SIGNAL_AT_STEP");
  if (!v || !*v) return f;
  char* end = nullptr;
  f.step = std::strtoll(v, &end, 10);
  std::string rest = end ? end : "";
  if (rest.size() >= 6 && rest.compare(rest.size() - 6, 6, ":twice") == 0) {
    f.twice = true;
    rest.resize(rest.size() - 6);
  }
  if (rest == ":TERM")
    f.sig = SIGTERM;
  else if (!rest.empty())
    f.step = 0;
  return f;
}

std::unique_ptr<Optimizer> build_optimizer(const TrainConfig& c, Sequential& model,
                                           Context& ctx) {
  const OptimizerOptions options = optimizer_options(c);
  std::vector<ParamGroup> groups;
  if (c.decay_biases) {
    groups.resize(1);
    groups[0].params = model.parameters();
  } else {
    groups = decay_groups(model.parameters());
  }
  return make_optimizer(c.optimizer, std::move(groups), options, ctx);
}

// Bytes held by tensors on the training device (model, activations, gradients, optimizer state,
// input buffers, cuDNN workspace): allocated once, so the peak is what a batch of this size needs.
void print_tensor_memory(Device device, bool peak) {
  const TensorMemory m = tensor_memory(device);
  std::printf("memory: %.1f MiB of %s tensors %s\n",
              static_cast<double>(peak ? m.peak_bytes : m.current_bytes) / (1024.0 * 1024.0),
              device_name(device), peak ? "at the peak of training" : "after building the model");
  const int64_t in_use = device == Device::CUDA ? device_memory_in_use() : -1;
  if (peak && in_use >= 0)
    std::printf("memory: %.1f MiB in use on the device at the end (cudaMemGetInfo: context, "
                "libraries and caches included)\n",
                static_cast<double>(in_use) / (1024.0 * 1024.0));
}

}  // namespace

int run_train(const TrainConfig& given) {
  TrainConfig c = given.resume_path.empty()
                      ? given
                      : resumed_config(given, read_checkpoint_info(given.resume_path).config_json,
                                       given.resume_path);
  // Adadelta has no learning rate of its own: without --lr its step is not scaled.
  if (c.resume_path.empty() && c.optimizer == "adadelta" && !c.given.count("lr")) c.lr = 1.0;
  // SGD without --lr: the book's rates for the deeper networks (shared/reference/models.md).
  if (c.resume_path.empty() && c.optimizer == "sgd" && !c.given.count("lr")) {
    if (c.model == "resnet18") c.lr = 0.05;
    if (c.model == "densenet") c.lr = 0.1;
  }
  // Everything checkable without data or a device is checked first (usage errors exit 2).
  validate_optimizer(c.optimizer, optimizer_options(c));
  std::unique_ptr<Scheduler> scheduler;
  if (!c.scheduler.empty()) scheduler = make_scheduler(c.scheduler, c.lr);
  const DeviceChoice choice = choose_device(c.device);
  std::printf("device: %s (%s)\n", device_name(choice.device), choice.reason.c_str());
  check_cuda_only_flags({c.cuda_graph, c.data_on_device, c.tf32}, choice);

  const std::string dir = c.data_dir.empty() ? data::default_data_dir() : c.data_dir;
  const data::ImageDataset train = data::load_fashion_mnist(dir, data::Split::Train);
  const data::ImageDataset test = data::load_fashion_mnist(dir, data::Split::Test);
  std::printf("data: %s: %lld train, %lld test images\n", dir.c_str(),
              static_cast<long long>(train.count), static_cast<long long>(test.count));

  Context ctx(choice.device, float32_math(c.tf32));
  const Shape sample = c.resize > 0 ? Shape{train.channels, c.resize, c.resize}
                                    : Shape{train.channels, train.height, train.width};
  Sequential model = c.resume_path.empty() ? make_model(c.model, sample)
                                           : stored_model(c.model, sample, c.resume_path);
  model.build(sample, c.batch_size, choice.device, c.seed);
  std::printf("model: %s, %lld parameters, input %s%s%s\n", c.model.c_str(),
              static_cast<long long>(model.parameter_count()), to_string(sample).c_str(),
              c.resize > 0 ? " (resized on the training device)" : "",
              c.tf32 ? ", TF32 convolutions and GEMMs" : "");
  print_tensor_memory(choice.device, /*peak=*/false);
  std::unique_ptr<Optimizer> opt = build_optimizer(c, model, ctx);
  std::printf("optimizer: %s lr %g, batch %lld, %lld epochs, seed %llu\n", c.optimizer.c_str(),
              c.lr, static_cast<long long>(c.batch_size), static_cast<long long>(c.epochs),
              static_cast<unsigned long long>(c.seed));
  if (scheduler)
    std::printf("scheduler: %s per %s\n", scheduler->describe().c_str(),
                c.schedule_unit.c_str());

  EpochCursor cursor;
  if (!c.resume_path.empty()) {
    const CheckpointInfo info =
        load_checkpoint(c.resume_path, model, opt.get(), scheduler.get(), ctx);
    cursor = {info.epoch + 1, info.batches_done, info.loss_sum, info.hits};
    std::printf("resumed: %s after epoch %lld", c.resume_path.c_str(),
                static_cast<long long>(info.epoch));
    if (info.batches_done > 0)
      std::printf(" and %lld steps of epoch %lld", static_cast<long long>(info.batches_done),
                  static_cast<long long>(cursor.epoch));
    std::printf("\n");
  }
  const int64_t first_epoch = cursor.epoch;
  // A resumed run keeps checkpointing where it came from unless told otherwise.
  std::string checkpoint_dir = c.checkpoint_dir;
  if (checkpoint_dir.empty() && !c.resume_path.empty())
    checkpoint_dir = std::filesystem::path(c.resume_path).parent_path().string();
  std::string checkpoint_path;
  if (!checkpoint_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(checkpoint_dir, ec);
    if (ec)
      throw DataError(checkpoint_dir + ": cannot create the checkpoint directory: " +
                      ec.message());
    checkpoint_path = (std::filesystem::path(checkpoint_dir) / "last.safetensors").string();
  }
  std::unique_ptr<MetricsWriter> metrics;
  if (!c.metrics_path.empty())
    metrics = std::make_unique<MetricsWriter>(c.metrics_path, /*append=*/first_epoch > 1);

  ProgressBar bar(c.progress);
  TrainerOptions run;
  run.batch_size = c.batch_size;
  run.seed = c.seed;
  run.train_limit = c.train_limit;
  run.drop_last = c.drop_last;
  run.precise_bn = c.precise_bn;
  run.resize = c.resize;
  run.cuda_graph = c.cuda_graph;
  run.data_on_device = c.data_on_device;
  run.scheduler = scheduler.get();
  run.schedule_unit = c.schedule_unit == "step" ? ScheduleUnit::Step : ScheduleUnit::Epoch;
  if (bar.enabled()) run.on_batch = [&bar](int64_t done, int64_t total) { bar.update(done, total); };
  const InjectedSignal fault = injected_signal();
  int64_t updates = 0;
  run.should_stop = [&fault, &updates] {
    if (fault.step > 0 && ++updates == fault.step) {
      std::raise(fault.sig);
      if (fault.twice) std::raise(fault.sig);
    }
    return g_stop_signal.load() != 0;
  };
  Trainer trainer(model, *opt, ctx, train, test, run);
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  for (int64_t epoch = first_epoch; epoch <= c.epochs; ++epoch) {
    bar.start();
    cursor.epoch = epoch;
    const EpochMetrics m = trainer.continue_epoch(cursor);
    cursor = {epoch + 1, 0, 0.0, 0.0};
    bar.clear();
    CheckpointInfo info{c.model, epoch, run_config_json(c)};
    if (m.interrupted) {
      info = {c.model, epoch - 1, run_config_json(c), m.cursor.batches_done, m.cursor.loss_sum,
              m.cursor.hits};
    } else {
      std::printf("%s\n", format_epoch_line(m, c.epochs, device_name(choice.device)).c_str());
      if (metrics) metrics->write(m);
    }
    if (!checkpoint_path.empty())
      save_checkpoint(checkpoint_path, info, model, opt.get(), scheduler.get(), ctx);
    if (const int sig = g_stop_signal.load()) {
      if (m.interrupted)
        std::printf("stopped by %s in epoch %lld after step %lld", strsignal(sig),
                    static_cast<long long>(epoch), static_cast<long long>(m.cursor.batches_done));
      else
        std::printf("stopped by %s after epoch %lld", strsignal(sig),
                    static_cast<long long>(epoch));
      if (!checkpoint_path.empty())
        std::printf("; continue with: cutrain train --resume %s --epochs %lld",
                    checkpoint_path.c_str(), static_cast<long long>(c.epochs));
      std::printf("\n");
      // What the run needed so far: a run stopped by a time limit still reports its memory.
      print_tensor_memory(choice.device, /*peak=*/true);
      std::fflush(stdout);
      return 128 + sig;
    }
    std::fflush(stdout);
  }
  if (first_epoch <= c.epochs) print_tensor_memory(choice.device, /*peak=*/true);
  if (first_epoch > c.epochs)
    std::printf("nothing to do: the checkpoint has %lld epochs, --epochs asks for %lld\n",
                static_cast<long long>(first_epoch - 1), static_cast<long long>(c.epochs));
  return 0;
}

}  // namespace cutrain::app
