// The safetensors format (as written by Hugging Face's `safetensors`): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {string: string}}, then the tensor bytes, contiguous, little-endian, with
// offsets relative to the end of the header. cutrain reads and writes F32 tensors.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cutrain/tensor.h"

namespace cutrain {

struct NamedArray {
  std::string name;
  Shape shape;
  std::vector<float> values;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<NamedArray> tensors;  ///< in data-offset order
  const NamedArray* find(const std::string& name) const;
};

/// Serialises to bytes; the header is padded with spaces to a multiple of 8 bytes.
std::string encode_safetensors(const SafetensorsFile& file);
/// Parses bytes; `source` names the file in errors. Validates the header length, the JSON,
/// dtypes, shapes, and that offsets lie in the buffer, match the shapes, do not overlap and
/// leave no gap. Throws DataError "<source>: ... tensor '<name>' ...".
SafetensorsFile decode_safetensors(const std::string& bytes, const std::string& source);

/// Writes through a temporary file and a rename: an interrupted write never replaces a good
/// file. Throws DataError naming the path.
void write_safetensors(const std::string& path, const SafetensorsFile& file);
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace cutrain
