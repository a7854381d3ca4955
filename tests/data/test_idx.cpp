#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../support/temp_dir.h"
#include "cutrain/data/idx.h"
#include "cutrain/error.h"

namespace {

using cutrain::ConfigError;
using cutrain::data::IdxArray;
using cutrain::data::read_idx;
using cutrain::data::write_idx;
using cutrain::test::Contains;
using cutrain::test::data_error_message;
using cutrain::test::idx_bytes;
using cutrain::test::StartsWith;
using cutrain::test::TempDir;
using cutrain::test::write_file;
using cutrain::test::write_gzip_file;

std::vector<uint8_t> iota_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + 11);
  return v;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Reads `path`, expecting a DataError whose message starts with the path and contains `part`.
::testing::AssertionResult FailsWith(const std::string& path, const std::string& part) {
  const std::string msg = data_error_message([&] { read_idx(path); });
  if (auto r = StartsWith(msg, path); !r) return r;
  return Contains(msg, part);
}

TEST(Idx, RoundTripRaw) {
  TempDir dir;
  const std::string path = dir.file("a-idx3-ubyte");
  const std::vector<uint8_t> data = iota_bytes(3 * 2 * 4);
  write_idx(path, {3, 2, 4}, data, /*gzip=*/false);

  const std::vector<uint8_t> bytes = read_file(path);
  ASSERT_EQ(bytes.size(), 4u + 3 * 4 + data.size());
  EXPECT_EQ(bytes, idx_bytes({3, 2, 4}, data));

  const IdxArray a = read_idx(path);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 4}));
  EXPECT_EQ(a.data, data);
}

TEST(Idx, RoundTripGzip) {
  TempDir dir;
  const std::string path = dir.file("a-idx1-ubyte.gz");
  const std::vector<uint8_t> data = iota_bytes(1000);
  write_idx(path, {1000}, data, /*gzip=*/true);

  const std::vector<uint8_t> bytes = read_file(path);
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0x1f);
  EXPECT_EQ(bytes[1], 0x8b);

  const IdxArray a = read_idx(path);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{1000}));
  EXPECT_EQ(a.data, data);
}

TEST(Idx, RoundTripFourDimsAndLargeDim) {
  TempDir dir;
  const std::string path = dir.file("four");
  const std::vector<uint8_t> data = iota_bytes(2 * 1 * 3 * 70000);
  write_idx(path, {2, 1, 3, 70000}, data, /*gzip=*/true);
  const IdxArray a = read_idx(path);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 1, 3, 70000}));
  EXPECT_EQ(a.data, data);
}

TEST(Idx, GzipDetectedByMagicNotByName) {
  TempDir dir;
  const std::string path = dir.file("no-suffix");
  write_gzip_file(path, idx_bytes({5}, iota_bytes(5)));
  EXPECT_EQ(read_idx(path).data, iota_bytes(5));
}

TEST(Idx, ConcatenatedGzipMembersAreOneStream) {
  TempDir dir;
  const std::vector<uint8_t> all = idx_bytes({6}, iota_bytes(6));
  write_gzip_file(dir.file("p1"), {all.begin(), all.begin() + 7});
  write_gzip_file(dir.file("p2"), {all.begin() + 7, all.end()});
  std::vector<uint8_t> joined = read_file(dir.file("p1"));
  const std::vector<uint8_t> second = read_file(dir.file("p2"));
  joined.insert(joined.end(), second.begin(), second.end());
  write_file(dir.file("joined.gz"), joined);
  EXPECT_EQ(read_idx(dir.file("joined.gz")).data, iota_bytes(6));
}

TEST(Idx, BadMagic) {
  TempDir dir;
  const std::string path = dir.file("bad");
  write_file(path, {0x01, 0x02, 0x08, 0x01, 0, 0, 0, 1, 7});
  EXPECT_TRUE(FailsWith(path, "bad magic 01 02 08 01"));
  EXPECT_TRUE(FailsWith(path, "expected an IDX file starting with bytes 00 00 08"));
}

TEST(Idx, WrongTypeByte) {
  TempDir dir;
  const std::string path = dir.file("floats");
  write_file(path, idx_bytes({1}, {0, 0, 0, 0}, /*type=*/0x0D));
  EXPECT_TRUE(FailsWith(path, "unsupported IDX element type 0x0d: expected 0x08"));
}

TEST(Idx, ZeroOrTooManyDimensions) {
  TempDir dir;
  write_file(dir.file("zero"), idx_bytes({}, {1, 2}));
  EXPECT_TRUE(FailsWith(dir.file("zero"), "unsupported number of dimensions 0: expected 1..4"));
  write_file(dir.file("five"), idx_bytes({1, 1, 1, 1, 1}, {1}));
  EXPECT_TRUE(FailsWith(dir.file("five"), "unsupported number of dimensions 5"));
}

TEST(Idx, DimensionOfSizeZero) {
  TempDir dir;
  write_file(dir.file("z"), idx_bytes({3, 0}, {}));
  EXPECT_TRUE(FailsWith(dir.file("z"), "dimension 1 of 2 is 0: expected every dimension > 0"));
}

TEST(Idx, TooLarge) {
  TempDir dir;
  write_file(dir.file("huge"), idx_bytes({65536, 65536}, {1, 2, 3}));
  EXPECT_TRUE(FailsWith(dir.file("huge"), "2^31 bytes or more"));
  write_file(dir.file("huge4"), idx_bytes({~0u, ~0u, ~0u, ~0u}, {}));
  EXPECT_TRUE(FailsWith(dir.file("huge4"), "2^31 bytes or more"));
}

