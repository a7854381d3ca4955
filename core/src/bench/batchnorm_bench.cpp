// `cutrain bench batchnorm`, the library half. Ours (the CUDA launchers, or their CPU twins on
// the CPU) and cuDNN's batch norm (CUDA only) run each op on the same x, dy, gamma and beta, into
// their own outputs and per-channel state. Per op, ours and cuDNN's are timed one right after
// the other (median of many after a warm-up), so a clock change during the run hits both alike.
// cuDNN is timed in its spatial and spatial-persistent modes and credited with the faster.
// Afterwards both start again from the same running statistics for one untimed pass of the
// three ops, whose outputs are compared (a sanity check, not a test: the gpu tests compare the
// kernels with their CPU twins).
#include "cutrain/bench/batchnorm_bench.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "batchnorm.h"
#include "bench/bench_timing.h"
#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/tensor.h"
#if CUTRAIN_WITH_CUDA
#include "bench/batchnorm_cudnn.h"
#endif

namespace cutrain {
namespace {

using kernels::BnChannels;
using kernels::BnConfig;
using kernels::BnDims;

enum class BnOp { Train, Infer, Backward };  // the order of BatchnormBenchResult::ops
constexpr std::array<BnOp, 3> kOps{BnOp::Train, BnOp::Infer, BnOp::Backward};

const char* op_name(BnOp op) {
  switch (op) {
    case BnOp::Train:
      return "forward train";
    case BnOp::Infer:
      return "forward infer";
    case BnOp::Backward:
      return "backward";
  }
  return "";
}

struct BnInputs {
  Tensor x, dy, gamma, beta;
};

// One implementation's outputs and per-channel state.
struct BnSide {
  Tensor y, y_infer, dx;
  Tensor running_mean, running_var, save_mean, save_inv_std, dgamma, dbeta;

  BnSide(const Shape& shape, Device device)
      : y(shape, device),
        y_infer(shape, device),
        dx(shape, device),
        running_mean(Shape{shape[1]}, device),
        running_var(Shape{shape[1]}, device),
        save_mean(Shape{shape[1]}, device),
        save_inv_std(Shape{shape[1]}, device),
        dgamma(Shape{shape[1]}, device),
        dbeta(Shape{shape[1]}, device) {}

  /// PyTorch's initial running statistics (mean 0, variance 1).
  void reset(Context& ctx) {
    running_mean.zero(ctx.stream());
    running_var.fill(1.0f, ctx.stream());
  }

  /// Every per-channel tensor, in BnChannels' order (gamma and beta are the shared inputs).
  BnChannels channels(const BnInputs& in) {
    return {in.gamma.data(),  in.beta.data(),      running_mean.data(), running_var.data(),
            save_mean.data(), save_inv_std.data(), dgamma.data(),       dbeta.data()};
  }
};

// Ours on either device, with the interface of detail::CudnnBatchNorm.
class OursBn {
 public:
  OursBn(const BnDims& d, const BnConfig& cfg, Device device) : d_(d), cfg_(cfg) {
    if (device == Device::CUDA)
      scratch_ = Tensor(Shape{kernels::batchnorm_scratch_floats(d)}, device);
  }
  void forward_train(Context& ctx, const BnChannels& ch, const float* x, float* y) {
    if (ctx.is_cuda())
      kernels::launch_batchnorm_forward_train(d_, cfg_, ch, x, y, scratch_.data(), ctx.stream());
    else
      kernels::batchnorm_forward_train_cpu(d_, cfg_, ch, x, y);
  }
  void forward_infer(Context& ctx, const BnChannels& ch, const float* x, float* y) {
    if (ctx.is_cuda())
      kernels::launch_batchnorm_forward_infer(d_, cfg_, ch, x, y, ctx.stream());
    else
      kernels::batchnorm_forward_infer_cpu(d_, cfg_, ch, x, y);
  }
  void backward(Context& ctx, const BnChannels& ch, const float* x, const float* y, const float* dy,
                float* dx) {
    if (ctx.is_cuda())
      kernels::launch_batchnorm_backward(d_, cfg_, ch, x, y, dy, dx, scratch_.data(), ctx.stream());
    else
      kernels::batchnorm_backward_cpu(d_, cfg_, ch, x, y, dy, dx);
  }

