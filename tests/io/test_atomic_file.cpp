// write_file_atomically: the one way cutrain writes checkpoints, plots and reports. Each way a
// write can fail (the temporary file cannot be created, the data cannot be written, the rename
// fails) must leave the previous file byte for byte and no temporary file behind.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/io/atomic_file.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

namespace fs = std::filesystem;
using test::Contains;
using test::file_contents;

const std::string kOld = "old contents, longer than the new ones\n";

TEST(AtomicFile, ReplacesAnExistingFileByRename) {
  const test::TempDir dir;
  const std::string path = dir.file("out.txt");
  write_file_atomically(path, kOld);
  EXPECT_EQ(file_contents(path), kOld);
  // A reader that opened the old file keeps seeing it whole: the new file replaced it by a
  // rename instead of being truncated and rewritten in place.
  std::ifstream reader(path, std::ios::binary);
  ASSERT_TRUE(reader.good());
  write_file_atomically(path, "new\n");
  EXPECT_EQ(file_contents(path), "new\n");
  std::ostringstream seen;
  seen << reader.rdbuf();
  EXPECT_EQ(seen.str(), kOld);
  EXPECT_EQ(test::directory_entries(dir.path()), std::vector<std::string>{"out.txt"});
  write_file_atomically(path, "");
  EXPECT_EQ(file_contents(path), "");
  EXPECT_EQ(test::directory_entries(dir.path()), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, MissingDirectoryNamesThePath) {
  const test::TempDir dir;
  const std::string path = dir.file("no/such/dir/out.txt");
  const std::string msg = test::data_error_message([&] { write_file_atomically(path, "x"); });
  EXPECT_TRUE(Contains(msg, path + ": cannot create"));
  EXPECT_TRUE(Contains(msg, "No such file or directory"));
  EXPECT_TRUE(test::directory_entries(dir.path()).empty());
}

TEST(AtomicFile, TemporaryFileThatCannotBeCreatedLeavesTheOldFile) {
  const test::TempDir dir;
  const std::string path = dir.file("out.txt");
  write_file_atomically(path, kOld);
  fs::create_directory(path + ".tmp");  // where the temporary file would go
  const std::string msg = test::data_error_message([&] { write_file_atomically(path, "new"); });
  EXPECT_TRUE(Contains(msg, path + ": cannot create " + path + ".tmp"));
  EXPECT_EQ(file_contents(path), kOld);
  EXPECT_TRUE(fs::is_directory(path + ".tmp")) << "someone else's directory must survive";
}

TEST(AtomicFile, FailedRenameLeavesNoTemporaryFile) {
  const test::TempDir dir;
  const std::string path = dir.file("taken");
  fs::create_directories(path + "/inside");  // a non-empty directory: rename cannot replace it
  const std::string msg = test::data_error_message([&] { write_file_atomically(path, "new"); });
  EXPECT_TRUE(Contains(msg, path + ": cannot rename"));
  EXPECT_TRUE(Contains(msg, "previous file is unchanged"));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(fs::is_directory(path + "/inside"));
}

// A write that fails part way (disk full, quota): simulated with a file-size limit, under which
// write() returns EFBIG once the limit is reached (SIGXFSZ ignored).
TEST(AtomicFile, WriteFailingPartWayLeavesTheOldFile) {
  const test::TempDir dir;
  const std::string path = dir.file("out.txt");
  write_file_atomically(path, kOld);
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  if (old_limit.rlim_cur != RLIM_INFINITY && old_limit.rlim_cur < 1 << 20)
    GTEST_SKIP() << "file size already limited to " << old_limit.rlim_cur;
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string msg;
  try {
    write_file_atomically(path, std::string(100000, 'x'));
  } catch (const DataError& e) {
    msg = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(Contains(msg, path + ": writing " + path + ".tmp failed")) << msg;
  EXPECT_TRUE(Contains(msg, "previous file is unchanged")) << msg;
  EXPECT_EQ(file_contents(path), kOld);
  EXPECT_EQ(test::directory_entries(dir.path()), std::vector<std::string>{"out.txt"});
}

}  // namespace
}  // namespace cutrain
