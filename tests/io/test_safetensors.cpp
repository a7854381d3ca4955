// The safetensors codec: the exact bytes it writes, and every way a damaged file is rejected
// with a DataError that names the file, the problem and the tensor.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/io/safetensors.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::Contains;
using test::data_error_message;

constexpr const char* kSource = "model.safetensors";

std::string le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// The little-endian bytes of `values`, built by shifts (independent of the host's order).
std::string float_bytes(const std::vector<float>& values) {
  std::string out;
  for (float f : values) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  return out;
}

// A hand-made file: length field, the JSON as given (no padding), then `data`.
std::string frame(const std::string& json, const std::string& data) {
  return le64(json.size()) + json + data;
}

std::string decode_error(const std::string& bytes) {
  return data_error_message([&] { decode_safetensors(bytes, kSource); });
}

SafetensorsFile sample_file() {
  SafetensorsFile f;
  f.metadata = {{"format", "test"}, {"note", "a b \"c\""}};
  f.tensors = {{"w", {2, 3}, {1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-30f}},
               {"scalar", {}, {42.5f}},
               {"b", {4}, {0.5f, 0.25f, -8.0f, 3.0e38f}},
               {"empty", {0}, {}}};
  return f;
}

void expect_same_tensors(const SafetensorsFile& got, const SafetensorsFile& want) {
  ASSERT_EQ(got.tensors.size(), want.tensors.size());
  for (size_t i = 0; i < want.tensors.size(); ++i) {
    EXPECT_EQ(got.tensors[i].name, want.tensors[i].name) << "position " << i;
    EXPECT_EQ(got.tensors[i].shape, want.tensors[i].shape) << want.tensors[i].name;
    EXPECT_EQ(float_bytes(got.tensors[i].values), float_bytes(want.tensors[i].values))
        << want.tensors[i].name;
  }
}

TEST(Safetensors, RoundTripKeepsMetadataShapesAndValues) {
  const SafetensorsFile f = sample_file();
  const SafetensorsFile back = decode_safetensors(encode_safetensors(f), kSource);
  EXPECT_EQ(back.metadata, f.metadata);
  expect_same_tensors(back, f);  // in data-offset order, which is the written order
  ASSERT_NE(back.find("scalar"), nullptr);
  EXPECT_EQ(back.find("scalar")->shape, Shape{});
  EXPECT_EQ(back.find("scalar")->values, std::vector<float>{42.5f});
  ASSERT_NE(back.find("empty"), nullptr);
  EXPECT_TRUE(back.find("empty")->values.empty());
  EXPECT_EQ(back.find("missing"), nullptr);
}

TEST(Safetensors, EmptyTensorSharingAnOffsetIsNotAnOverlap) {
  // "z" is [24, 24) and "a" is [24, 40): they share a begin but do not overlap. The reference
  // implementation orders spans by (begin, end), so this file is valid.
  SafetensorsFile f;
  f.tensors = {{"w", {6}, {1, 2, 3, 4, 5, 6}}, {"z", {0}, {}}, {"a", {2, 2}, {7, 8, 9, 10}}};
  SafetensorsFile back;
  ASSERT_NO_THROW(back = decode_safetensors(encode_safetensors(f), kSource));
  expect_same_tensors(back, f);
}

TEST(Safetensors, EncodedBytesFollowTheFormat) {
  const SafetensorsFile f = sample_file();
  const std::string bytes = encode_safetensors(f);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ(bytes.substr(0, 8), le64(n));
  EXPECT_EQ(n % 8, 0u) << "header length " << n;
  ASSERT_LE(8 + n, bytes.size());
  const std::string header = bytes.substr(8, n);
  const size_t last = header.find_last_not_of(' ');
  ASSERT_NE(last, std::string::npos);
  EXPECT_LT(header.size() - (last + 1), 8u) << "more padding than needed";
  EXPECT_EQ(header[last], '}');
  const nlohmann::json j = nlohmann::json::parse(header);  // throws (fails) when not JSON
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), f.tensors.size() + 1);
  EXPECT_EQ(j.at("__metadata__"), nlohmann::json(f.metadata));
  const struct {
    const char* name;
    std::vector<int64_t> shape;
    std::vector<uint64_t> offsets;
  } expected[] = {{"w", {2, 3}, {0, 24}},
                  {"scalar", {}, {24, 28}},
                  {"b", {4}, {28, 44}},
                  {"empty", {0}, {44, 44}}};
  for (const auto& e : expected) {
    SCOPED_TRACE(e.name);
    ASSERT_TRUE(j.contains(e.name));
    const nlohmann::json& t = j.at(e.name);
    EXPECT_EQ(t.size(), 3u) << t.dump();
    EXPECT_EQ(t.at("dtype"), "F32");
    EXPECT_TRUE(t.at("shape").is_array());
    EXPECT_EQ(t.at("shape").get<std::vector<int64_t>>(), e.shape);
    EXPECT_EQ(t.at("data_offsets").get<std::vector<uint64_t>>(), e.offsets);
  }
  std::string data;
  for (const NamedArray& t : f.tensors) data += float_bytes(t.values);
  EXPECT_EQ(data.size(), 44u);
  EXPECT_EQ(bytes.substr(8 + n), data);
}

