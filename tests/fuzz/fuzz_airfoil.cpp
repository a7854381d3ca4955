// load_airfoil on arbitrary file contents (the first input byte picks how many rows the
// experiment needs, 1 to 8): loads, or throws DataError naming the file. Loaded data has the
// rows asked for, 5 features, and only finite values (every column was standardised).
#include <cmath>

#include "cutrain/error.h"
#include "cutrain/lab/airfoil.h"
#include "fuzz_target.h"

namespace cutrain::fuzz {

void write_fuzz_seeds(const std::filesystem::path& dir) {
  write_file(dir / "three_rows",
             "\x02"
             "800\t0\t0.3048\t71.3\t0.00266337\t126.201\n"
             "1000\t0\t0.3048\t71.3\t0.00266337\t125.201\r\n"
             "1250\t1.5\t0.2286\t39.6\t0.00310138\t125.951\n\n");
}

}  // namespace cutrain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cutrain;
  using namespace cutrain::fuzz;
  if (size == 0) return 0;
  const int64_t rows = 1 + data[0] % 8;
  const std::string path = scratch_path(".dat");
  write_file(path, data + 1, size - 1);
  lab::RegressionData d;
  if (!loads_or_rejects<DataError>(path, [&] { d = lab::load_airfoil(path, rows); })) return 0;
  check(d.count == rows && d.features == 5, "loaded another shape than asked for");
  check(d.x.size() == static_cast<size_t>(rows * 5) && d.y.size() == static_cast<size_t>(rows),
        "loaded arrays of the wrong size");
  for (float v : d.x) check(std::isfinite(v), "a non-finite feature");
  for (float v : d.y) check(std::isfinite(v), "a non-finite target");
  return 0;
}
