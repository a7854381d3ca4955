#include "cutrain/device.h"

#include "cutrain/error.h"

#if CUTRAIN_WITH_CUDA
#include <cuda_runtime.h>
#include <dlfcn.h>
#endif

namespace cutrain {

const char* device_name(Device d) { return d == Device::CUDA ? "cuda" : "cpu"; }

bool cuda_built() { return CUTRAIN_WITH_CUDA != 0; }

#if CUTRAIN_WITH_CUDA
namespace {
constexpr int kOldestMajor = 8;  // the oldest architecture the kernels are compiled for (sm_80)

bool driver_library_present() {
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) lib = dlopen("libcuda.so.1", RTLD_LAZY);
  if (!lib) return false;
  dlclose(lib);
  return true;
}

std::string probe_cuda() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  cudaGetLastError();  // these errors are not sticky; clear them anyway
  if (err != cudaSuccess) {
    if (err == cudaErrorInsufficientDriver && !driver_library_present())
      return "CUDA driver is not installed (libcuda.so.1 not found)";
    if (err == cudaErrorNoDevice) return "no CUDA device is present";
    return std::string("CUDA is unusable: ") + cudaGetErrorString(err);
  }
  if (count == 0) return "no CUDA device is present";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    cudaGetLastError();
    return "cannot query CUDA device 0";
  }
  if (prop.major < kOldestMajor)
    return std::string("CUDA device 0 (") + prop.name + ") has compute capability " +
           std::to_string(prop.major) + "." + std::to_string(prop.minor) +
           ", older than the oldest cutrain is built for (8.0)";
  // Present is not usable: creating the context fails in exclusive-process mode when another
  // process holds the device, or without memory; "auto" must then fall back, not crash later.
  if (const cudaError_t e = cudaFree(nullptr); e != cudaSuccess) {
    cudaGetLastError();
    return std::string("cannot create a CUDA context on device 0 (") + prop.name +
           "): " + cudaGetErrorString(e);
  }
  return "";
}
}  // namespace

std::string cuda_unusable_reason() {
  static const std::string reason = probe_cuda();
  return reason;
}
#else
std::string cuda_unusable_reason() { return "cutrain was built without CUDA (CUTRAIN_CUDA=OFF)"; }
#endif

DeviceChoice choose_device(const std::string& spec) {
  if (spec == "cpu") return {Device::CPU, "requested with --device cpu"};
  if (spec == "cuda") {
    const std::string why = cuda_unusable_reason();
    if (!why.empty()) throw ConfigError("--device cuda: no usable CUDA device: " + why);
    return {Device::CUDA, "requested with --device cuda"};
  }
  if (spec == "auto") {
    const std::string why = cuda_unusable_reason();
    if (why.empty()) return {Device::CUDA, "a usable CUDA device was found"};
    return {Device::CPU, "no usable CUDA device: " + why};
  }
  throw ConfigError("--device: expected auto, cpu or cuda, got '" + spec + "'");
}

}  // namespace cutrain