TEST(Idx, TruncatedHeader) {
  TempDir dir;
  write_file(dir.file("h"), {0, 0, 8});
  EXPECT_TRUE(FailsWith(dir.file("h"), "truncated header: expected 4 magic bytes, found 3"));
  write_file(dir.file("d"), {0, 0, 8, 3, 0, 0, 0, 1, 0, 0});
  EXPECT_TRUE(FailsWith(dir.file("d"), "truncated header: expected 12 bytes for 3 dimensions"));
}

TEST(Idx, TruncatedPayloadRaw) {
  TempDir dir;
  const std::string path = dir.file("train-labels-idx1-ubyte");
  write_file(path, idx_bytes({10}, iota_bytes(7)));
  EXPECT_TRUE(FailsWith(path, "truncated: expected 10 data bytes (10) after the header, found 7"));
}

TEST(Idx, TruncatedPayloadGzip) {
  TempDir dir;
  const std::string path = dir.file("train-images-idx3-ubyte.gz");
  write_gzip_file(path, idx_bytes({2, 3, 3}, iota_bytes(17)));
  EXPECT_TRUE(FailsWith(path, "truncated: expected 18 data bytes (2 x 3 x 3)"));
  EXPECT_TRUE(FailsWith(path, "found 17"));
}

TEST(Idx, TrailingBytes) {
  TempDir dir;
  write_file(dir.file("raw"), idx_bytes({4}, iota_bytes(7)));
  EXPECT_TRUE(FailsWith(dir.file("raw"), "3 unexpected trailing bytes after the 4 data bytes"));
  write_gzip_file(dir.file("gz.gz"), idx_bytes({4}, iota_bytes(5)));
  EXPECT_TRUE(FailsWith(dir.file("gz.gz"), "1 unexpected trailing bytes"));
}

TEST(Idx, GzNameButNotGzip) {
  TempDir dir;
  const std::string path = dir.file("labels.gz");
  write_file(path, idx_bytes({2}, {1, 2}));
  EXPECT_TRUE(FailsWith(path, "is not a gzip file"));
  EXPECT_TRUE(FailsWith(path, "gzip magic bytes 1f 8b"));
}

TEST(Idx, CorruptGzipStream) {
  TempDir dir;
  const std::string path = dir.file("corrupt.gz");
  // A valid 10-byte gzip header (deflate, no flags, OS unix), then garbage: 0xff starts a
  // deflate block of the reserved type 3, which zlib reports as "invalid block type".
  std::vector<uint8_t> bytes = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03};
  bytes.insert(bytes.end(), 32, 0xff);
  write_file(path, bytes);
  EXPECT_TRUE(FailsWith(path, "corrupt gzip stream (zlib: invalid block type)"));
}

TEST(Idx, GzipChecksumMismatch) {
  TempDir dir;
  const std::string path = dir.file("crc.gz");
  write_gzip_file(path, idx_bytes({100}, iota_bytes(100)));
  std::vector<uint8_t> bytes = read_file(path);
  bytes[bytes.size() - 8] ^= 0xff;  // first byte of the CRC-32 trailer
  write_file(path, bytes);
  EXPECT_TRUE(FailsWith(path, "corrupt gzip stream (zlib: incorrect data check)"));
}

TEST(Idx, TruncatedGzipStream) {
  TempDir dir;
  const std::string path = dir.file("cut.gz");
  write_gzip_file(path, idx_bytes({5000}, iota_bytes(5000)));
  std::vector<uint8_t> bytes = read_file(path);
  bytes.resize(bytes.size() / 2);
  write_file(path, bytes);
  EXPECT_TRUE(FailsWith(path, "truncated gzip stream (zlib: unexpected end of file)"));
}

TEST(Idx, GarbageAfterGzipStream) {
  TempDir dir;
  const std::string path = dir.file("tail.gz");
  write_gzip_file(path, idx_bytes({3}, {1, 2, 3}));
  std::vector<uint8_t> bytes = read_file(path);
  bytes.insert(bytes.end(), {'j', 'u', 'n', 'k'});
  write_file(path, bytes);
  EXPECT_TRUE(FailsWith(path, "unexpected data after the end of the gzip stream"));
}

TEST(Idx, EmptyFile) {
  TempDir dir;
  write_file(dir.file("empty"), {});
  EXPECT_TRUE(FailsWith(dir.file("empty"), "file is empty"));
  write_gzip_file(dir.file("empty.gz"), {});
  EXPECT_TRUE(FailsWith(dir.file("empty.gz"), "no data after decompression"));
}

TEST(Idx, MissingFileOrDirectory) {
  TempDir dir;
  EXPECT_TRUE(FailsWith(dir.file("absent.gz"), "cannot open IDX file: No such file or directory"));
  EXPECT_TRUE(FailsWith(dir.path().string(), "Is a directory"));
}

TEST(Idx, WriteRejectsInconsistentDims) {
  TempDir dir;
  const std::string path = dir.file("w");
  EXPECT_THROW(write_idx(path, {}, {}, false), ConfigError);
  EXPECT_THROW(write_idx(path, {2, 0}, {}, false), ConfigError);
  EXPECT_THROW(write_idx(path, {1, 1, 1, 1, 1}, {1}, false), ConfigError);
  EXPECT_THROW(write_idx(path, {3}, {1, 2}, true), ConfigError);
  EXPECT_THROW(write_idx(path, {int64_t{1} << 32}, {1}, false), ConfigError);
}

TEST(Idx, WriteToMissingDirectoryIsDataError) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/x");
  for (bool gzip : {false, true}) {
    const std::string msg = data_error_message([&] { write_idx(path, {1}, {1}, gzip); });
    EXPECT_TRUE(StartsWith(msg, path));
    EXPECT_TRUE(Contains(msg, "cannot create file"));
  }
}

}  // namespace