TEST(Safetensors, NoMetadataMeansNoMetadataEntry) {
  SafetensorsFile f;
  f.tensors = {{"x", {1}, {1.0f}}};
  const std::string bytes = encode_safetensors(f);
  const nlohmann::json j = nlohmann::json::parse(bytes.substr(8, bytes.size() - 12));
  EXPECT_FALSE(j.contains("__metadata__"));
  EXPECT_TRUE(decode_safetensors(bytes, kSource).metadata.empty());
}

TEST(Safetensors, ShortOrOversizedHeadersAreRejected) {
  std::string msg = decode_error("abc");
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "3 bytes"));
  EXPECT_TRUE(Contains(decode_error(""), kSource));

  msg = decode_error(le64(100) + "{\"a\":1}");  // says 100 bytes of JSON, 7 follow
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "truncated"));
  EXPECT_TRUE(Contains(msg, "100"));

  msg = decode_error(le64(uint64_t{200} << 20) + "{}      ");
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "100 MiB"));
  msg = decode_error(le64(~uint64_t{0}) + "{}      ");
  EXPECT_TRUE(Contains(msg, "100 MiB"));
}

TEST(Safetensors, HeaderThatIsNotAJsonObjectIsRejected) {
  std::string msg = decode_error(frame("{not json at all}", ""));
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "not valid JSON"));
  msg = decode_error(frame("[1]", ""));
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "not a JSON object"));
  EXPECT_TRUE(Contains(decode_error(frame("\"text\"", "")), "not a JSON object"));
  EXPECT_TRUE(Contains(decode_error(frame("", "")), "not a JSON object"));
}

