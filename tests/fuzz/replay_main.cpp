// The fuzz targets without libFuzzer: writes the target's seeds into a temporary directory and
// runs each of them, then every file under the directories given as arguments (a corpus, or
// tests/fuzz/regressions/<target>). A broken contract aborts (see fuzz_target.h), and so does a
// seed that is rejected (or, named "reject_*", accepted); a clean run
// prints how many inputs it ran and exits 0. `--write-seeds DIR` only writes the seeds into DIR
// (scripts/fuzz.sh starts each fuzzer's corpus from them).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_under(const fs::path& root) {
  std::vector<fs::path> files;
  if (fs::is_regular_file(root)) return {root};
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Runs one input; returns how many rejections it caused.
int run(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::cerr << "  " << file.filename().string() << " (" << bytes.size() << " bytes)\n";
  cutrain::fuzz::rejections() = 0;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return cutrain::fuzz::rejections();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--write-seeds") {
    fs::create_directories(argv[2]);
    cutrain::fuzz::write_fuzz_seeds(argv[2]);
    return 0;
  }
  std::random_device rd;
  const fs::path seeds = fs::temp_directory_path() / ("cutrain-fuzz-seeds-" + std::to_string(rd()));
  fs::create_directories(seeds);
  size_t count = 0;
  try {
    cutrain::fuzz::write_fuzz_seeds(seeds);
    std::cerr << "seeds:\n";
    for (const fs::path& f : files_under(seeds)) {
      // A valid input refused is as much a defect as an invalid one accepted.
      const bool expect_rejection = f.filename().string().rfind("reject_", 0) == 0;
      if ((run(f) > 0) != expect_rejection)
        cutrain::fuzz::fail("seed " + f.filename().string() +
                            (expect_rejection ? " was not rejected" : " was rejected"));
      ++count;
    }
    for (int i = 1; i < argc; ++i) {
      if (!fs::exists(argv[i])) continue;  // a target without regressions yet
      std::cerr << argv[i] << ":\n";
      for (const fs::path& f : files_under(argv[i])) run(f), ++count;
    }
  } catch (const std::exception& e) {
    std::cerr << "replay failed: " << e.what() << "\n";
    fs::remove_all(seeds);
    return 1;
  }
  fs::remove_all(seeds);
  std::cout << count << " inputs replayed, every contract held\n";
  return count > 0 ? 0 : 1;
}
