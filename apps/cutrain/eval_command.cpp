#include "eval_command.h"

#include <cstdio>
#include <string>

#include "cutrain/context.h"
#include "cutrain/data/fashion_mnist.h"
#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/plot/svg_plot.h"
#include "cutrain/train/batch_pipeline.h"
#include "cutrain/train/checkpoint.h"
#include "cutrain/train/confusion.h"
#include "cutrain/train/metrics.h"
#include "device_flags.h"
#include "train_config.h"

namespace cutrain::app {

CLI::App* add_eval_command(CLI::App& app, EvalConfig& c) {
  CLI::App* cmd = app.add_subcommand("eval", "Test loss and accuracy of a checkpoint");
  cmd->add_option("--checkpoint", c.checkpoint, "A checkpoint written by --checkpoint-dir")
      ->required();
  cmd->add_option("--data", c.data_dir,
                  "Directory with the Fashion-MNIST IDX files (default: $CUTRAIN_DATA, else " +
                      std::string(data::kDefaultFashionMnistDir) + ")");
  cmd->add_option("--device", c.device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "Examples per evaluation batch")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("--precise-bn", c.precise_bn,
                "Then recompute every batch norm's statistics over the training set with the "
                "checkpoint's weights (the running averages lag weights trained at a high lr) "
                "and evaluate again");
  cmd->add_flag("--per-class", c.per_class,
                "Also print each class's accuracy and the class it is most often taken for "
                "(one more pass over the test set; with --precise-bn, under the recomputed "
                "statistics)");
  add_tf32_flag(cmd, c.tf32);
  return cmd;
}

namespace {

// One row per class: its examples, its accuracy and what it is most often mistaken for.
void print_per_class(const ConfusionMatrix& m) {
  std::printf("%-12s %8s %9s  %s\n", "class", "examples", "accuracy", "most often taken for");
  for (int c = 0; c < m.classes(); ++c) {
    const int other = m.most_confused_with(c);
    const std::string confused = other < 0 ? std::string("-")
                                           : std::string(data::fashion_mnist_class_name(other)) +
                                                 " (" + std::to_string(m.count(c, other)) + ")";
    std::printf("%-12s %8lld %9.4f  %s\n", data::fashion_mnist_class_name(c),
                static_cast<long long>(m.examples_of(c)), m.accuracy_of(c), confused.c_str());
  }
}

}  // namespace

int run_eval(const EvalConfig& c) {
  const DeviceChoice choice = choose_device(c.device);
  check_cuda_only_flags({false, false, c.tf32}, choice);
  const CheckpointInfo info = read_checkpoint_info(c.checkpoint);
  const std::string dir = c.data_dir.empty() ? data::default_data_dir() : c.data_dir;
  const data::ImageDataset test = data::load_fashion_mnist(dir, data::Split::Test);
  Context ctx(choice.device, float32_math(c.tf32));
  // A run trained with --resize is evaluated on images resized the same way.
  const int64_t resize = stored_resize(info.config_json, c.checkpoint);
  const Shape sample = resize > 0 ? Shape{test.channels, resize, resize}
                                  : Shape{test.channels, test.height, test.width};
  Sequential model = stored_model(info.model, sample, c.checkpoint);
  model.build(sample, c.batch_size, choice.device, 0);
  load_checkpoint(c.checkpoint, model, nullptr, nullptr, ctx);
  PipelineOptions options;
  options.resize = resize;
  BatchPipeline pipeline(model, ctx, {test.channels, test.height, test.width},
                         (test.count + c.batch_size - 1) / c.batch_size, options);
  const EvalResult r = pipeline.evaluate(test);
  std::printf("checkpoint %s: model %s after epoch %lld\n", c.checkpoint.c_str(),
              info.model.c_str(), static_cast<long long>(info.epoch));
  std::printf("test loss %.4f  test acc %.4f  (%lld examples, %s)\n", r.loss, r.accuracy,
              static_cast<long long>(r.examples), device_name(choice.device));
  if (c.precise_bn) {
    const data::ImageDataset train = data::load_fashion_mnist(dir, data::Split::Train);
    if (train.count < c.batch_size)
      throw ConfigError("--precise-bn: " + train.source + " holds " + std::to_string(train.count) +
                        " examples, less than one --batch-size (" + std::to_string(c.batch_size) +
                        ")");
    const int64_t used = pipeline.recompute_batchnorm_statistics(train);
    const EvalResult p = pipeline.evaluate(test);
    std::printf(
        "test loss %.4f  test acc %.4f  with batch-norm statistics recomputed over %lld "
        "training examples\n",
        p.loss, p.accuracy, static_cast<long long>(used));
  }
  if (c.per_class)
    print_per_class(ConfusionMatrix(test.labels, pipeline.predict(test), test.num_classes));
  return 0;
}

CLI::App* add_plot_command(CLI::App& app, PlotConfig& c) {
  CLI::App* cmd =
      app.add_subcommand("plot", "Draw train loss, train and test accuracy against epochs");
  cmd->add_option("metrics", c.metrics_path, "A --metrics file (.jsonl or .csv)")->required();
  cmd->add_option("-o,--output", c.output, "SVG file to write")->capture_default_str();
  cmd->add_option("--title", c.title, "Plot title (default: the metrics file name)");
  return cmd;
}

int run_plot(const PlotConfig& c) {
  const std::vector<EpochMetrics> rows = read_metrics(c.metrics_path);
  PlotSeries loss{"train loss", {}, {}}, train_acc{"train acc", {}, {}, true},
      test_acc{"test acc", {}, {}, true};
  for (const EpochMetrics& m : rows) {
    const double e = static_cast<double>(m.epoch);
    loss.x.push_back(e), loss.y.push_back(m.train_loss);
    train_acc.x.push_back(e), train_acc.y.push_back(m.train_acc);
    test_acc.x.push_back(e), test_acc.y.push_back(m.test_acc);
  }
  write_svg_plot(c.output, {loss, train_acc, test_acc},
                 {c.title.empty() ? c.metrics_path : c.title, "epoch", ""});
  std::printf("%s: %zu epochs plotted to %s\n", c.metrics_path.c_str(), rows.size(),
              c.output.c_str());
  return 0;
}

}  // namespace cutrain::app
