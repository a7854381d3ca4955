// NVTX ranges in the "cutrain" domain, so Nsight Systems / Nsight Compute show every phase of a
// step ("fwd/3.conv2d", "bwd/3.conv2d", "optimizer/step", "copy/h2d", "eval"). Header-only
// NVTX3: without a profiler attached a range costs a branch. Without CUDA it compiles to
// nothing. Private to the library.
#pragma once

#include <string>

#if CUTRAIN_WITH_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace cutrain::detail {

#if CUTRAIN_WITH_CUDA
inline nvtxDomainHandle_t nvtx_domain() {
  static const nvtxDomainHandle_t domain = nvtxDomainCreateA("cutrain");
  return domain;
}

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) {
    nvtxEventAttributes_t a{};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    a.messageType = NVTX_MESSAGE_TYPE_ASCII;
    a.message.ascii = name;
    nvtxDomainRangePushEx(nvtx_domain(), &a);
  }
  explicit NvtxRange(const std::string& name) : NvtxRange(name.c_str()) {}
  ~NvtxRange() { nvtxDomainRangePop(nvtx_domain()); }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};
#else
class NvtxRange {
 public:
  explicit NvtxRange(const char*) {}
  explicit NvtxRange(const std::string&) {}
};
#endif

}  // namespace cutrain::detail
