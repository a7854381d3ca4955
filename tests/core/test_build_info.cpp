// build_info() / runtime_info(): the version encodings, the compatibility rule for loaded
// libraries, and facts that must agree with the build these tests are part of.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cutrain/build_info.h"
#include "cutrain/device.h"
#include "cutrain/memory_stats.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::Contains;

TEST(BuildInfo, FormatsLibraryAndCudaVersions) {
  EXPECT_EQ(format_library_version(91900), "9.19.0");
  EXPECT_EQ(format_library_version(130102), "13.1.2");
  EXPECT_EQ(format_library_version(90001), "9.0.1");
  EXPECT_EQ(format_library_version(0), "none");
  EXPECT_EQ(format_cuda_version(13000), "13.0");
  EXPECT_EQ(format_cuda_version(12080), "12.8");
  EXPECT_EQ(format_cuda_version(11020), "11.2");
  EXPECT_EQ(format_cuda_version(0), "none");
}

BuildInfo built_with(int cudnn, int cublas) {
  BuildInfo b;
  b.cuda = true;
  b.cudnn = cudnn;
  b.cublas = cublas;
  return b;
}

RuntimeInfo loaded(int cudnn, int cublas, int driver = 13000, int runtime = 13000) {
  RuntimeInfo r;
  r.cudnn = cudnn;
  r.cublas = cublas;
  r.cuda_driver = driver;
  r.cuda_runtime = runtime;
  return r;
}

// cuDNN's rule: the same major version, and the loaded minor version at least the built one
// (patch levels never matter).
TEST(BuildInfo, LoadedLibrariesMustHaveTheMajorAndAtLeastTheMinorVersion) {
  const BuildInfo b = built_with(91900, 130100);
  EXPECT_TRUE(library_version_problems(b, loaded(91900, 130100)).empty());
  EXPECT_TRUE(library_version_problems(b, loaded(92001, 130205)).empty());            // newer minor
  EXPECT_TRUE(library_version_problems(b, loaded(91800 + 100 + 5, 130100)).empty());  // patch

  std::vector<std::string> p = library_version_problems(b, loaded(91801, 130100));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(Contains(p[0], "cuDNN 9.18.1 is loaded, older than the 9.19.0"));

  p = library_version_problems(b, loaded(81900, 130100));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(Contains(p[0], "cuDNN 8.19.0 is loaded"));
  EXPECT_TRUE(Contains(p[0], "another major version"));
  EXPECT_TRUE(Contains(p[0], "9.x"));

  p = library_version_problems(b, loaded(100000, 120900));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(Contains(p[0], "cuDNN 10.0.0"));
  EXPECT_TRUE(Contains(p[1], "cuBLAS 12.9.0 is loaded"));
  EXPECT_TRUE(Contains(p[1], "another major version"));
}

TEST(BuildInfo, ACpuBuildHasNoVersionsToMatch) {
  EXPECT_TRUE(library_version_problems(BuildInfo{}, loaded(81900, 120000)).empty());
  EXPECT_TRUE(library_version_problems(BuildInfo{}, loaded(0, 0)).empty());
}

TEST(BuildInfo, ACudaBuildWhoseLibrariesReportNoVersionHasAProblem) {
  std::vector<std::string> p = library_version_problems(built_with(91900, 130100), loaded(0, 0));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(Contains(p[0], "cuDNN reports no version"));
  EXPECT_TRUE(Contains(p[1], "cuBLAS reports no version"));
  p = library_version_problems(built_with(91900, 130100), loaded(91900, 0));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(Contains(p[0], "cuBLAS"));
}

TEST(BuildInfo, TheDriverMustSupportTheRuntimesMajorVersion) {
  const BuildInfo b = built_with(91900, 130100);
  EXPECT_TRUE(library_version_problems(b, loaded(91900, 130100, 13020, 13000)).empty());
  EXPECT_TRUE(library_version_problems(b, loaded(91900, 130100, 13000, 13010)).empty());
  EXPECT_TRUE(library_version_problems(b, loaded(91900, 130100, 0, 13000)).empty());  // no driver
  const std::vector<std::string> p =
      library_version_problems(b, loaded(91900, 130100, 12080, 13000));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(Contains(p[0], "CUDA 12.8, older than the CUDA 13.0 runtime"));
  EXPECT_TRUE(Contains(p[0], "update the driver"));
}

TEST(BuildInfo, DescribesThisBuild) {
  const BuildInfo b = build_info();
  EXPECT_EQ(b.version, CUTRAIN_PROJECT_VERSION);
  EXPECT_FALSE(b.build_type.empty());
  EXPECT_EQ(b.cuda, CUTRAIN_WITH_CUDA != 0);
  if (b.cuda) {
    EXPECT_FALSE(b.cuda_toolkit.empty());
    EXPECT_FALSE(b.cuda_architectures.empty());
    EXPECT_GE(b.cudnn / 10000, 9) << b.cudnn;
    EXPECT_GE(b.cublas / 10000, 12) << b.cublas;
  } else {
    EXPECT_TRUE(b.cuda_toolkit.empty());
    EXPECT_EQ(b.cudnn, 0);
    EXPECT_EQ(b.cublas, 0);
  }
}

TEST(BuildInfo, RuntimeAgreesWithTheDeviceProbe) {
  const RuntimeInfo r = runtime_info();
  EXPECT_GE(r.cpu_threads, 1);
  EXPECT_GT(r.host_memory, 0);
  EXPECT_EQ(r.host_memory, host_memory_limit());
  EXPECT_EQ(r.cuda_unusable, cuda_unusable_reason());
  if (!cuda_built()) {
    EXPECT_EQ(r.cudnn, 0);
    EXPECT_TRUE(r.devices.empty());
    return;
  }
  // The libraries load without a GPU; the ones this test process runs with must serve the build
  // (a mismatch here is a broken installation, which is what `cutrain info` is for).
  EXPECT_GT(r.cudnn, 0);
  EXPECT_GT(r.cublas, 0);
  EXPECT_GT(r.cuda_runtime, 0);
  for (const std::string& p : library_version_problems(build_info(), r)) ADD_FAILURE() << p;
  if (r.cuda_unusable.empty()) {
    ASSERT_FALSE(r.devices.empty());
    EXPECT_GE(r.devices[0].major, 8);
    EXPECT_GT(r.devices[0].memory_bytes, 0u);
    EXPECT_GT(r.devices[0].multiprocessors, 0);
    EXPECT_FALSE(r.devices[0].name.empty());
  }
}

}  // namespace
}  // namespace cutrain
