#include "cutrain/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cutrain/error.h"

namespace cutrain {
namespace {

std::string reason(int err) { return std::string(" (") + std::strerror(err) + ")"; }

// Best effort: makes the rename itself durable. The new file is complete either way, so a
// directory that cannot be opened or synced (some network file systems) is not an error.
void sync_directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw DataError(path + ": cannot create " + tmp + " for writing" + reason(errno));
  int err = 0;
  for (size_t done = 0; done < contents.size() && err == 0;) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n >= 0)
      done += static_cast<size_t>(n);
    else if (errno != EINTR)
      err = errno;
  }
  // Data on disk before the rename publishes it: else a crash can leave an empty file in place
  // of the old one.
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw DataError(path + ": writing " + tmp + " failed" + reason(err) +
                    "; the previous file is unchanged");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    throw DataError(path + ": cannot rename " + tmp + " into place" + reason(err) +
                    "; the previous file is unchanged");
  }
  sync_directory_of(path);
}

}  // namespace cutrain
