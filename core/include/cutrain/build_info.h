// What this copy of cutrain was built with and what it finds when it runs: versions of the CUDA
// libraries on both sides, the CUDA devices, the CPU threads. For bug reports, for benchmark
// records, and for "why did --device auto take the CPU?" (`cutrain info` prints all of it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cutrain {

/// @brief What the library was compiled with. Library versions use their own encodings, kept
/// as the libraries report them (format_library_version, format_cuda_version).
struct BuildInfo {
  std::string version;             ///< cutrain's version, e.g. "0.1.0"
  std::string build_type;          ///< CMake build type, e.g. "Release"
  bool cuda = false;               ///< the CUDA backend is compiled in
  std::string cuda_toolkit;        ///< nvcc's version, e.g. "13.0.88" (empty without CUDA)
  std::string cuda_architectures;  ///< CMAKE_CUDA_ARCHITECTURES, e.g. "80-real;90"
  int cudnn = 0;                   ///< CUDNN_VERSION of the headers (0 without CUDA)
  int cublas = 0;                  ///< CUBLAS_VERSION of the headers (0 without CUDA)
};

/// @brief The compile-time facts; never throws.
BuildInfo build_info();

/// @brief One CUDA device, as cudaGetDeviceProperties describes it.
struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;  ///< compute capability
  int multiprocessors = 0;
  uint64_t memory_bytes = 0;  ///< global memory
  uint64_t l2_bytes = 0;
};

/// @brief What the process finds at run time. Zero where absent (no driver, CPU-only build).
struct RuntimeInfo {
  int cuda_driver = 0;   ///< newest CUDA version the driver supports (cudaDriverGetVersion)
  int cuda_runtime = 0;  ///< cudaRuntimeGetVersion of the runtime loaded
  int cudnn = 0;         ///< cudnnGetVersion() of the cuDNN loaded
  int cublas = 0;        ///< version of the cuBLAS loaded (cublasGetProperty)
  std::vector<CudaDeviceInfo> devices;
  std::string cuda_unusable;  ///< cuda_unusable_reason(): empty when --device auto takes CUDA
  int cpu_threads = 0;        ///< OpenMP threads the CPU path uses
  int64_t host_memory = 0;    ///< host_memory_limit() (0 if CUTRAIN_HOST_MEMORY_LIMIT is bad)
};

/// @brief Queries the libraries and devices; never throws (a failed query leaves its field 0).
RuntimeInfo runtime_info();

/// @brief cuDNN's and cuBLAS's encoding, major * 10000 + minor * 100 + patch: 91900 -> "9.19.0".
std::string format_library_version(int v);
/// @brief The CUDA runtime's and driver's encoding, major * 1000 + minor * 10: 13000 -> "13.0".
std::string format_cuda_version(int v);

/// @brief Empty when the loaded cuDNN and cuBLAS can serve this build; otherwise one line per
/// mismatch (another major version than the headers, or an older minor one, which may lack
/// what the build calls).
std::vector<std::string> library_version_problems(const BuildInfo& build,
                                                  const RuntimeInfo& runtime);

}  // namespace cutrain
