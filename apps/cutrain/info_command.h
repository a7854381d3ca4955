// `cutrain info`: what this build is and what it finds here: versions built against and loaded,
// CUDA devices, what --device auto takes and why, CPU threads, and whether the data loads.
// Exit 1 when something found would make training fail: unreadable data, or libraries that
// cannot serve this build where --device auto would use CUDA.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cutrain::app {

struct InfoConfig {
  std::string data_dir;
};

/// The exit status of `cutrain info`: 1 when the data set does not load, or when libraries
/// cannot serve the build on a machine where --device auto would use CUDA (elsewhere such a
/// library is a note: training runs on the CPU); 0 otherwise.
inline int info_exit_code(bool data_loads, bool library_problems, bool cuda_used) {
  return data_loads && (!library_problems || !cuda_used) ? 0 : 1;
}

CLI::App* add_info_command(CLI::App& app, InfoConfig& config);
int run_info(const InfoConfig& config);

}  // namespace cutrain::app
