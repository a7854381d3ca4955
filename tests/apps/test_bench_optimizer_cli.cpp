// 'cutrain bench optimizer' as a user runs it: the CPU run's report, the bytes each rule must
// move, and a run too large for the machine refused before anything is allocated. No timing is
// asserted (timings are not tests).
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "cutrain/bench/optimizer_bench.h"
#include "cutrain/memory_stats.h"
#include "support/cli.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::CliResult;
using test::Contains;
using test::run_cli;

// Each rule reads param, grad and its state and writes param and state, 4 bytes each.
TEST(BenchOptimizer, BytesPerParamCountEveryStateTensor) {
  for (const auto& [name, bytes] : {std::pair<const char*, double>{"sgd", 12},
                                    {"momentum", 20},
                                    {"nesterov", 20},
                                    {"adagrad", 20},
                                    {"rmsprop", 20},
                                    {"adadelta", 28},
                                    {"adam", 28},
                                    {"adamw", 28},
                                    {"yogi", 28}})
    EXPECT_EQ(optimizer_bytes_per_param(name), bytes) << name;
}

TEST(BenchOptimizerCli, CpuRunReportsTheSplitAndTheBytes) {
  const CliResult r = run_cli(
      "bench optimizer --device cpu --optimizer momentum --params 1001 --tensors 3 "
      "--iterations 3 --warmup 1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output,
                       "optimizer momentum  device cpu  params 1001 in 3 tensors  20 "
                       "B/param"))
      << r.output;
  EXPECT_TRUE(Contains(r.output, "of 3 samples; 2 kernel launch(es) per step on CUDA"));
  EXPECT_TRUE(Contains(r.output, "effective bandwidth"));
  EXPECT_FALSE(Contains(r.output, "L2 cache")) << "the cache note is for CUDA runs";
}

TEST(BenchOptimizerCli, LenetAndClippingCountTheirTensorsAndLaunches) {
  const CliResult r =
      run_cli("bench optimizer --device cpu --lenet --clip-norm 1 --iterations 2 --warmup 0");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "params 61706 in 10 tensors  28 B/param")) << r.output;
  EXPECT_TRUE(Contains(r.output, "4 kernel launch(es) per step")) << r.output;
}

// Linux overcommits: without the check the values (tens of GiB) would be allocated and filled
// for minutes before the optimizer's state ran the machine out of memory.
TEST(BenchOptimizerCli, MoreParametersThanTheMachineHoldsAreRefusedUpFront) {
  // Adam holds 16 B/param (values, grads, two moments) and its copy buffers 28 more: 44 B/param,
  // so 40 B/param already exceeds the limit.
  const int64_t params = host_memory_limit() / 40 + 1;
  if (params > 4'000'000'000) GTEST_SKIP() << "this machine holds more than --params accepts";
  const CliResult r = run_cli("bench optimizer --device cpu --optimizer adam --params " +
                              std::to_string(params) + " --tensors 7");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(
      Contains(r.output, "bench optimizer: " + std::to_string(params) + " parameters need "))
      << r.output;
  EXPECT_TRUE(Contains(r.output, "more than the ")) << r.output;
  EXPECT_TRUE(Contains(r.output, "lower --params")) << r.output;
  EXPECT_FALSE(Contains(r.output, "optimizer adam  device cpu")) << r.output;
}

}  // namespace
}  // namespace cutrain
