// `cutrain --version` and `cutrain info` as a user meets them: what they print, and exit 1 when
// the data set would not load.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "cutrain/device.h"
#include "info_command.h"
#include "support/cli.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::CliResult;
using test::Contains;
using test::run_cli;

TEST(InfoCli, VersionFlagPrintsTheProjectVersion) {
  const CliResult r = run_cli("--version");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, std::string("cutrain ") + CUTRAIN_PROJECT_VERSION + "\n");
}

TEST(InfoCli, ReportsTheBuildTheDeviceChoiceAndTheData) {
  test::TempDir dir;
  test::write_fashion_mnist_dir(dir.path().string(), test::separable_images(30, 1),
                                test::separable_images(20, 2));
  const CliResult r = run_cli("info --data '" + dir.path().string() + "'");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, std::string("cutrain ") + CUTRAIN_PROJECT_VERSION));
  EXPECT_TRUE(Contains(r.output, dir.path().string() + ": 30 train + 20 test images 1x28x28"));
  EXPECT_TRUE(Contains(r.output, "OpenMP threads"));
  const std::string why = cuda_unusable_reason();
  EXPECT_TRUE(Contains(r.output, why.empty() ? "auto:     cuda" : "auto:     cpu: " + why));
  EXPECT_TRUE(Contains(r.output, cuda_built() ? "built:    CUDA " : "built:    CPU only"));
  EXPECT_FALSE(Contains(r.output, "problem:"));
}

TEST(InfoCli, UnusableDataExitsOneAndSaysWhy) {
  test::TempDir dir;
  const std::string missing = (dir.path() / "nowhere").string();
  CliResult r = run_cli("info --data '" + missing + "'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "data:     not usable: " + missing));
  EXPECT_TRUE(Contains(r.output, "dataset-fashion-mnist"));

  // A truncated image file: the loader's message names it.
  test::write_fashion_mnist_dir(dir.path().string(), test::separable_images(30, 1),
                                test::separable_images(20, 2));
  const std::string images = (dir.path() / "train-images-idx3-ubyte.gz").string();
  std::filesystem::resize_file(images, 40);
  r = run_cli("info --data '" + dir.path().string() + "'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "not usable"));
  EXPECT_TRUE(Contains(r.output, "train-images-idx3-ubyte.gz"));
}

TEST(InfoCli, DataDirectoryComesFromTheEnvironmentByDefault) {
  test::TempDir dir;
  test::write_fashion_mnist_dir(dir.path().string(), test::separable_images(10, 1),
                                test::separable_images(10, 2));
  const CliResult r = run_cli("info", "CUTRAIN_DATA='" + dir.path().string() + "'");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, dir.path().string() + ": 10 train + 10 test images"));
}

// Library problems stop training only where CUDA would be used; unreadable data always does.
TEST(InfoCli, ExitCodeRule) {
  using app::info_exit_code;
  EXPECT_EQ(info_exit_code(true, false, true), 0);
  EXPECT_EQ(info_exit_code(true, false, false), 0);
  EXPECT_EQ(info_exit_code(true, true, true), 1);
  EXPECT_EQ(info_exit_code(true, true, false), 0);  // a note: training runs on the CPU
  EXPECT_EQ(info_exit_code(false, false, false), 1);
  EXPECT_EQ(info_exit_code(false, false, true), 1);
  EXPECT_EQ(info_exit_code(false, true, false), 1);
}

TEST(InfoCli, UnknownFlagIsAUsageError) {
  const CliResult r = run_cli("info --bogus");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Contains(r.output, "--bogus"));
}

}  // namespace
}  // namespace cutrain
