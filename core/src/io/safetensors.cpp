#include "cutrain/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cutrain/error.h"
#include "cutrain/io/atomic_file.h"

namespace cutrain {
namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit

static_assert(sizeof(float) == 4, "F32");

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64_le(const std::string& in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  return v;
}

bool little_endian() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

[[noreturn]] void fail_at(const std::string& source, const std::string& what) {
  throw DataError(source + ": " + what);
}

}  // namespace

const NamedArray* SafetensorsFile::find(const std::string& name) const {
  for (const NamedArray& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string encode_safetensors(const SafetensorsFile& file) {
  if (!little_endian()) throw Error("safetensors: big-endian hosts are not supported");
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  uint64_t offset = 0;
  for (const NamedArray& t : file.tensors) {
    if (t.name == "__metadata__" || t.name.empty())
      throw ConfigError("safetensors: invalid tensor name '" + t.name + "'");
    if (header.contains(t.name)) throw ConfigError("safetensors: duplicate tensor " + t.name);
    if (static_cast<int64_t>(t.values.size()) != numel_of(t.shape))
      throw ConfigError("safetensors: tensor '" + t.name + "' has " +
                        std::to_string(t.values.size()) + " values for shape " +
                        to_string(t.shape));
    const uint64_t bytes = t.values.size() * sizeof(float);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + json.size() + offset);
  put_u64_le(out, json.size());
  out += json;
  for (const NamedArray& t : file.tensors)
    if (!t.values.empty())
      out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  return out;
}

SafetensorsFile decode_safetensors(const std::string& bytes, const std::string& source) {
  auto fail = [&source](const std::string& what) { fail_at(source, what); };
  if (bytes.size() < 8)
    fail("not a safetensors file: " + std::to_string(bytes.size()) +
         " bytes, shorter than the 8-byte header length");
  const uint64_t n = get_u64_le(bytes);
  if (n > kMaxHeader) fail("header length " + std::to_string(n) + " exceeds the 100 MiB limit");
  if (n > bytes.size() - 8)
    fail("truncated: header length " + std::to_string(n) + " but only " +
         std::to_string(bytes.size() - 8) + " bytes follow");
  const std::string text = bytes.substr(8, n);
  if (text.empty() || text[0] != '{') fail("header is not a JSON object");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail("header is not a JSON object");

  SafetensorsFile file;
  const uint64_t buffer = bytes.size() - 8 - n;
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail("__metadata__ value of '" + m.key() + "' is not a string");
        file.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets"))
      fail(where + " lacks dtype, shape or data_offsets");
    if (!v["dtype"].is_string() || v["dtype"] != "F32")
      fail(where + " has dtype " + v["dtype"].dump() + "; cutrain reads F32 only");
    NamedArray t;
    t.name = name;
    if (!v["shape"].is_array()) fail(where + ": shape is not an array");
    // A non-empty shape is bounded by what the buffer can hold, so its count cannot overflow;
    // an empty one (a zero anywhere) counts 0 whatever its other dimensions are.
    bool empty = false;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail(where + ": shape holds " + d.dump());
      const uint64_t dim = d.get<uint64_t>();
      if (dim > buffer / sizeof(float) + 1 && dim != 0)
        fail(where + ": dimension " + std::to_string(dim) + " is larger than the file");
      empty = empty || dim == 0;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t count = empty ? 0 : 1;
    for (int64_t dim : t.shape) {
      if (empty) break;
      if (count > buffer / sizeof(float) / static_cast<uint64_t>(dim) + 1)
        fail(where + ": shape " + to_string(t.shape) + " is larger than the file");
      count *= static_cast<uint64_t>(dim);
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      fail(where + ": data_offsets must be [begin, end]");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    const uint64_t expect = count * sizeof(float);
    if (end < begin || end > buffer)
      fail(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
           "] outside the " + std::to_string(buffer) + "-byte data buffer");
    if (end - begin != expect)
      fail(where + ": " + std::to_string(end - begin) + " bytes for shape " + to_string(t.shape) +
           " (expected " + std::to_string(expect) + ")");
    t.values.resize(expect / sizeof(float));
    if (expect > 0) std::memcpy(t.values.data(), bytes.data() + 8 + n + begin, expect);
    spans.push_back({begin, end, name});
    file.tensors.push_back(std::move(t));
  }
  // Tensors must tile the buffer exactly: sorted by offset, no overlap, no hole.
  std::vector<size_t> order(spans.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return spans[a].begin != spans[b].begin ? spans[a].begin < spans[b].begin
                                            : spans[a].end < spans[b].end;  // empty ones first
  });
  uint64_t cursor = 0;
  for (size_t i : order) {
    if (spans[i].begin < cursor) fail("tensor '" + spans[i].name + "' overlaps another tensor");
    if (spans[i].begin > cursor) fail("hole in the data buffer before tensor '" + spans[i].name + "'");
    cursor = spans[i].end;
  }
  if (cursor != buffer)
    fail(std::to_string(buffer - cursor) + " bytes after the last tensor are not indexed");
  std::vector<NamedArray> sorted;
  for (size_t i : order) sorted.push_back(std::move(file.tensors[i]));
  file.tensors = std::move(sorted);
  return file;
}

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
  write_file_atomically(path, encode_safetensors(file));
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open (missing or unreadable)");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw DataError(path + ": read failed");
  return decode_safetensors(buf.str(), path);
}

}  // namespace cutrain
