// Reader and writer for the IDX file format used by MNIST and Fashion-MNIST
// (http://yann.lecun.com/exdb/mnist/): a 4-byte magic (0, 0, element type, number of
// dimensions), one big-endian uint32 per dimension, then the elements in row-major order.
// Only the unsigned-byte element type (0x08) is supported, which is all these data sets use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cutrain::data {

/// @brief Contents of an unsigned-byte IDX file: its dimensions and row-major payload.
struct IdxArray {
  std::vector<int64_t> dims;  ///< 1 to 4 dimensions, each > 0.
  std::vector<uint8_t> data;  ///< Product of dims bytes.
};

/// @brief Reads an unsigned-byte IDX file, gzip-compressed or raw.
///
/// Compression is detected from the gzip magic bytes (1f 8b), not the file name; a file named
/// "*.gz" without them is rejected. The header, the payload size and the absence of trailing
/// bytes are all checked.
/// @throws cutrain::DataError whose message starts with `path` and says what was wrong.
IdxArray read_idx(const std::string& path);

/// @brief Writes `data` as an unsigned-byte IDX file with dimensions `dims`, gzip-compressed
/// when `gzip` is true.
/// @throws cutrain::ConfigError if dims are not 1 to 4 values in 1..2^32-1 whose product is
/// data.size(); cutrain::DataError (message starting with `path`) if the file cannot be written.
void write_idx(const std::string& path, const std::vector<int64_t>& dims,
               const std::vector<uint8_t>& data, bool gzip);

}  // namespace cutrain::data
