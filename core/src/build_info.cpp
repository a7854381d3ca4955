#include "cutrain/build_info.h"

#include <omp.h>

#include "build_config.h"
#include "cutrain/device.h"
#include "cutrain/error.h"
#include "cutrain/memory_stats.h"

#if CUTRAIN_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#endif

namespace cutrain {

BuildInfo build_info() {
  BuildInfo b;
  b.version = CUTRAIN_VERSION_STRING;
  b.build_type = CUTRAIN_BUILD_TYPE;
  if (b.build_type.empty()) b.build_type = "no CMAKE_BUILD_TYPE";  // a multi-config generator
  b.cuda = cuda_built();
#if CUTRAIN_WITH_CUDA
  b.cuda_toolkit = CUTRAIN_CUDA_TOOLKIT_VERSION;
  b.cuda_architectures = CUTRAIN_CUDA_ARCHITECTURES;
  b.cudnn = CUDNN_VERSION;
  b.cublas = CUBLAS_VERSION;
#endif
  return b;
}

RuntimeInfo runtime_info() {
  RuntimeInfo r;
  r.cpu_threads = omp_get_max_threads();
  try {
    r.host_memory = host_memory_limit();
  } catch (const ConfigError&) {  // a bad CUTRAIN_HOST_MEMORY_LIMIT: 0, as documented
  }
  r.cuda_unusable = cuda_unusable_reason();
#if CUTRAIN_WITH_CUDA
  // Each query is allowed to fail (no driver, no device): its field stays 0 and the runtime's
  // error, not sticky for these calls, is cleared.
  if (cudaDriverGetVersion(&r.cuda_driver) != cudaSuccess) r.cuda_driver = 0;
  if (cudaRuntimeGetVersion(&r.cuda_runtime) != cudaSuccess) r.cuda_runtime = 0;
  r.cudnn = static_cast<int>(cudnnGetVersion());
  // cuBLAS's parts, encoded as CUBLAS_VERSION is (cuBLAS 11 used major * 1000 instead).
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS)
    r.cublas = major * 10000 + minor * 100 + patch;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) count = 0;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    CudaDeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.major = p.major;
    d.minor = p.minor;
    d.multiprocessors = p.multiProcessorCount;
    d.memory_bytes = p.totalGlobalMem;
    d.l2_bytes = static_cast<uint64_t>(p.l2CacheSize);
    r.devices.push_back(d);
  }
  cudaGetLastError();
#endif
  return r;
}

std::string format_library_version(int v) {
  if (v <= 0) return "none";
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
         std::to_string(v % 100);
}

std::string format_cuda_version(int v) {
  if (v <= 0) return "none";
  return std::to_string(v / 1000) + "." + std::to_string(v / 10 % 100);
}

namespace {
// A library serves a build when it has the headers' major version and at least their minor one
// (cuDNN's documented rule since 7; cuBLAS ships with the toolkit and follows it too).
void check_library(const char* name, int built, int loaded, std::vector<std::string>& out) {
  if (built <= 0 || loaded <= 0) return;
  const int built_major = built / 10000, loaded_major = loaded / 10000;
  const int built_minor = built / 100 % 100, loaded_minor = loaded / 100 % 100;
  if (loaded_major != built_major)
    out.push_back(std::string(name) + " " + format_library_version(loaded) +
                  " is loaded, but cutrain was built against " + format_library_version(built) +
                  ": another major version is not compatible; put a " +
                  std::to_string(built_major) + ".x library first on LD_LIBRARY_PATH or rebuild");
  else if (loaded_minor < built_minor)
    out.push_back(std::string(name) + " " + format_library_version(loaded) +
                  " is loaded, older than the " + format_library_version(built) +
                  " cutrain was built against: it may lack calls the build makes; use " +
                  format_library_version(built) + " or newer");
}
}  // namespace

std::vector<std::string> library_version_problems(const BuildInfo& build,
                                                  const RuntimeInfo& runtime) {
  std::vector<std::string> out;
  // A CUDA build whose cuDNN or cuBLAS reports no version: not the real library (a stub; both
  // are linked, so a missing one stops the program before this runs).
  if (build.cuda && build.cudnn > 0 && runtime.cudnn <= 0)
    out.push_back("cuDNN reports no version: the libcudnn loaded is not a working cuDNN");
  if (build.cuda && build.cublas > 0 && runtime.cublas <= 0)
    out.push_back("cuBLAS reports no version: the libcublas loaded is not a working cuBLAS");
  check_library("cuDNN", build.cudnn, runtime.cudnn, out);
  check_library("cuBLAS", build.cublas, runtime.cublas, out);
  // The driver must support the runtime's major version (minor versions are compatible within
  // a major one, CUDA 11 on); a missing driver is cuda_unusable's to report.
  if (runtime.cuda_driver > 0 && runtime.cuda_runtime > 0 &&
      runtime.cuda_driver / 1000 < runtime.cuda_runtime / 1000)
    out.push_back("the CUDA driver supports CUDA " + format_cuda_version(runtime.cuda_driver) +
                  ", older than the CUDA " + format_cuda_version(runtime.cuda_runtime) +
                  " runtime cutrain uses: update the driver");
  return out;
}

}  // namespace cutrain
