// CPU tensors: shapes, allocation, views, copies and moves; CUDA allocation without a device.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "cutrain/device.h"
#include "cutrain/error.h"
#include "cutrain/tensor.h"

namespace cutrain {
namespace {

// Seeded, never-zero values: 1..n scaled, so every element is distinct and non-zero.
std::vector<float> counting(int64_t n, float scale = 0.5f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = scale * static_cast<float>(i + 1);
  return v;
}

std::vector<float> random_values(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(0.25f, 4.0f);  // excludes 0
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

TEST(TensorShape, NumelBytesRankAndDims) {
  Tensor t({2, 3, 5}, Device::CPU);
  EXPECT_TRUE(t.defined());
  EXPECT_TRUE(t.owns_storage());
  EXPECT_EQ(t.device(), Device::CPU);
  EXPECT_FALSE(t.is_cuda());
  EXPECT_EQ(t.rank(), 3);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.dim(1), 3);
  EXPECT_EQ(t.dim(2), 5);
  EXPECT_EQ(t.numel(), 30);
  EXPECT_EQ(t.bytes(), 30u * sizeof(float));
  EXPECT_EQ(t.shape(), (Shape{2, 3, 5}));
  EXPECT_EQ(numel_of({4, 0, 7}), 0);
  EXPECT_EQ(numel_of({}), 1);
  EXPECT_EQ(to_string({2, 3, 5}), "[2, 3, 5]");
}

// Dimensions a file can claim (fuzzing the safetensors decoder): a zero after dimensions whose
// product overflows is still an empty shape, and an overflowing product is an error, not UB.
TEST(TensorShape, NumelNeverOverflows) {
  const Shape huge(7, 1000);
  Shape empty = huge;
  empty.push_back(0);
  EXPECT_EQ(numel_of(empty), 0);
  EXPECT_THROW(numel_of(huge), ConfigError);
  EXPECT_EQ(numel_of({int64_t{1} << 31, int64_t{1} << 29}), int64_t{1} << 60);
  EXPECT_THROW(numel_of({int64_t{1} << 32, int64_t{1} << 31}), ConfigError);
  // 2^62 elements count in int64, but their 2^64 bytes would wrap to a 0-byte allocation: the
  // largest shape is the one whose bytes still fit in int64.
  EXPECT_THROW(numel_of({int64_t{1} << 31, int64_t{1} << 31}), ConfigError);
  EXPECT_EQ(numel_of({(int64_t{1} << 61) - 1}), (int64_t{1} << 61) - 1);
  EXPECT_THROW(numel_of({int64_t{1} << 61}), ConfigError);
  EXPECT_THROW(Tensor({int64_t{1} << 62}, Device::CPU), ConfigError);
}

TEST(TensorShape, NegativeDimensionsAreRejected) {
  EXPECT_THROW(numel_of({3, -1}), ConfigError);
  EXPECT_THROW(Tensor({2, -4}, Device::CPU), ConfigError);
  EXPECT_THROW(Tensor::zeros({-1}, Device::CPU), ConfigError);
}

TEST(TensorStorage, OwnedStorageIs64ByteAligned) {
  for (int64_t n : {1, 3, 15, 16, 17, 1000}) {
    Tensor t({n}, Device::CPU);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u) << "numel " << n;
  }
}

TEST(TensorFill, ZerosAndFill) {
  Tensor t = Tensor::from_vector(counting(12), {3, 4}, Device::CPU);
  t.zero();
  EXPECT_EQ(t.to_vector(), std::vector<float>(12, 0.0f));
  t.fill(-2.5f);
  EXPECT_EQ(t.to_vector(), std::vector<float>(12, -2.5f));
  Tensor z = Tensor::zeros({5, 2}, Device::CPU);
  EXPECT_EQ(z.shape(), (Shape{5, 2}));
  EXPECT_EQ(z.to_vector(), std::vector<float>(10, 0.0f));
}

TEST(TensorFromVector, RoundTripsValues) {
  const std::vector<float> v = random_values(24, 7);
  Tensor t = Tensor::from_vector(v, {2, 3, 4}, Device::CPU);
  EXPECT_EQ(t.to_vector(), v);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(t.data()[i], v[i]);
}

TEST(TensorFromVector, SizeMismatchThrows) {
  EXPECT_THROW(Tensor::from_vector(counting(5), {2, 3}, Device::CPU), ConfigError);
  EXPECT_THROW(Tensor::from_vector(counting(7), {2, 3}, Device::CPU), ConfigError);
}

TEST(TensorView, SharesStorageWithNewShape) {
  Tensor t = Tensor::from_vector(counting(12), {3, 4}, Device::CPU);
  Tensor v = t.view({2, 2});
  EXPECT_FALSE(v.owns_storage());
  EXPECT_EQ(v.data(), t.data());
  EXPECT_EQ(v.shape(), (Shape{2, 2}));
  EXPECT_EQ(v.numel(), 4);
  EXPECT_EQ(v.to_vector(), (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
  v.data()[3] = 99.0f;  // writes through to the owner
  EXPECT_EQ(t.data()[3], 99.0f);
  Tensor flat = t.view({12});
  EXPECT_EQ(flat.to_vector(), t.to_vector());
  EXPECT_THROW(t.view({13}), ConfigError);
  EXPECT_THROW(t.view({4, 4}), ConfigError);
}

TEST(TensorView, NarrowBatch) {
  Tensor t = Tensor::from_vector(counting(24), {4, 2, 3}, Device::CPU);
  Tensor n = t.narrow_batch(3);
  EXPECT_EQ(n.shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(n.numel(), 18);
  EXPECT_EQ(n.data(), t.data());
  EXPECT_FALSE(n.owns_storage());
  const std::vector<float> all = t.to_vector();
  EXPECT_EQ(n.to_vector(), std::vector<float>(all.begin(), all.begin() + 18));
  EXPECT_EQ(t.narrow_batch(0).numel(), 0);
  EXPECT_EQ(t.narrow_batch(4).shape(), t.shape());
  EXPECT_THROW(t.narrow_batch(5), ConfigError);
  EXPECT_THROW(t.narrow_batch(-1), ConfigError);
  Tensor scalar({}, Device::CPU);
  EXPECT_THROW(scalar.narrow_batch(0), ConfigError);
}

TEST(TensorCopy, CopyFromSameNumelAnyShape) {
  const std::vector<float> v = random_values(6, 11);
  Tensor src = Tensor::from_vector(v, {2, 3}, Device::CPU);
  Tensor dst = Tensor::zeros({3, 2}, Device::CPU);
  dst.copy_from(src);
  EXPECT_EQ(dst.to_vector(), v);
  EXPECT_NE(dst.data(), src.data());
  Tensor wrong = Tensor::zeros({7}, Device::CPU);
  EXPECT_THROW(wrong.copy_from(src), ConfigError);
  EXPECT_EQ(wrong.to_vector(), std::vector<float>(7, 0.0f));  // untouched
}

TEST(TensorCopy, CopyFromHostRejectsTooMany) {
  Tensor t = Tensor::zeros({4}, Device::CPU);
  const std::vector<float> v = counting(5);
  t.copy_from_host(v.data(), 2);
  EXPECT_EQ(t.to_vector(), (std::vector<float>{0.5f, 1.0f, 0.0f, 0.0f}));
  EXPECT_THROW(t.copy_from_host(v.data(), 5), ConfigError);
}

TEST(TensorCopy, ToCpuMakesAnIndependentCopy) {
  const std::vector<float> v = random_values(10, 3);
  Tensor a = Tensor::from_vector(v, {2, 5}, Device::CPU);
  Tensor b = a.to(Device::CPU);
  EXPECT_TRUE(b.owns_storage());
  EXPECT_NE(b.data(), a.data());
  EXPECT_EQ(b.shape(), a.shape());
  EXPECT_EQ(b.to_vector(), v);
  a.fill(0.0f);
  EXPECT_EQ(b.to_vector(), v);  // b did not change with a
}

TEST(TensorMove, MoveLeavesSourceUndefined) {
  const std::vector<float> v = counting(6);
  Tensor a = Tensor::from_vector(v, {6}, Device::CPU);
  const float* p = a.data();
  Tensor b(std::move(a));
  EXPECT_FALSE(a.defined());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(a.numel(), 0);     // NOLINT(bugprone-use-after-move): an empty tensor, safe to use
  EXPECT_TRUE(a.shape().empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(a.to_vector().empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b.defined());
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.to_vector(), v);

  Tensor c;
  EXPECT_FALSE(c.defined());
  c = std::move(b);
  EXPECT_FALSE(b.defined());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.to_vector(), v);
}

TEST(TensorBorrow, WrapsCallerMemoryWithoutOwning) {
  std::vector<float> buf = counting(6);
  {
    Tensor t = Tensor::borrow(buf.data(), {2, 3}, Device::CPU);
    EXPECT_FALSE(t.owns_storage());
    EXPECT_EQ(t.data(), buf.data());
    t.fill(4.0f);
  }  // destruction must not free `buf`
  EXPECT_EQ(buf, std::vector<float>(6, 4.0f));
}

TEST(TensorCuda, AllocationWithoutUsableDeviceThrows) {
  if (cuda_unusable_reason().empty()) GTEST_SKIP() << "a usable CUDA device is present";
  EXPECT_THROW(Tensor({4}, Device::CUDA), DeviceError);
  EXPECT_THROW(Tensor::zeros({4}, Device::CUDA), DeviceError);
  Tensor cpu = Tensor::from_vector(counting(4), {4}, Device::CPU);
  EXPECT_THROW(cpu.to(Device::CUDA), DeviceError);
}

}  // namespace
}  // namespace cutrain
