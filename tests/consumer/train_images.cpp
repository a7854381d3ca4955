// The library as a program that has its own images would use it: a registry model, Adam over
// decay groups, a cosine schedule with warm-up, the Trainer's epoch loop, a checkpoint saved and
// loaded into a fresh model, and evaluation. Exits 0 when the model learned the task and the
// reloaded model evaluates exactly as the trained one. docs/library.md walks through it.
// Usage: train_images [--device auto|cpu|cuda] (default auto). With --device cuda and no usable
// device it exits 77, which ctest's train_images_cuda counts as a skip.
#include <cutrain/context.h>
#include <cutrain/data/fashion_mnist.h>
#include <cutrain/device.h>
#include <cutrain/models/registry.h>
#include <cutrain/optim/optimizer.h>
#include <cutrain/rng.h>
#include <cutrain/schedule/scheduler.h>
#include <cutrain/train/batch_pipeline.h>
#include <cutrain/train/checkpoint.h>
#include <cutrain/train/trainer.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>

namespace {

// 28x28 grey images of 10 classes: class c lights its own 6x6 square over uniform noise.
cutrain::data::ImageDataset make_images(int64_t count, uint64_t seed) {
  cutrain::data::ImageDataset d;
  d.count = count;
  d.channels = 1;
  d.height = d.width = 28;
  d.num_classes = 10;
  d.source = "generated squares";
  d.images.resize(static_cast<size_t>(count) * 28 * 28);
  d.labels.resize(static_cast<size_t>(count));
  cutrain::Rng rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int c = static_cast<int>(rng.below(10));
    d.labels[i] = static_cast<uint8_t>(c);
    uint8_t* img = &d.images[static_cast<size_t>(i) * 28 * 28];
    for (int p = 0; p < 28 * 28; ++p) img[p] = static_cast<uint8_t>(rng.below(80));
    const int top = (c / 5) * 12 + 4, left = (c % 5) * 5 + 1;
    for (int y = top; y < top + 6; ++y)
      for (int x = left; x < left + 6; ++x) img[y * 28 + x] = static_cast<uint8_t>(200);
  }
  return d;
}

int run(const std::string& device_spec) {
  using namespace cutrain;
  // CUDA when this machine has a usable device, else the CPU: the same calls either way.
  const DeviceChoice device = choose_device(device_spec);
  Context ctx(device.device);
  const data::ImageDataset train = make_images(2048, 1), test = make_images(512, 2);

  const int64_t batch = 128, epochs = 3;
  Sequential model = make_model("lenet-bn");
  model.build({1, 28, 28}, batch, device.device, /*seed=*/7);

  OptimizerOptions adam;
  adam.lr = 0.01;
  adam.weight_decay = 1e-4;  // L2 on the weights only: decay_groups leaves biases and BN out
  std::unique_ptr<Optimizer> optimizer =
      make_optimizer("adam", decay_groups(model.parameters()), adam, ctx);
  const int64_t steps_per_epoch = (train.count + batch - 1) / batch;
  std::unique_ptr<Scheduler> schedule = make_scheduler(
      "cosine:max_update=" + std::to_string(epochs * steps_per_epoch) + ",warmup=10", 0.01);

  TrainerOptions options;
  options.batch_size = batch;
  options.seed = 3;
  options.scheduler = schedule.get();
  options.schedule_unit = ScheduleUnit::Step;
  options.cuda_graph = ctx.is_cuda();  // each step replayed from a graph; the lr stays live
  Trainer trainer(model, *optimizer, ctx, train, test, options);
  EpochMetrics last;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    last = trainer.train_epoch(epoch);
    std::printf("epoch %lld: train loss %.4f, test acc %.4f, lr %.5f (%s)\n",
                static_cast<long long>(epoch), last.train_loss, last.test_acc, last.lr,
                device_name(device.device));
  }

  // Save, then restore into a model built from nothing but the file.
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("cutrain-consumer-" + std::to_string(getpid()) + ".safetensors");
  CheckpointInfo info;
  info.model = "lenet-bn";
  info.epoch = epochs;
  save_checkpoint(file.string(), info, model, optimizer.get(), schedule.get(), ctx);
  const CheckpointInfo stored = read_checkpoint_info(file.string());
  Sequential restored = make_model(stored.model);
  restored.build({1, 28, 28}, batch, device.device, /*seed=*/0);
  load_checkpoint(file.string(), restored, nullptr, nullptr, ctx);
  std::filesystem::remove(file);
  const EvalResult again = evaluate_model(restored, test, ctx);
  std::printf("restored from epoch %lld: test loss %.6f, acc %.4f\n",
              static_cast<long long>(stored.epoch), again.loss, again.accuracy);

  if (last.test_acc < 0.9) {
    std::fprintf(stderr, "train_images: test accuracy %.4f, expected >= 0.9\n", last.test_acc);
    return 1;
  }
  if (again.accuracy != last.test_acc || again.loss != last.test_loss) {
    std::fprintf(stderr, "train_images: the restored model evaluates differently\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "auto";
  if (argc == 3 && std::string(argv[1]) == "--device") {
    device = argv[2];
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: train_images [--device auto|cpu|cuda]\n");
    return 2;
  }
  if (device == "cuda" && !cutrain::cuda_unusable_reason().empty()) {
    std::printf("train_images: skipped: %s\n", cutrain::cuda_unusable_reason().c_str());
    return 77;
  }
  try {
    return run(device);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_images: %s\n", e.what());
    return 1;
  }
}
