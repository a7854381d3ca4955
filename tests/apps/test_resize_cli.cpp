// `cutrain train --resize` and `cutrain eval` of a resized run, on the CPU with a small
// generated data set: the model is built for the resized input, the book's learning rate is the
// default for the deeper networks, the memory lines are printed, and eval resizes like training.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "support/cli.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using CliRun = test::CliResult;

CliRun cutrain_cli(const std::string& args) { return test::run_cli(args); }

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(ResizeCli, TrainsResizedAndEvalResizesTheSameWay) {
  test::TempDir dir;
  const std::string data = dir.path().string();
  test::write_fashion_mnist_dir(data, test::separable_images(24, 1), test::separable_images(10, 2));
  const CliRun train = cutrain_cli(
      "train --device cpu --model resnet18 --resize 32 --epochs 1 "
      "--batch-size 8 --no-progress --data '" +
      data + "' --checkpoint-dir '" + dir.file("ck") + "'");
  ASSERT_EQ(train.code, 0) << train.output;
  EXPECT_TRUE(has(train.output, "input [1, 32, 32] (resized on the training device)"))
      << train.output;
  EXPECT_TRUE(has(train.output, "sgd lr 0.05")) << train.output;
  EXPECT_TRUE(has(train.output, "memory: ")) << train.output;
  EXPECT_TRUE(has(train.output, "at the peak of training")) << train.output;

  const CliRun eval = cutrain_cli("eval --device cpu --batch-size 4 --data '" + data +
                                  "' --checkpoint '" + dir.file("ck/last.safetensors") + "'");
  ASSERT_EQ(eval.code, 0) << eval.output;
  EXPECT_TRUE(has(eval.output, "model resnet18 after epoch 1")) << eval.output;
  EXPECT_TRUE(has(eval.output, "(10 examples")) << eval.output;
}

TEST(ResizeCli, LeNetsRefuseAResize) {
  test::TempDir dir;
  const std::string data = dir.path().string();
  test::write_fashion_mnist_dir(data, test::separable_images(8, 1), test::separable_images(8, 2));
  const CliRun r = cutrain_cli(
      "train --device cpu --model lenet --resize 32 --epochs 1 "
      "--no-progress --data '" +
      data + "'");
  EXPECT_EQ(r.code, 2) << r.output;  // a usage error, not a crash
  EXPECT_TRUE(has(r.output, "1x28x28")) << r.output;
}

}  // namespace
}  // namespace cutrain
