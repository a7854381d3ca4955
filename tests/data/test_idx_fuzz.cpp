// Parser robustness: seeded mutations of valid IDX files (raw and gzip) and of a checkpoint
// must each load or fail with cutrain::DataError naming the file, never anything else, never a
// crash (the ASan/UBSan CI run executes these too).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cutrain/data/idx.h"
#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/train/checkpoint.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string mutate(const std::string& good, std::mt19937_64& rng) {
  std::string b = good;
  switch (rng() % 4) {
    case 0:  // flip a few bytes anywhere
      for (uint64_t k = 1 + rng() % 4; k > 0; --k)
        b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
      break;
    case 1:  // truncate
      b.resize(rng() % b.size());
      break;
    case 2:  // damage the first 16 bytes: magic, dimensions, or the gzip / length header
      for (uint64_t k = 1 + rng() % 3; k > 0; --k)
        b[rng() % std::min<size_t>(16, b.size())] = static_cast<char>(rng());
      break;
    default:  // append garbage
      for (uint64_t k = 1 + rng() % 32; k > 0; --k) b.push_back(static_cast<char>(rng()));
  }
  return b;
}

// The valid file every mutation starts from: [5, 7, 6] bytes.
std::vector<uint8_t> good_pixels() {
  std::vector<uint8_t> pixels(5 * 7 * 6);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37);
  return pixels;
}

// read_idx, and a loaded array must hold exactly what its dimensions say.
void read_idx_checked(const std::string& path) {
  const data::IdxArray a = data::read_idx(path);
  int64_t n = 1;
  for (int64_t d : a.dims) n *= d;
  if (static_cast<int64_t>(a.data.size()) != n) throw std::logic_error("size mismatch");
}

struct Tally {
  int loaded = 0, rejected = 0, wrong = 0;
  std::ostringstream failures;
  template <typename F>
  void run(const std::string& path, int i, F&& load) {
    try {
      load();
      ++loaded;
    } catch (const DataError& e) {
      ++rejected;
      if (std::string(e.what()).find(path) == std::string::npos && ++wrong <= 5)
        failures << "mutation " << i << ": message without the file: " << e.what() << "\n";
    } catch (const std::exception& e) {
      if (++wrong <= 5) failures << "mutation " << i << ": non-DataError: " << e.what() << "\n";
    }
  }
};

class IdxFuzz : public ::testing::TestWithParam<bool> {};

TEST_P(IdxFuzz, MutationsLoadOrThrowDataError) {
  const bool gzip = GetParam();
  const test::TempDir dir;
  const std::string good_path = dir.file(gzip ? "good.gz" : "good");
  const std::vector<uint8_t> pixels = good_pixels();
  data::write_idx(good_path, {5, 7, 6}, pixels, gzip);
  const std::string good = read_all(good_path);
  ASSERT_EQ(data::read_idx(good_path).data, pixels);

  std::mt19937_64 rng(gzip ? 7 : 11);
  Tally tally;
  const std::string path = dir.file(gzip ? "fuzz.gz" : "fuzz");
  for (int i = 0; i < 1500; ++i) {
    write_all(path, mutate(good, rng));
    tally.run(path, i, [&] { read_idx_checked(path); });
  }
  EXPECT_EQ(tally.wrong, 0) << tally.failures.str();
  EXPECT_GT(tally.rejected, 500) << tally.loaded << " loaded";
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxFuzz, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "gzip" : "raw"; });

// Mutating a .gz file mostly tests zlib (CRC and stream errors); here the IDX bytes are mutated
// before compression, so a valid gzip stream carries a damaged IDX header or body to the parser.
TEST(IdxGzipFuzz, DamagedIdxInsideAValidGzipStream) {
  const test::TempDir dir;
  const std::string raw_path = dir.file("good");
  const std::vector<uint8_t> pixels = good_pixels();
  data::write_idx(raw_path, {5, 7, 6}, pixels, false);
  const std::string good = read_all(raw_path);
  std::mt19937_64 rng(13);
  Tally tally;
  const std::string path = dir.file("fuzz.gz");
  for (int i = 0; i < 600; ++i) {
    const std::string bad = mutate(good, rng);
    test::write_gzip_file(path, std::vector<uint8_t>(bad.begin(), bad.end()));
    tally.run(path, i, [&] { read_idx_checked(path); });
  }
  EXPECT_EQ(tally.wrong, 0) << tally.failures.str();
  // Truncation, bad headers and trailing bytes are the IDX parser's to reject here.
  EXPECT_GT(tally.rejected, 300) << tally.loaded << " loaded";
}

TEST(CheckpointFuzz, MutationsLoadOrThrowDataErrorAndFailuresChangeNothing) {
  const test::TempDir dir;
  Context ctx(Device::CPU);
  Sequential net = make_model("lenet");
  net.build({1, 28, 28}, 2, Device::CPU, 1);
  auto opt = make_optimizer("momentum", net.parameters(), 0.1, ctx);
  const std::string good_path = dir.file("good.safetensors");
  save_checkpoint(good_path, {"lenet", 1, "{}"}, net, opt.get(), nullptr, ctx);
  const std::string good = read_all(good_path);

  Sequential target = make_model("lenet");
  target.build({1, 28, 28}, 2, Device::CPU, 2);
  auto target_opt = make_optimizer("momentum", target.parameters(), 0.1, ctx);
  std::mt19937_64 rng(5);
  Tally tally;
  const std::string path = dir.file("fuzz.safetensors");
  for (int i = 0; i < 400; ++i) {
    write_all(path, mutate(good, rng));
    const std::vector<float> before = target.parameters()[0].value->to_vector();
    const int rejected = tally.rejected;
    tally.run(path, i, [&] { load_checkpoint(path, target, target_opt.get(), nullptr, ctx); });
    if (tally.rejected > rejected && target.parameters()[0].value->to_vector() != before &&
        ++tally.wrong <= 5)
      tally.failures << "mutation " << i << ": a rejected checkpoint changed the model\n";
  }
  EXPECT_EQ(tally.wrong, 0) << tally.failures.str();
  EXPECT_GT(tally.rejected, 100) << tally.loaded << " loaded";
}

}  // namespace
}  // namespace cutrain