TEST(Safetensors, BadTensorEntriesNameTheTensor) {
  const std::string four = float_bytes({1.0f});
  const struct {
    std::string json, data, problem;
  } cases[] = {
      {R"({"t":{"shape":[1],"data_offsets":[0,4]}})", four, "lacks dtype"},
      {R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", four, "\"F16\""},
      {R"({"t":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", four, "dtype 7"},
      {R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four, "shape holds -1"},
      {R"({"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", four, "shape holds 1.5"},
      {R"({"t":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", four, "shape is not"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", four, "[begin, end]"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", four, "[begin, end]"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four, "outside the 4-byte"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", four, "outside"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four, "expected 8"},
      {R"({"t":{"dtype":"F32","shape":[],"data_offsets":[0,0]}})", four, "expected 4"},
      {R"({"t":[1,2]})", four, "lacks dtype"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const std::string msg = decode_error(frame(c.json, c.data));
    EXPECT_TRUE(Contains(msg, kSource));
    EXPECT_TRUE(Contains(msg, "tensor 't'"));
    EXPECT_TRUE(Contains(msg, c.problem));
  }
}

// Found by review of the fuzz target: the element count multiplied the dimensions in order, so
// [1000 x 7, 0] overflowed int64 before reaching the zero. (Each dimension may be as large as
// the data buffer allows, so the file holds 1000 floats in another tensor.)
TEST(Safetensors, EmptyTensorWithLargeDimensionsDecodes) {
  const std::string buffer = float_bytes(std::vector<float>(1000, 0.5f));
  const std::string empty_shape = "[1000,1000,1000,1000,1000,1000,1000,0]";
  const SafetensorsFile f =
      decode_safetensors(frame(R"({"a":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]},)"
                               R"("t":{"dtype":"F32","shape":)" +
                                   empty_shape + R"(,"data_offsets":[4000,4000]}})",
                               buffer),
                         kSource);
  ASSERT_EQ(f.tensors.size(), 2u);
  const NamedArray* t = f.find("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape.size(), 8u);
  EXPECT_TRUE(t->values.empty());
  // Claiming bytes for it is an error, not an overflow.
  const std::string msg =
      decode_error(frame(R"({"a":{"dtype":"F32","shape":[999],"data_offsets":[0,3996]},)"
                         R"("t":{"dtype":"F32","shape":)" +
                             empty_shape + R"(,"data_offsets":[3996,4000]}})",
                         buffer));
  EXPECT_TRUE(Contains(msg, "tensor 't'") && Contains(msg, "expected 0")) << msg;
}

TEST(Safetensors, TensorsMustTileTheBuffer) {
  const std::string twelve = float_bytes({1, 2, 3});
  std::string msg = decode_error(frame(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                       twelve));
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "tensor 'b' overlaps"));

  msg = decode_error(frame(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                           R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                           twelve));
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "hole"));
  EXPECT_TRUE(Contains(msg, "'b'"));

  msg = decode_error(
      frame(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", float_bytes({1, 2})));
  EXPECT_TRUE(Contains(msg, "hole"));  // nothing indexes the first 4 bytes

  msg = decode_error(
      frame(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", float_bytes({1, 2})));
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "4 bytes after the last tensor"));

  msg = decode_error(frame("{}", "xy"));  // no tensors, yet data
  EXPECT_TRUE(Contains(msg, "2 bytes after the last tensor"));
}

TEST(Safetensors, MetadataValuesMustBeStrings) {
  std::string msg = decode_error(frame(R"({"__metadata__":{"ok":"1","k":1}})", ""));
  EXPECT_TRUE(Contains(msg, kSource));
  EXPECT_TRUE(Contains(msg, "'k'"));
  EXPECT_TRUE(Contains(msg, "not a string"));
  msg = decode_error(frame(R"({"__metadata__":["a"]})", ""));
  EXPECT_TRUE(Contains(msg, "__metadata__ is not an object"));
  // A valid hand-made file with metadata and no tensors decodes.
  const SafetensorsFile f = decode_safetensors(frame(R"({"__metadata__":{"k":"v"}})", ""), "x");
  EXPECT_EQ(f.metadata.at("k"), "v");
  EXPECT_TRUE(f.tensors.empty());
}

TEST(Safetensors, HostileShapeNumbersAreDataErrors) {
  // A dimension beyond int64 and dimensions whose product overflows: neither may be accepted
  // with a value count that disagrees with the shape, nor escape as another exception type.
  const struct {
    const char* json;
    size_t data_bytes;
  } cases[] = {
      {R"({"t":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})", 4},
      {R"({"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", 0},
      {R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,0]}})", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    try {
      const SafetensorsFile f =
          decode_safetensors(frame(c.json, std::string(c.data_bytes, '\0')), kSource);
      ASSERT_EQ(f.tensors.size(), 1u);
      ADD_FAILURE() << "accepted shape " << to_string(f.tensors[0].shape) << " with "
                    << f.tensors[0].values.size() << " values";
    } catch (const DataError& e) {
      EXPECT_TRUE(Contains(e.what(), kSource));
      EXPECT_TRUE(Contains(e.what(), "'t'"));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw a non-DataError: " << e.what();
    }
  }
}

TEST(Safetensors, FilesAreReadAndWritten) {
  const test::TempDir dir;
  const std::string path = dir.file("a.safetensors");
  write_safetensors(path, sample_file());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const SafetensorsFile back = read_safetensors(path);
  EXPECT_EQ(back.metadata, sample_file().metadata);
  expect_same_tensors(back, sample_file());
  // A damaged file's errors name its path.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 2);
  EXPECT_TRUE(Contains(data_error_message([&] { read_safetensors(path); }), path));
}

TEST(Safetensors, MissingFileIsADataErrorNamingThePath) {
  const test::TempDir dir;
  const std::string path = dir.file("nope.safetensors");
  EXPECT_TRUE(Contains(data_error_message([&] { read_safetensors(path); }), path));
}

TEST(Safetensors, WritingIntoAMissingDirectoryLeavesNothing) {
  const test::TempDir dir;
  const std::string path = dir.file("missing/x.safetensors");
  EXPECT_TRUE(Contains(data_error_message([&] { write_safetensors(path, sample_file()); }), path));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace cutrain