 private:
  BnDims d_;
  BnConfig cfg_;
  Tensor scratch_;
};

// Backward reads the statistics its side's last training forward saved (and y, with the ReLU).
template <typename Impl>
void run(Impl& impl, BnOp op, Context& ctx, const BnInputs& in, BnSide& s) {
  const BnChannels ch = s.channels(in);
  switch (op) {
    case BnOp::Train:
      impl.forward_train(ctx, ch, in.x.data(), s.y.data());
      break;
    case BnOp::Infer:
      impl.forward_infer(ctx, ch, in.x.data(), s.y_infer.data());
      break;
    case BnOp::Backward:
      impl.backward(ctx, ch, in.x.data(), s.y.data(), in.dy.data(), s.dx.data());
      break;
  }
}

template <typename Impl>
std::vector<double> time_op(Impl& impl, BnOp op, Context& ctx, const BnInputs& in, BnSide& s,
                            const BatchnormBenchConfig& c) {
  return detail::time_us(ctx, c.warmup, c.iterations, [&] { run(impl, op, ctx, in, s); });
}

BnTiming summarize(const std::vector<double>& samples, double bytes) {
  BnTiming t;
  t.median_us = detail::median(samples);
  t.min_us = *std::min_element(samples.begin(), samples.end());
  t.gbps = bytes / (t.median_us * 1e3);
  return t;
}

void check_config(const BatchnormBenchConfig& c) {
  const std::string shape = "bench batchnorm: --shape " + std::to_string(c.n) + "," +
                            std::to_string(c.c) + "," + std::to_string(c.h) + "," +
                            std::to_string(c.w);
  if (c.n < 1 || c.c < 1 || c.h < 1 || c.w < 1)
    throw ConfigError(shape + ": every dimension must be positive");
  // In double: the product of four int64 values may overflow int64.
  if (static_cast<double>(c.n) * c.c * c.h * c.w > 2147483647.0)
    throw ConfigError(shape + ": more than 2^31 - 1 values (cuDNN's strides are int)");
  if (c.n * c.h * c.w < 2)
    throw ConfigError(shape + ": training needs N*H*W >= 2 values per channel");
  if (c.iterations < 1 || c.warmup < 0)
    throw ConfigError("bench batchnorm: --iterations must be >= 1 and --warmup >= 0");
}

// --schedule's names, both ways.
constexpr std::array<std::pair<kernels::BnSchedule, const char*>, 3> kScheduleNames{
    {{kernels::BnSchedule::Auto, "auto"},
     {kernels::BnSchedule::TwoPass, "two-pass"},
     {kernels::BnSchedule::Streamed, "streamed"}}};

kernels::BnSchedule parse_schedule(const std::string& name) {
  for (const auto& [schedule, n] : kScheduleNames)
    if (name == n) return schedule;
  throw ConfigError("bench batchnorm: --schedule must be auto, two-pass or streamed, got '" +
                    name + "'");
}

std::string schedule_name(kernels::BnSchedule schedule) {
  for (const auto& [s, n] : kScheduleNames)
    if (s == schedule) return n;
  return "?";
}

#if CUTRAIN_WITH_CUDA
// The untimed pass whose outputs are compared: all three ops from the initial running stats.
template <typename Impl>
void check_pass(Impl& impl, Context& ctx, const BnInputs& in, BnSide& s) {
  s.reset(ctx);
  for (BnOp op : kOps) run(impl, op, ctx, in, s);
}

// max |a - b| / max |b|: relative to the reference's scale, so values near zero do not blow up.
double max_rel_diff(const Tensor& a, const Tensor& b, cudaStream_t stream) {
  const std::vector<float> va = a.to_vector(stream), vb = b.to_vector(stream);
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < va.size(); ++i) {
    const double d = std::fabs(static_cast<double>(va[i]) - vb[i]);
    if (std::isnan(d)) return d;  // std::max would drop it
    diff = std::max(diff, d);
    scale = std::max(scale, std::fabs(static_cast<double>(vb[i])));
  }
  return scale > 0.0 ? diff / scale : diff;
}

// cuDNN in both spatial modes: timings per op; then the faster mode is kept.
class CudnnBench {
 public:
  CudnnBench(const BatchnormBenchConfig& c, const BnConfig& cfg, Context& ctx, const BnInputs& in)
      : bn_(c.n, c.c, c.h, c.w, cfg), side_(in.x.shape(), Device::CUDA) {
    side_.reset(ctx);
    persistent_unsupported_ = bn_.persistent_unsupported_reason(
        ctx, side_.channels(in), in.x.data(), side_.y.data(), in.dy.data(), side_.dx.data());
  }

  void time(BnOp op, Context& ctx, const BnInputs& in, const BatchnormBenchConfig& c) {
    const auto i = static_cast<size_t>(op);
    bn_.set_persistent(false);
    spatial_[i] = time_op(bn_, op, ctx, in, side_, c);
    // Inference has no persistent mode.
    if (op == BnOp::Infer || !persistent_unsupported_.empty()) return;
    bn_.set_persistent(true);
    persistent_[i] = time_op(bn_, op, ctx, in, side_, c);
  }

