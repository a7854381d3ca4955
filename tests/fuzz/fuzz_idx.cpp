// read_idx on arbitrary file contents (raw or gzip): loads, or throws DataError naming the
// file. A loaded array has 1 to 4 positive dimensions whose product is its size.
#include <vector>

#include "cutrain/data/idx.h"
#include "cutrain/error.h"
#include "fuzz_target.h"

namespace cutrain::fuzz {

void write_fuzz_seeds(const std::filesystem::path& dir) {
  std::vector<uint8_t> pixels(5 * 7 * 6);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37);
  data::write_idx((dir / "images").string(), {5, 7, 6}, pixels, false);
  data::write_idx((dir / "images_gz").string(), {5, 7, 6}, pixels, true);
  data::write_idx((dir / "labels").string(), {6}, {0, 1, 2, 9, 4, 5}, false);
  data::write_idx((dir / "four_dims").string(), {1, 2, 1, 3}, {1, 2, 3, 4, 5, 6}, false);
}

}  // namespace cutrain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cutrain;
  using namespace cutrain::fuzz;
  const std::string path = scratch_path(".idx");
  write_file(path, data, size);
  data::IdxArray a;
  if (!loads_or_rejects<DataError>(path, [&] { a = data::read_idx(path); })) return 0;
  check(!a.dims.empty() && a.dims.size() <= 4, "loaded an array with 0 or > 4 dimensions");
  int64_t n = 1;
  for (int64_t d : a.dims) {
    check(d > 0, "loaded a dimension <= 0");
    n *= d;
  }
  check(static_cast<int64_t>(a.data.size()) == n, "loaded size != product of dimensions");
  return 0;
}
