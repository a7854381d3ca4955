// The configuration of a training run: what the flags set, how it is stored in a checkpoint,
// and how a resumed run reconciles the flags it was given with the stored configuration.
#pragma once

#include <cmath>
#include <cstdint>
#include <set>
#include <string>

#include "cutrain/device.h"
#include "cutrain/models/sequential.h"
#include "cutrain/optim/optimizer.h"

namespace cutrain::app {

// Ranges of the run-defining counts, shared by the flags and the check of a resumed run's
// stored configuration.
inline constexpr int64_t kMaxBatchSize = int64_t{1} << 20;
inline constexpr int64_t kMaxEpochs = 1000000;
inline constexpr int64_t kMaxResize = 4096;

struct TrainConfig {
  // What defines the run (stored in checkpoints; fixed when resuming).
  std::string model = "lenet";
  std::string optimizer = "sgd";
  double lr = 0.3;
  OptimizerOptions optim;     // lr is copied in from `lr`
  double eps = std::nan("");  // NaN: the optimizer's default
  bool decay_biases = false;
  int64_t batch_size = 256;
  uint64_t seed = 0;
  int64_t train_limit = 0;
  bool drop_last = false;  // leave out each epoch's last partial batch
  bool precise_bn = false;  // batch-norm statistics recomputed before each evaluation
  // Bilinear resize of the input to resize x resize on the training device (0 = off).
  int64_t resize = 0;
  std::string scheduler;  // empty: constant lr
  std::string schedule_unit = "epoch";
  // How this invocation runs it.
  int64_t epochs = 10;  // total, counting epochs done before a resume
  std::string device = "auto";
  std::string data_dir;  // empty: $CUTRAIN_DATA or the Debian package's directory
  std::string metrics_path;
  std::string checkpoint_dir;
  std::string resume_path;
  bool progress = true;  // progress bar when stdout is a terminal
  bool cuda_graph = false;      // replay each step from a CUDA graph (same results)
  bool data_on_device = false;  // datasets on the device, shuffled and gathered there
  bool tf32 = false;            // TF32 tensor cores for convolutions and GEMMs
  std::set<std::string> given;  // long names of the flags given on the command line
};

/// The optimizer options of a configuration (`lr` and `eps` folded in).
OptimizerOptions optimizer_options(const TrainConfig& c);

/// The run-defining fields, and the planned epochs, as JSON.
std::string run_config_json(const TrainConfig& c);
/// `c` with the run-defining fields of a stored configuration (and its epochs unless --epochs
/// is given); a run-defining flag given with a different value is a ConfigError naming the
/// flag and both values. The stored values must pass what the flags check (model and
/// optimizer names and values, counts in range, the scheduler spec): otherwise, and for
/// anything that is not such a configuration, a DataError naming `checkpoint_path` and the key.
TrainConfig resumed_config(const TrainConfig& c, const std::string& stored_json,
                           const std::string& checkpoint_path);
/// The --resize of a stored configuration (0 when it has none: runs from before the flag);
/// DataError naming `checkpoint_path` when it is not a whole number in [0, kMaxResize].
int64_t stored_resize(const std::string& stored_json, const std::string& checkpoint_path);

/// make_model for the model a checkpoint names, with the sample shape its configuration implies:
/// what make_model refuses (an unknown name, a LeNet with --resize) is a DataError naming
/// `checkpoint_path`, since no flag of this invocation asked for it.
Sequential stored_model(const std::string& name, const Shape& sample,
                        const std::string& checkpoint_path);

/// The flags only CUDA can honour, as given.
struct CudaOnlyFlags {
  bool cuda_graph = false;      // --cuda-graph
  bool data_on_device = false;  // --data-on-device
  bool tf32 = false;            // --tf32
};

/// On the CPU, a ConfigError naming the first CUDA-only flag given and why the device is the
/// CPU (e.g. --device auto found no GPU).
void check_cuda_only_flags(const CudaOnlyFlags& flags, const DeviceChoice& choice);

}  // namespace cutrain::app
