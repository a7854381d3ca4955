// The limit on CPU tensor memory (memory_stats.h: host_memory_limit) and the allocator's check.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "cutrain/error.h"
#include "cutrain/memory_stats.h"
#include "cutrain/tensor.h"
#include "support/cli.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

// Linux overcommits, so without the check a tensor larger than the machine would be allocated
// and the process killed when its pages are touched. The message names the sizes.
TEST(HostMemory, AllocationsBeyondTheLimitAreRefused) {
  EXPECT_NO_THROW(detail::check_host_allocation(kGiB, kGiB, 2 * kGiB));
  EXPECT_NO_THROW(detail::check_host_allocation(0, 0, 0));
  try {
    detail::check_host_allocation(3 * kGiB, kGiB / 2, 3 * kGiB);
    ADD_FAILURE() << "half a GiB more than the limit was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("512.0 MiB on top of the 3.00 GiB"), std::string::npos) << m;
    EXPECT_NE(m.find("exceed the 3.00 GiB"), std::string::npos) << m;
  }
  // Already over (reserved by other threads meanwhile): refused, no overflow in the check.
  EXPECT_THROW(detail::check_host_allocation(INT64_MAX, 1, kGiB), Error);
  EXPECT_THROW(detail::check_host_allocation(0, INT64_MAX, INT64_MAX - 1), Error);
}

// The allocator applies it before allocating, whatever the kernel's overcommit policy would
// have done, and a refused tensor leaves the count as it was.
TEST(HostMemory, TheAllocatorRefusesATensorLargerThanTheLimit) {
  const int64_t limit = host_memory_limit();
  ASSERT_GT(limit, 64 << 20);
  if (limit / 4 + 1 > (int64_t{1} << 60)) GTEST_SKIP() << "no memory limit could be read";
  const int64_t before = tensor_memory(Device::CPU).current_bytes;
  try {
    Tensor t({limit / 4 + 1}, Device::CPU);
    ADD_FAILURE() << "a tensor larger than the " << limit << "-byte limit was allocated";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("they may use"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tensor_memory(Device::CPU).current_bytes, before);
  detail::reserve_host_tensor_memory(1000);  // a reservation counts until it is freed
  EXPECT_EQ(tensor_memory(Device::CPU).current_bytes, before + 1000);
  detail::note_tensor_free(Device::CPU, 1000);
  EXPECT_EQ(tensor_memory(Device::CPU).current_bytes, before);
}

TEST(HostMemory, ByteSizesTakeBinarySuffixes) {
  EXPECT_EQ(detail::parse_byte_size("1048576"), 1048576);
  EXPECT_EQ(detail::parse_byte_size("512M"), 512 << 20);
  EXPECT_EQ(detail::parse_byte_size("8G"), 8 * kGiB);
  EXPECT_EQ(detail::parse_byte_size("8g"), 8 * kGiB);
  EXPECT_EQ(detail::parse_byte_size("3k"), 3072);
  EXPECT_EQ(detail::parse_byte_size("2T"), 2048 * kGiB);
  EXPECT_EQ(detail::parse_byte_size("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "0", "0G", "-1", "1.5G", "G", "8GB", "8 G", " 8", "8e9",
                          "9223372036854775808", "8388608T", "abc", "0x10"})
    EXPECT_EQ(detail::parse_byte_size(bad), -1) << "'" << bad << "'";
}

void write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// A limit on the process's group or on any ancestor counts; "max" and v1's "no limit" do not.
TEST(HostMemory, CgroupLimitsAreTheLowestOnThePathToTheRoot) {
  const test::TempDir dir;
  const std::filesystem::path root = dir.path();
  write(root / "memory.max", "max\n");
  write(root / "user.slice/memory.max", "4294967296\n");
  write(root / "user.slice/session-1.scope/memory.max", "max\n");
  EXPECT_EQ(detail::cgroup_memory_limit("0::/user.slice/session-1.scope\n", root.string()),
            4 * kGiB);
  write(root / "user.slice/session-1.scope/memory.max", "1073741824\n");
  EXPECT_EQ(detail::cgroup_memory_limit("0::/user.slice/session-1.scope\n", root.string()), kGiB);
  // Inside a cgroup namespace the process's group is "/", the root's file is the container's.
  write(root / "memory.max", "2147483648\n");
  EXPECT_EQ(detail::cgroup_memory_limit("0::/\n", root.string()), 2 * kGiB);

  // v1: the memory controller's line, under root/memory; page-rounded INT64_MAX is no limit.
  write(root / "memory/memory.limit_in_bytes", "9223372036854771712\n");
  write(root / "memory/docker/abc/memory.limit_in_bytes", "3221225472\n");
  EXPECT_EQ(detail::cgroup_memory_limit("12:pids:/docker/abc\n5:cpuset,memory:/docker/abc\n",
                                        (root / "nowhere").string()),
            -1);
  EXPECT_EQ(detail::cgroup_memory_limit("12:pids:/x\n5:cpuset,memory:/docker/abc\n", root.string()),
            3 * kGiB);
  EXPECT_EQ(detail::cgroup_memory_limit("5:memory:/docker\n", root.string()), -1);

  // Nothing readable or nothing that names memory: no limit. Paths that climb out are ignored.
  EXPECT_EQ(detail::cgroup_memory_limit("", root.string()), -1);
  EXPECT_EQ(detail::cgroup_memory_limit("3:cpu:/user.slice\ngarbage\n", root.string()), -1);
  EXPECT_EQ(detail::cgroup_memory_limit("0::relative\n", root.string()), -1);
  EXPECT_EQ(detail::cgroup_memory_limit("0::/user.slice/..\n", root.string()), -1);
}

// The variable replaces the machine's figure: a run that would not fit is refused at its
// first allocation that crosses it, and a value that is not a size is a usage error naming it.
TEST(HostMemory, TheEnvironmentVariableSetsTheLimit) {
  test::CliResult r = test::run_cli("info", "CUTRAIN_HOST_MEMORY_LIMIT=3G");
  EXPECT_TRUE(test::Contains(r.output, "3.0 GiB of memory for tensors (CUTRAIN_HOST_MEMORY_LIMIT)"))
      << r.output;
  r = test::run_cli("time --device cpu --model lenet --batch-size 4096 --iterations 1",
                    "CUTRAIN_HOST_MEMORY_LIMIT=64M");  // conv1's output alone is 77 MB
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(test::Contains(r.output, "cutrain: error: out of host memory: a CPU tensor of"))
      << r.output;
  EXPECT_TRUE(test::Contains(r.output, "exceed the 64.0 MiB")) << r.output;
  r = test::run_cli("info", "CUTRAIN_HOST_MEMORY_LIMIT=lots");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(test::Contains(r.output, "problem:  CUTRAIN_HOST_MEMORY_LIMIT: expected a size"))
      << r.output;
  r = test::run_cli("info", "CUTRAIN_HOST_MEMORY_LIMIT=");  // empty: unset
  EXPECT_FALSE(test::Contains(r.output, "(CUTRAIN_HOST_MEMORY_LIMIT)")) << r.output;
  r = test::run_cli("time --device cpu --model lenet --batch-size 8 --iterations 1",
                    "CUTRAIN_HOST_MEMORY_LIMIT=lots");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(test::Contains(r.output, "CUTRAIN_HOST_MEMORY_LIMIT: expected a size in bytes"))
      << r.output;
  EXPECT_TRUE(test::Contains(r.output, "got 'lots'")) << r.output;
}

}  // namespace
}  // namespace cutrain
