// Robustness of the safetensors decoder: thousands of seeded mutations of a valid file must
// each decode or throw cutrain::DataError, never another exception, never a crash.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/io/safetensors.h"

namespace cutrain {
namespace {

std::string valid_file() {
  SafetensorsFile f;
  f.metadata = {{"format", "cutrain-checkpoint-1"}, {"epoch", "3"}, {"config", "{\"lr\":0.1}"}};
  f.tensors = {{"0.weight", {2, 3}, {1, 2, 3, 4, 5, 6}},
               {"0.bias", {2}, {-1, 1}},
               {"scale", {}, {0.5f}},
               {"none", {0, 4}, {}},
               {"optimizer.0.weight.m", {6}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}}};
  return encode_safetensors(f);
}

void write_le64(std::string& bytes, uint64_t v) {
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i)
    bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Replaces one run of digits inside the JSON header with a random number of 1 to 20 digits and
// fixes the length field, so the header stays JSON and reaches the shape and offset checks.
void rewrite_number(std::string& bytes, std::mt19937_64& rng) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  std::vector<size_t> starts;
  for (size_t i = 8; i < 8 + n; ++i)
    if (std::isdigit(static_cast<unsigned char>(bytes[i])) &&
        !std::isdigit(static_cast<unsigned char>(bytes[i - 1])))
      starts.push_back(i);
  if (starts.empty()) return;
  const size_t begin = starts[rng() % starts.size()];
  size_t end = begin;
  while (end < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[end]))) ++end;
  std::string digits = std::to_string(rng() % 10 + 1);
  for (uint64_t extra = rng() % 20; extra > 0; --extra) digits.push_back('0' + rng() % 10);
  bytes.replace(begin, end - begin, digits);
  write_le64(bytes, n + digits.size() - (end - begin));
}

enum class Kind { Flip, Truncate, Length, Number };

std::string mutate(const std::string& good, Kind kind, std::mt19937_64& rng) {
  std::string bytes = good;
  switch (kind) {
    case Kind::Flip:
      for (uint64_t k = 1 + rng() % 4; k > 0; --k)
        bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
      break;
    case Kind::Truncate:
      bytes.resize(rng() % bytes.size());
      break;
    case Kind::Length:
      // Sometimes near the real length (most likely to pass the first checks), sometimes any.
      write_le64(bytes, rng() % 2 ? rng() % (bytes.size() + 16) : rng() >> (rng() % 64));
      break;
    case Kind::Number:
      rewrite_number(bytes, rng);
      break;
  }
  return bytes;
}

TEST(SafetensorsFuzz, MutationsDecodeOrThrowDataError) {
  const std::string good = valid_file();
  ASSERT_EQ(decode_safetensors(good, "good").tensors.size(), 5u);
  std::mt19937_64 rng(20240611);
  const Kind kinds[] = {Kind::Flip, Kind::Truncate, Kind::Length, Kind::Number};
  int decoded = 0, rejected = 0, wrong = 0;
  std::ostringstream failures;
  for (int i = 0; i < 2000; ++i) {
    const Kind kind = kinds[i % 4];
    const std::string bytes = mutate(good, kind, rng);
    try {
      const SafetensorsFile f = decode_safetensors(bytes, "fuzz.safetensors");
      // What decodes must be self-consistent: each tensor holds exactly its shape's values.
      for (const NamedArray& t : f.tensors) {
        uint64_t n = 1;
        bool overflow = false;
        for (int64_t d : t.shape) {
          if (d < 0 || (d != 0 && n > UINT64_MAX / static_cast<uint64_t>(d))) overflow = true;
          n *= static_cast<uint64_t>(d);
        }
        if (overflow || n != t.values.size()) {
          if (++wrong <= 5)
            failures << "mutation " << i << ": tensor '" << t.name << "' decoded with shape "
                     << to_string(t.shape) << " and " << t.values.size() << " values\n";
        }
      }
      ++decoded;
    } catch (const DataError& e) {
      ++rejected;
      const std::string what = e.what();
      if (what.find("fuzz.safetensors") == std::string::npos && ++wrong <= 5)
        failures << "mutation " << i << ": message without the source: " << what << "\n";
    } catch (const std::exception& e) {
      if (++wrong <= 5)
        failures << "mutation " << i << " (kind " << static_cast<int>(kind)
                 << "): threw a non-DataError: " << e.what() << "\n";
    }
  }
  EXPECT_EQ(wrong, 0) << failures.str();
  EXPECT_GT(rejected, 1000) << decoded << " decoded";  // the mutations do damage
  EXPECT_GT(decoded, 0) << rejected << " rejected";    // and some are harmless
}

}  // namespace
}  // namespace cutrain
