// Where computation runs, and how the application picks it.
#pragma once

#include <string>

namespace cutrain {

/// @brief The two places a Tensor can live and an op can run.
enum class Device { CPU, CUDA };

const char* device_name(Device d);

/// @brief True when this library was compiled with CUDA support.
bool cuda_built();

/// @brief Empty when a CUDA device can be used now; otherwise why not, in words
/// (e.g. "CUDA driver is not installed", "cutrain was built without CUDA").
std::string cuda_unusable_reason();

/// @brief The outcome of resolving a --device value.
struct DeviceChoice {
  Device device = Device::CPU;
  std::string reason;  ///< why this device was chosen (printed by the app)
};

/// @brief Resolves "auto" | "cpu" | "cuda". "auto" picks CUDA when usable, else the CPU and says
/// why; "cuda" without a usable device throws ConfigError naming the reason.
DeviceChoice choose_device(const std::string& spec);

}  // namespace cutrain
