// Test helpers: a self-deleting temporary directory and writers for hand-made (possibly
// malformed) raw and gzip files.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cutrain/error.h"

namespace cutrain::test {

/// The names in `dir`, sorted (what a write left behind).
inline std::vector<std::string> directory_entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// @brief Creates a fresh, uniquely named directory under the system temp dir; removes it
/// and everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto candidate = base / ("cutrain-test-" + std::to_string(rd()) + std::to_string(rd()));
      // create_directory returns false if it already existed, so the name is ours alone.
      if (std::filesystem::create_directory(candidate)) {
        path_ = candidate;
        return;
      }
    }
    throw std::runtime_error("TempDir: cannot create a unique directory under " + base.string());
  }
  ~TempDir() {
    std::error_code ec;  // never throw from a destructor; a leftover dir is harmless
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Path of `name` inside the directory, as a string.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// @brief Writes `bytes` verbatim to `path`.
inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("write_file: cannot write " + path);
}

/// @brief The contents of `path`, byte for byte ("" when it cannot be read).
inline std::string file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// @brief Writes `bytes` gzip-compressed to `path`.
inline void write_gzip_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  if (!gz) throw std::runtime_error("write_gzip_file: cannot create " + path);
  const int wrote =
      bytes.empty() ? 0 : gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  if (gzclose(gz) != Z_OK || wrote != static_cast<int>(bytes.size())) {
    throw std::runtime_error("write_gzip_file: cannot write " + path);
  }
}

/// @brief Builds IDX bytes: magic 00 00 `type` dims.size(), big-endian dims, then `payload`.
/// The header is not checked against the payload, so malformed files can be made.
inline std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims,
                                      const std::vector<uint8_t>& payload, uint8_t type = 0x08) {
  std::vector<uint8_t> out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

/// @brief Succeeds when `text` contains `part`; the failure shows both.
inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

/// @brief Succeeds when `text` starts with `prefix`.
inline ::testing::AssertionResult StartsWith(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not start with \"" << prefix << "\"";
}

/// @brief Runs `f`, which must throw an `E` (called `name` in the failure), and returns its
/// message (records a test failure and returns "" if it returns normally).
template <class E, class F>
std::string thrown_message(F&& f, const char* name) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a " << name << ", but nothing was thrown";
  return {};
}

/// @brief Runs `f`, which must throw cutrain::DataError, and returns its message.
template <class F>
std::string data_error_message(F&& f) {
  return thrown_message<::cutrain::DataError>(std::forward<F>(f), "cutrain::DataError");
}

/// @brief Runs `f`, which must throw cutrain::ConfigError, and returns its message.
template <class F>
std::string config_error_message(F&& f) {
  return thrown_message<::cutrain::ConfigError>(std::forward<F>(f), "cutrain::ConfigError");
}

}  // namespace cutrain::test
