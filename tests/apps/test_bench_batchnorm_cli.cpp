// 'cutrain bench batchnorm' as a user runs it: the CPU run's report and --shape's validation.
// No timing is asserted (timings are not tests).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/cli.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::CliResult;
using test::Contains;
using test::run_cli;

// The numbers after `op` on the table line that starts with it (empty when there is none).
std::vector<double> row(const std::string& output, const std::string& op) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(op + " ", 0) != 0) continue;
    std::istringstream fields(line.substr(op.size()));
    std::vector<double> values;
    for (double v; fields >> v;) values.push_back(v);
    return values;
  }
  return {};
}

TEST(BenchBatchnormCli, CpuRunReportsEveryOpAndNoCudnn) {
  const CliResult r =
      run_cli("bench batchnorm --device cpu --shape 4,3,5,5 --iterations 2 --warmup 1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(
      Contains(r.output, "bench batchnorm: shape 4,3,5,5 (N,C,H,W), 300 values, device cpu"));
  EXPECT_TRUE(Contains(r.output, "median and min of 2 samples after 1 warm-up calls"));
  // CPU: bytes per value, then ours only: median us, min us, GB/s, ratio to the copy.
  for (const auto& [op, bytes] : {std::pair<const char*, double>{"forward train", 8.0},
                                  {"forward infer", 8.0},
                                  {"backward", 12.0}}) {
    const std::vector<double> v = row(r.output, op);
    ASSERT_EQ(v.size(), 5u) << op << "\n" << r.output;
    EXPECT_EQ(v[0], bytes) << op;
    EXPECT_LE(v[2], v[1]) << op << ": min above the median";
  }
  EXPECT_TRUE(Contains(r.output, "copy of x (read + write, 8 B/value):"));
  EXPECT_TRUE(Contains(r.output, "cuDNN: n/a on the CPU"));
  EXPECT_TRUE(Contains(r.output, "ours: cpu schedule (the CPU twins)"));
  EXPECT_FALSE(Contains(r.output, "ours/cuDNN"));
}

TEST(BenchBatchnormCli, CpuRunWithFusedRelu) {
  const CliResult r =
      run_cli("bench batchnorm --device cpu --shape 2,4,3,3 --iterations 1 --warmup 0 --relu");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "bench batchnorm + relu: shape 2,4,3,3"));
  EXPECT_TRUE(Contains(r.output, "cuDNN: n/a on the CPU"));
}

TEST(BenchBatchnormCli, MalformedShapesAreUsageErrorsNamingTheFlag) {
  for (const char* shape : {"4,3,5", "a,b,c,d", "0,3,5,5", "-1,3,5,5", "4,3,5,5,6", "4,3,5,",
                            "4,,5,5", "4,3,5,5x", "", "99999999999999999999,1,1,1"}) {
    const CliResult r = run_cli("bench batchnorm --device cpu --iterations 1 --warmup 0 --shape='" +
                                std::string(shape) + "'");
    EXPECT_EQ(r.code, 2) << shape << ": " << r.output;
    EXPECT_TRUE(Contains(r.output, "--shape")) << shape;
  }
}

TEST(BenchBatchnormCli, UnknownScheduleIsAUsageErrorNamingTheFlag) {
  for (const char* schedule : {"twopass", "", "STREAMED", "streamed,auto"}) {
    const CliResult r = run_cli(
        "bench batchnorm --device cpu --shape 2,2,2,2 --iterations 1 --warmup 0 --schedule='" +
        std::string(schedule) + "'");
    EXPECT_EQ(r.code, 2) << schedule << ": " << r.output;
    // The first line: the usage text after it lists every flag, --schedule included.
    const std::string first = r.output.substr(0, r.output.find('\n'));
    EXPECT_TRUE(Contains(first, "--schedule") && Contains(first, "two-pass"))
        << schedule << ": " << r.output;
  }
  // Every valid name runs (on the CPU it changes nothing).
  for (const char* schedule : {"auto", "two-pass", "streamed"}) {
    const CliResult r = run_cli(
        "bench batchnorm --device cpu --shape 2,2,2,2 --iterations 1 --warmup 0 --schedule " +
        std::string(schedule));
    EXPECT_EQ(r.code, 0) << schedule << ": " << r.output;
  }
}

TEST(BenchBatchnormCli, NegativeShapeAsSeparateArgumentIsAUsageError) {
  const CliResult r = run_cli("bench batchnorm --device cpu --shape -1,3,5,5");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "--shape"));
}

TEST(BenchBatchnormCli, ShapesTheKernelsCannotTrainOnAreUsageErrors) {
  // One value per channel (N*H*W = 1) has no variance to train with; more than 2^31 - 1
  // values overflow cuDNN's int strides.
  for (const char* shape : {"1,3,1,1", "65536,65536,1,1"}) {
    const CliResult r = run_cli("bench batchnorm --device cpu --iterations 1 --warmup 0 --shape " +
                                std::string(shape));
    EXPECT_EQ(r.code, 2) << shape << ": " << r.output;
    EXPECT_TRUE(Contains(r.output, "--shape " + std::string(shape))) << r.output;
  }
}

}  // namespace
}  // namespace cutrain
