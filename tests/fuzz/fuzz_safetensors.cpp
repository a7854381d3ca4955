// decode_safetensors on arbitrary bytes: decodes, or throws DataError naming the source. A
// decoded file holds exactly the values its shapes say, and encodes back to bytes that decode
// to the same metadata, names, shapes and values (bit for bit, NaN payloads included).
#include <cstring>

#include "cutrain/error.h"
#include "cutrain/io/safetensors.h"
#include "fuzz_target.h"

namespace cutrain::fuzz {
namespace {

constexpr const char* kSource = "fuzz.safetensors";

// The element count, independently of the library's: 0 with a zero anywhere; a product that
// overflows int64 is a shape the decoder should not have accepted.
int64_t numel(const Shape& shape) {
  for (int64_t d : shape)
    if (d == 0) return 0;
  int64_t n = 1;
  for (int64_t d : shape) check(!__builtin_mul_overflow(n, d, &n), "a shape beyond int64");
  return n;
}

bool same(const SafetensorsFile& a, const SafetensorsFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const NamedArray &x = a.tensors[i], &y = b.tensors[i];
    if (x.name != y.name || x.shape != y.shape || x.values.size() != y.values.size() ||
        (!x.values.empty() &&
         std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(float)) != 0))
      return false;
  }
  return true;
}

}  // namespace

void write_fuzz_seeds(const std::filesystem::path& dir) {
  SafetensorsFile f;
  f.metadata = {{"format", "cutrain-checkpoint-1"}, {"epoch", "3"}, {"config", "{\"lr\":0.1}"}};
  f.tensors = {{"0.weight", {2, 3}, {1, 2, 3, 4, 5, 6}},
               {"0.bias", {2}, {-1, 1}},
               {"scale", {}, {0.5f}},
               {"none", {0, 4}, {}}};
  write_file(dir / "checkpoint_like", encode_safetensors(f));
  write_file(dir / "empty", encode_safetensors(SafetensorsFile{}));
  SafetensorsFile one;
  one.tensors = {{"x", {1}, {-0.0f}}};
  write_file(dir / "one_tensor", encode_safetensors(one));
}

}  // namespace cutrain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cutrain;
  using namespace cutrain::fuzz;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  SafetensorsFile file;
  if (!loads_or_rejects<DataError>(kSource, [&] { file = decode_safetensors(bytes, kSource); }))
    return 0;
  for (const NamedArray& t : file.tensors) {
    for (int64_t d : t.shape) check(d >= 0, "tensor '" + t.name + "' has a negative dimension");
    check(static_cast<int64_t>(t.values.size()) == numel(t.shape),
          "tensor '" + t.name + "' holds another number of values than its shape");
  }
  SafetensorsFile again;
  const bool reloaded = loads_or_rejects<DataError>(
      "re-encoded", [&] { again = decode_safetensors(encode_safetensors(file), "re-encoded"); });
  check(reloaded, "a decoded file does not decode after encoding");
  check(same(file, again), "encode(decode(bytes)) decodes to something else");
  return 0;
}
