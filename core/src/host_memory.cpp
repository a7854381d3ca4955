// How much memory CPU tensors may take (memory_stats.h: host_memory_limit), and the check the
// CPU allocator applies against it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "cutrain/error.h"
#include "cutrain/memory_stats.h"

namespace cutrain {
namespace {

// A cgroup limit file's value; absent, "max" (v2) and v1's "no limit" (a page-rounded
// INT64_MAX) read as none (-1).
int64_t limit_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return -1;
  const int64_t v = detail::parse_byte_size(text);
  return v > 0 && v < (int64_t{1} << 62) ? v : -1;
}

// "3.00 GiB", or "64.0 MiB" below a GiB.
std::string size_text(int64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= (1 << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1 << 30));
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1 << 20));
  return buf;
}

int64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : INT64_MAX;
}

}  // namespace

int64_t host_memory_limit() {
  // A throw (a bad CUTRAIN_HOST_MEMORY_LIMIT) leaves the static uninitialised: every allocation
  // then reports it.
  static const int64_t limit = [] {
    if (const char* env = std::getenv("CUTRAIN_HOST_MEMORY_LIMIT"); env != nullptr && *env) {
      const int64_t v = detail::parse_byte_size(env);
      if (v <= 0)
        throw ConfigError(std::string("CUTRAIN_HOST_MEMORY_LIMIT: expected a size in bytes, ") +
                          "or with K, M, G or T (powers of 1024), e.g. 8G; got '" + env + "'");
      return v;
    }
    std::ifstream in("/proc/self/cgroup");
    std::stringstream text;
    text << in.rdbuf();
    const int64_t cgroup = detail::cgroup_memory_limit(text.str(), "/sys/fs/cgroup");
    const int64_t physical = physical_memory();
    return cgroup > 0 ? std::min(cgroup, physical) : physical;
  }();
  return limit;
}

namespace detail {

int64_t parse_byte_size(const std::string& text) {
  if (text.empty() || text.size() > 24) return -1;
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return -1;
  int shift = 0;
  if (digits + 1 == text.size()) {
    switch (text[digits]) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      default:
        return -1;
    }
  } else if (digits != text.size()) {
    return -1;
  }
  int64_t v = 0;
  for (size_t i = 0; i < digits; ++i)
    if (__builtin_mul_overflow(v, int64_t{10}, &v) ||
        __builtin_add_overflow(v, int64_t{text[i] - '0'}, &v))
      return -1;
  if (v == 0 || v > (INT64_MAX >> shift)) return -1;
  return v << shift;
}

int64_t cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& root) {
  // Each line is "id:controllers:path". v2 has one line "0::/path" and memory.max in every
  // group; v1 has a line whose controllers include "memory", under root/memory. Outside a cgroup
  // namespace the path is the process's group below the root, so a limit set on it or on any
  // ancestor (systemd's MemoryMax on a slice) counts; inside one it is "/", the container's.
  int64_t lowest = -1;
  std::istringstream lines(proc_self_cgroup);
  for (std::string line; std::getline(lines, line);) {
    const size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1), base, file;
    if (id == "0" && controllers.empty()) {
      base = root, file = "memory.max";
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      base = root + "/memory", file = "memory.limit_in_bytes";
    } else {
      continue;
    }
    if (path.empty() || path[0] != '/' || path.find("/..") != std::string::npos) continue;
    while (true) {  // the group, then each ancestor up to the root
      const int64_t v = limit_file(base + (path == "/" ? "" : path) + "/" + file);
      if (v > 0) lowest = lowest < 0 ? v : std::min(lowest, v);
      if (path == "/") break;
      const size_t slash = path.rfind('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
  }
  return lowest;
}

void check_host_allocation(int64_t in_use, int64_t bytes, int64_t limit) {
  in_use = std::max<int64_t>(in_use, 0);  // never negative unless a count is already wrong
  if (bytes <= limit - std::min(in_use, limit)) return;
  throw Error("out of host memory: a CPU tensor of " + size_text(bytes) + " on top of the " +
              size_text(in_use) + " CPU tensors hold already would exceed the " + size_text(limit) +
              " they may use (physical memory, the cgroup's limit or "
              "CUTRAIN_HOST_MEMORY_LIMIT); try a smaller batch or model");
}

}  // namespace detail
}  // namespace cutrain
