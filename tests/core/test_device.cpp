// Device selection: resolving --device values with and without a usable CUDA device.
#include <gtest/gtest.h>

#include <string>

#include "cutrain/context.h"
#include "cutrain/device.h"
#include "cutrain/error.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::config_error_message;
using test::Contains;

TEST(Device, Names) {
  EXPECT_STREQ(device_name(Device::CPU), "cpu");
  EXPECT_STREQ(device_name(Device::CUDA), "cuda");
}

TEST(Device, BuiltFlagMatchesCompileDefinition) {
  EXPECT_EQ(cuda_built(), CUTRAIN_WITH_CUDA != 0);
  // Without CUDA compiled in, a device can never be usable, and the reason says so.
  if (!cuda_built()) {
    EXPECT_TRUE(Contains(cuda_unusable_reason(), "built without CUDA"));
  }
}

TEST(Device, UnusableReasonIsStable) { EXPECT_EQ(cuda_unusable_reason(), cuda_unusable_reason()); }

TEST(Device, CpuIsAlwaysAvailable) {
  const DeviceChoice c = choose_device("cpu");
  EXPECT_EQ(c.device, Device::CPU);
  EXPECT_FALSE(c.reason.empty());
  EXPECT_TRUE(Contains(c.reason, "--device cpu"));
}

TEST(Device, UnknownSpecThrowsNamingTheFlag) {
  for (const char* spec : {"bogus", "", "CPU", "gpu", "cuda:0"}) {
    const std::string msg = config_error_message([&] { choose_device(spec); });
    EXPECT_TRUE(Contains(msg, "--device")) << "spec '" << spec << "'";
    EXPECT_TRUE(Contains(msg, "auto")) << "spec '" << spec << "'";
  }
  EXPECT_TRUE(Contains(config_error_message([] { choose_device("bogus"); }), "'bogus'"));
}

TEST(Device, AutoFallsBackToCpuWithoutCuda) {
  const std::string why = cuda_unusable_reason();
  if (why.empty()) GTEST_SKIP() << "a usable CUDA device is present";
  const DeviceChoice c = choose_device("auto");
  EXPECT_EQ(c.device, Device::CPU);
  EXPECT_TRUE(Contains(c.reason, why));
}

TEST(Device, CudaRequestedWithoutCudaThrows) {
  const std::string why = cuda_unusable_reason();
  if (why.empty()) GTEST_SKIP() << "a usable CUDA device is present";
  const std::string msg = config_error_message([] { choose_device("cuda"); });
  EXPECT_TRUE(Contains(msg, "no usable CUDA device"));
  EXPECT_TRUE(Contains(msg, why));
  EXPECT_TRUE(Contains(msg, "--device"));
}

TEST(Device, AutoAndCudaPickCudaWhenUsable) {
  if (!cuda_unusable_reason().empty()) GTEST_SKIP() << "no usable CUDA device";
  const DeviceChoice a = choose_device("auto");
  EXPECT_EQ(a.device, Device::CUDA);
  EXPECT_FALSE(a.reason.empty());
  const DeviceChoice c = choose_device("cuda");
  EXPECT_EQ(c.device, Device::CUDA);
  EXPECT_FALSE(c.reason.empty());
}

TEST(ContextWorkspace, CpuContextOwnsNoDeviceScratch) {
  const Context ctx(Device::CPU);
  EXPECT_EQ(ctx.workspace_bytes(), 0u);
}

}  // namespace
}  // namespace cutrain
