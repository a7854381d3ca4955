#include "bench_batchnorm_command.h"

#include "bench_command.h"

#include <charconv>
#include <cstdio>

#include "cutrain/bench/batchnorm_bench.h"
#include "cutrain/device.h"
#include "cutrain/error.h"

namespace cutrain::app {

CLI::App* add_bench_batchnorm_command(CLI::App& bench, BenchBatchnormConfig& c) {
  CLI::App* cmd = bench.add_subcommand(
      "batchnorm",
      "Time batch-norm forward (training, inference) and backward: ours and cuDNN's (CUDA), "
      "in GB/s next to a copy");
  cmd->add_option("--shape", c.shape, "Input N,C,H,W (NCHW float32)")->capture_default_str();
  add_timing_options(cmd, c.device, c.iterations, c.warmup, "calls per op");
  cmd->add_flag("--relu", c.relu, "Fused BN+ReLU (cuDNN: its batch norm, then its ReLU)");
  cmd->add_option("--schedule", c.schedule,
                  "Ours on CUDA: auto (streamed when a first pass reads more than half the L2 "
                  "cache), two-pass (statistics of every channel, then a second launch) or "
                  "streamed (one launch, each channel's second pass while it is in L2)")
      ->check(CLI::IsMember({"auto", "two-pass", "streamed"}))
      ->capture_default_str();
  return cmd;
}

std::array<int64_t, 4> parse_bn_shape(const std::string& text) {
  const auto bad = [&text] {
    return ConfigError(
        "--shape: expected N,C,H,W, four positive integers (e.g. 256,64,56,56), "
        "got '" +
        text + "'");
  };
  std::array<int64_t, 4> dims{};
  const char* p = text.data();
  const char* const end = p + text.size();
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0 && (p == end || *p++ != ',')) throw bad();
    // from_chars takes no sign or space, so "-1" and " 1" stop here.
    const auto [next, ec] = std::from_chars(p, end, dims[i]);
    if (ec != std::errc() || next == p || dims[i] < 1) throw bad();
    p = next;
  }
  if (p != end) throw bad();
  return dims;
}

namespace {

// Columns: op, bytes per value, then per implementation median us, min us, GB/s and a ratio
// (ours: to the copy; cuDNN: ours over cuDNN's GB/s).
void print_header(bool cudnn) {
  std::printf("%-14s %7s %12s %10s %8s %6s", "op", "B/value", "ours med us", "min us", "GB/s",
              "/copy");
  if (cudnn) std::printf(" | %12s %10s %8s %10s", "cuDNN med us", "min us", "GB/s", "ours/cuDNN");
  std::printf("\n");
}

void print_row(const BnOpResult& o, double copy_gbps, bool cudnn) {
  std::printf("%-14s %7.0f %12.2f %10.2f %8.1f %6.2f", o.op.c_str(), o.bytes_per_value,
              o.ours.median_us, o.ours.min_us, o.ours.gbps, o.ours.gbps / copy_gbps);
  if (cudnn)
    std::printf(" | %12.2f %10.2f %8.1f %10.2f", o.cudnn.median_us, o.cudnn.min_us, o.cudnn.gbps,
                o.ours.gbps / o.cudnn.gbps);
  std::printf("\n");
}

}  // namespace

int run_bench_batchnorm(const BenchBatchnormConfig& c) {
  const std::array<int64_t, 4> dims = parse_bn_shape(c.shape);
  BatchnormBenchConfig config;
  config.n = dims[0];
  config.c = dims[1];
  config.h = dims[2];
  config.w = dims[3];
  config.device = choose_device(c.device).device;
  config.iterations = c.iterations;
  config.warmup = c.warmup;
  config.relu = c.relu;
  config.schedule = c.schedule;
  const BatchnormBenchResult r = bench_batchnorm(config);

  std::printf(
      "bench batchnorm%s: shape %s (N,C,H,W), %lld values, device %s; median and min of %d "
      "samples after %d warm-up calls\n",
      c.relu ? " + relu" : "", c.shape.c_str(), static_cast<long long>(r.values),
      device_name(config.device), c.iterations, c.warmup);
  std::printf("ours: %s schedule%s\n", r.schedule.c_str(),
              r.schedule == "cpu" ? " (the CPU twins)" : "");
  print_header(r.cudnn);
  for (const BnOpResult& o : r.ops) print_row(o, r.copy_gbps, r.cudnn);
  std::printf("copy of x (read + write, 8 B/value): %.1f GB/s\n", r.copy_gbps);
  std::printf(
      "bytes: the least each op must move per value (x read once, y or dx written once; "
      "backward also reads dy)\n");
  if (!r.cudnn) {
    std::printf("cuDNN: n/a on the CPU\n");
    return 0;
  }
  if (r.cudnn_persistent_unsupported.empty())
    std::printf(
        "cuDNN mode: %s (the faster of spatial and spatial-persistent, forward train + "
        "backward)\n",
        r.cudnn_mode.c_str());
  else
    std::printf("cuDNN mode: %s (spatial-persistent rejected: %s)\n", r.cudnn_mode.c_str(),
                r.cudnn_persistent_unsupported.c_str());
  std::printf(
      "check ours vs cuDNN, max |diff| / max |cuDNN|: y %.2e, y (inference) %.2e, "
      "dx %.2e, dgamma/dbeta %.2e\n",
      r.y_rel_diff, r.y_infer_rel_diff, r.dx_rel_diff, r.dparams_rel_diff);
  return 0;
}

}  // namespace cutrain::app
