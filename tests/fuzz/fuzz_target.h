// What every parser fuzz target shares. A target is one LLVMFuzzerTestOneInput over one parser
// (built with -fsanitize=fuzzer when CUTRAIN_FUZZ=ON, see scripts/fuzz.sh) plus
// write_fuzz_seeds(), which writes valid inputs for the fuzzer to start from. In the ordinary
// build the same file links replay_main.cpp instead, and ctest replays the seeds and
// tests/fuzz/regressions/<target>/ through it, so every input a fuzzer once found stays tested.
//
// The contract checked: a parser returns, or throws the cutrain error its header documents,
// with a message naming the file. Anything else (another exception, a crash, a sanitizer
// report, a broken post-condition) aborts, which is how libFuzzer and the replay see a failure.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace cutrain::fuzz {

/// Writes the target's seed inputs into `dir` (which exists). Seeds are valid inputs: the
/// replay fails if one is rejected anywhere, unless its file name starts with "reject_".
void write_fuzz_seeds(const std::filesystem::path& dir);

/// Rejections seen since the replay last reset it (every clean rejection counts one).
inline int& rejections() {
  static int count = 0;
  return count;
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz contract broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

/// Runs `parse`; an exception of type Allowed whose message contains `name` is a clean
/// rejection (returns false), a return is a load (returns true), anything else fails.
template <typename Allowed, typename F>
bool loads_or_rejects(const std::string& name, F&& parse) {
  try {
    parse();
    return true;
  } catch (const Allowed& e) {
    check(std::string(e.what()).find(name) != std::string::npos,
          std::string("rejection without '") + name + "': " + e.what());
    ++rejections();
    if (std::getenv("CUTRAIN_FUZZ_VERBOSE")) std::fprintf(stderr, "    rejected: %s\n", e.what());
    return false;
  } catch (const std::exception& e) {
    fail(std::string("unexpected ") + typeid(e).name() + ": " + e.what());
  }
}

/// Files made by scratch_path, removed when the process exits.
inline std::vector<std::string>& scratch_files() {
  static std::vector<std::string> files;
  return files;
}

inline void remove_scratch_files() {
  for (const std::string& f : scratch_files()) std::remove(f.c_str());
}

/// A file of this process's own for one suffix (parsers that take a path read it; some choose
/// the format by the suffix), rewritten for each input and removed at exit.
inline std::string scratch_path(const std::string& suffix) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("cutrain-fuzz-" + std::to_string(::getpid()) + suffix))
                               .string();
  std::vector<std::string>& files = scratch_files();
  if (files.empty()) std::atexit(remove_scratch_files);
  if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
  return path;
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  check(static_cast<bool>(out), "cannot write " + path);
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  write_file(path.string(), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace cutrain::fuzz
