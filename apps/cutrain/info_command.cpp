#include "info_command.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "cutrain/build_info.h"
#include "cutrain/data/fashion_mnist.h"
#include "cutrain/error.h"
#include "cutrain/memory_stats.h"

namespace cutrain::app {

CLI::App* add_info_command(CLI::App& app, InfoConfig& c) {
  CLI::App* cmd = app.add_subcommand(
      "info", "Build, library versions, CUDA devices, what --device auto takes, the data set");
  cmd->add_option("--data", c.data_dir,
                  "Directory with the Fashion-MNIST IDX files to check (default: $CUTRAIN_DATA, "
                  "else " +
                      std::string(data::kDefaultFashionMnistDir) + ")");
  return cmd;
}

namespace {

double gib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

// "60000 train + 10000 test images 1x28x28", or the loader's error (which names the file and
// what to do).
bool report_data(const std::string& dir) {
  try {
    const data::ImageDataset train = data::load_fashion_mnist(dir, data::Split::Train);
    const data::ImageDataset test = data::load_fashion_mnist(dir, data::Split::Test);
    std::printf("data:     %s: %lld train + %lld test images %lldx%lldx%lld\n", dir.c_str(),
                static_cast<long long>(train.count), static_cast<long long>(test.count),
                static_cast<long long>(train.channels), static_cast<long long>(train.height),
                static_cast<long long>(train.width));
    return true;
  } catch (const std::exception& e) {
    std::printf("data:     not usable: %s\n", e.what());
    return false;
  }
}

}  // namespace

int run_info(const InfoConfig& c) {
  const BuildInfo b = build_info();
  const RuntimeInfo r = runtime_info();
  std::printf("cutrain %s (%s)\n", b.version.c_str(), b.build_type.c_str());
  if (b.cuda)
    std::printf("built:    CUDA %s for %s, cuDNN %s, cuBLAS %s\n", b.cuda_toolkit.c_str(),
                b.cuda_architectures.c_str(), format_library_version(b.cudnn).c_str(),
                format_library_version(b.cublas).c_str());
  else
    std::printf("built:    CPU only (CUTRAIN_CUDA=OFF or no nvcc at configure time)\n");
  if (b.cuda) {
    const std::string driver = r.cuda_driver > 0
                                   ? "driver for CUDA " + format_cuda_version(r.cuda_driver)
                                   : std::string("no CUDA driver");
    std::printf("loaded:   CUDA runtime %s, %s, cuDNN %s, cuBLAS %s\n",
                format_cuda_version(r.cuda_runtime).c_str(), driver.c_str(),
                format_library_version(r.cudnn).c_str(), format_library_version(r.cublas).c_str());
  }
  for (const CudaDeviceInfo& d : r.devices)
    std::printf("device %d: %s, compute capability %d.%d, %d SMs, %.1f GiB, L2 %.0f MiB\n", d.index,
                d.name.c_str(), d.major, d.minor, d.multiprocessors, gib(d.memory_bytes),
                static_cast<double>(d.l2_bytes) / (1024.0 * 1024.0));
  if (r.cuda_unusable.empty())
    std::printf("auto:     cuda (device 0)\n");
  else
    std::printf("auto:     cpu: %s\n", r.cuda_unusable.c_str());
  // runtime_info leaves host_memory 0 only for a bad CUTRAIN_HOST_MEMORY_LIMIT, which fails every
  // CPU allocation: a problem wherever training runs. The query again gives its message.
  const char* cap = std::getenv("CUTRAIN_HOST_MEMORY_LIMIT");
  std::string memory_problem;
  if (r.host_memory <= 0) {
    try {
      host_memory_limit();
    } catch (const ConfigError& e) {
      memory_problem = e.what();
    }
  }
  std::printf("cpu:      %d OpenMP threads (OMP_NUM_THREADS), ", r.cpu_threads);
  if (r.host_memory > 0)
    std::printf("%.1f GiB of memory for tensors%s\n",
                static_cast<double>(r.host_memory) / (1 << 30),
                cap != nullptr && *cap ? " (CUTRAIN_HOST_MEMORY_LIMIT)" : "");
  else
    std::printf("memory for tensors unknown\n");
  const bool data_loads = report_data(c.data_dir.empty() ? data::default_data_dir() : c.data_dir);
  // A library problem stops training only where CUDA would be used; otherwise it is a note.
  const std::vector<std::string> problems = library_version_problems(b, r);
  const bool cuda_used = r.cuda_unusable.empty();
  for (const std::string& p : problems)
    std::printf("%s  %s\n", cuda_used ? "problem:" : "note:   ", p.c_str());
  if (!memory_problem.empty()) {
    std::printf("problem:  %s\n", memory_problem.c_str());
    return 1;
  }
  return info_exit_code(data_loads, !problems.empty(), cuda_used);
}

}  // namespace cutrain::app
