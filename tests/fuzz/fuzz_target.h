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

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace cutrain::fuzz {

/// Writes the target's seed inputs into `dir` (which exists).
void write_fuzz_seeds(const std::filesystem::path& dir);

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
    return false;
  } catch (const std::exception& e) {
    fail(std::string("unexpected ") + typeid(e).name() + ": " + e.what());
  }
}

/// A file of this process's own (parsers that take a path read it), rewritten for each input.
inline const std::string& scratch_path(const char* suffix) {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("cutrain-fuzz-" + std::to_string(::getpid()) + suffix))
                                      .string();
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
