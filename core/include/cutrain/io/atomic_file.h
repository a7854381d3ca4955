// Whole-file writes that never leave a half-written file behind: checkpoints, plots, reports.
#pragma once

#include <string>

namespace cutrain {

/// @brief Writes `contents` to `path` through `path + ".tmp"` in the same directory: write,
/// fsync, rename over `path`, fsync the directory. A reader (or a crash, or a power cut) sees
/// either the old file or the new one, never a mix; on any failure the old file is untouched,
/// the temporary file is removed and a DataError names `path`, the step that failed and why.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace cutrain