  /// cuDNN's fields of `r` from the faster mode (forward train + backward), which stays set.
  void finish(BatchnormBenchResult& r) {
    const auto train = static_cast<size_t>(BnOp::Train);
    const auto bwd = static_cast<size_t>(BnOp::Backward);
    const bool persistent = persistent_unsupported_.empty() &&
                            detail::median(persistent_[train]) + detail::median(persistent_[bwd]) <
                                detail::median(spatial_[train]) + detail::median(spatial_[bwd]);
    bn_.set_persistent(persistent);
    r.cudnn = true;
    r.cudnn_persistent_unsupported = persistent_unsupported_;
    r.cudnn_mode = persistent ? "spatial-persistent" : "spatial";
    for (BnOp op : kOps) {
      const auto i = static_cast<size_t>(op);
      const std::vector<double>& s = persistent && op != BnOp::Infer ? persistent_[i] : spatial_[i];
      r.ops[i].cudnn = summarize(s, r.ops[i].bytes_per_value * static_cast<double>(r.values));
    }
  }

  detail::CudnnBatchNorm& bn() { return bn_; }
  BnSide& side() { return side_; }

 private:
  detail::CudnnBatchNorm bn_;
  BnSide side_;
  std::string persistent_unsupported_;  // empty: spatial-persistent is timed too
  std::array<std::vector<double>, 3> spatial_, persistent_;
};
#endif

}  // namespace

double batchnorm_bytes_per_value(const std::string& op) {
  if (op == op_name(BnOp::Train) || op == op_name(BnOp::Infer)) return 8.0;
  if (op == op_name(BnOp::Backward)) return 12.0;
  throw ConfigError("batchnorm_bytes_per_value: unknown op '" + op + "'");
}

BatchnormBenchResult bench_batchnorm(const BatchnormBenchConfig& c) {
  check_config(c);
  Context ctx(c.device);
  const Shape shape{c.n, c.c, c.h, c.w};
  const BnDims d{c.n, c.c, c.h * c.w};
  BnConfig cfg;
  cfg.relu = c.relu;
  cfg.schedule = parse_schedule(c.schedule);
  // A nonzero mean (x in [-1, 3)) and gamma away from zero, so no output is trivially small.
  const BnInputs in{detail::random_tensor(shape, c.device, 1, -1.0f, 3.0f),
                    detail::random_tensor(shape, c.device, 2),
                    detail::random_tensor(Shape{c.c}, c.device, 3, 0.5f, 1.5f),
                    detail::random_tensor(Shape{c.c}, c.device, 4, -0.5f, 0.5f)};

  BatchnormBenchResult r;
  r.values = numel_of(shape);
  if (!ctx.is_cuda()) {
    r.schedule = "cpu";
  } else {
    const std::string forward = schedule_name(kernels::resolve_batchnorm_schedule(d, cfg, false)),
                      backward = schedule_name(kernels::resolve_batchnorm_schedule(d, cfg, true));
    r.schedule = forward == backward ? forward : forward + " (forward), " + backward + " (backward)";
  }
  for (BnOp op : kOps)
    r.ops.push_back({op_name(op), batchnorm_bytes_per_value(op_name(op)), {}, {}});

  OursBn ours(d, cfg, c.device);
  BnSide ours_side(shape, c.device);
  ours_side.reset(ctx);
#if CUTRAIN_WITH_CUDA
  std::unique_ptr<CudnnBench> cudnn;
  if (ctx.is_cuda()) cudnn = std::make_unique<CudnnBench>(c, cfg, ctx, in);
#endif
  for (BnOp op : kOps) {
    BnOpResult& o = r.ops[static_cast<size_t>(op)];
    o.ours = summarize(time_op(ours, op, ctx, in, ours_side, c),
                       o.bytes_per_value * static_cast<double>(r.values));
#if CUTRAIN_WITH_CUDA
    if (cudnn) cudnn->time(op, ctx, in, c);
#endif
  }
  // Same traffic as a forward: x read, as many bytes written.
  r.copy_gbps = detail::copy_gbps(ctx, r.values, c.warmup, c.iterations);

#if CUTRAIN_WITH_CUDA
  if (cudnn) {
    cudnn->finish(r);
    check_pass(ours, ctx, in, ours_side);
    check_pass(cudnn->bn(), ctx, in, cudnn->side());
    const BnSide& a = ours_side;
    const BnSide& b = cudnn->side();
    r.y_rel_diff = max_rel_diff(a.y, b.y, ctx.stream());
    r.y_infer_rel_diff = max_rel_diff(a.y_infer, b.y_infer, ctx.stream());
    r.dx_rel_diff = max_rel_diff(a.dx, b.dx, ctx.stream());
    r.dparams_rel_diff = std::max(max_rel_diff(a.dgamma, b.dgamma, ctx.stream()),
                                  max_rel_diff(a.dbeta, b.dbeta, ctx.stream()));
  }
#endif
  return r;
}

}  // namespace cutrain
