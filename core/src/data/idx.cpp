#include "cutrain/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "cutrain/error.h"

namespace cutrain::data {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr int kMaxDims = 4;
constexpr int64_t kMaxPayloadBytes = int64_t{1} << 31;  // exclusive; larger is surely corrupt
constexpr size_t kChunkBytes = size_t{1} << 20;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what);
}

std::string errno_text() { return std::strerror(errno); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string hex_bytes(const uint8_t* p, size_t n) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, i ? " %02x" : "%02x", p[i]);
    out += buf;
  }
  return out;
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::ostringstream s;
  for (size_t i = 0; i < dims.size(); ++i) s << (i ? " x " : "") << dims[i];
  return s.str();
}

// A sequential byte stream over a raw or gzip file, so the parser is the same for both and
// never needs the whole compressed file in memory.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to n bytes; returns fewer only at the end of the data.
  virtual size_t read(uint8_t* dst, size_t n) = 0;
};

class RawSource : public ByteSource {
 public:
  RawSource(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  size_t read(uint8_t* dst, size_t n) override {
    const size_t got = std::fread(dst, 1, n, f_);
    if (got < n && std::ferror(f_)) fail(path_, "read error: " + errno_text());
    return got;
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

// Inflates gzip members with zlib directly rather than gzread(), which silently accepts
// trailing garbage after the last member and reports truncation only through gzerror().
class GzipSource : public ByteSource {
 public:
  GzipSource(std::FILE* f, const std::string& path) : f_(f), path_(path), in_(kChunkBytes) {
    // 16 + MAX_WBITS: expect a gzip wrapper (not zlib or raw deflate).
    if (inflateInit2(&strm_, 16 + MAX_WBITS) != Z_OK) fail(path_, "cannot initialise zlib");
  }
  ~GzipSource() override { inflateEnd(&strm_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  size_t read(uint8_t* dst, size_t n) override {
    strm_.next_out = dst;
    strm_.avail_out = static_cast<uInt>(n);  // callers read at most kChunkBytes at a time
    while (strm_.avail_out > 0 && !done_) {
      if (strm_.avail_in == 0 && !refill()) {
        fail(path_,
             "truncated gzip stream (zlib: unexpected end of file); expected the "
             "compressed data to end with a gzip trailer (was the download cut short?)");
      }
      const int ret = inflate(&strm_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        next_member();
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        fail(path_, std::string("corrupt gzip stream (zlib: ") +
                        (strm_.msg ? strm_.msg : zError(ret)) + ")");
      }
    }
    return n - strm_.avail_out;
  }

 private:
  bool refill() {
    const size_t got = std::fread(in_.data(), 1, in_.size(), f_);
    if (got == 0 && std::ferror(f_)) fail(path_, "read error: " + errno_text());
    strm_.next_in = in_.data();
    strm_.avail_in = static_cast<uInt>(got);
    return got > 0;
  }

  // After one member ends, either the file ends or another member follows (as `cat a.gz b.gz`
  // produces); anything else is garbage.
  void next_member() {
    if (strm_.avail_in == 0 && !refill()) {
      done_ = true;
      return;
    }
    if (strm_.next_in[0] != 0x1f) {
      fail(path_,
           "unexpected data after the end of the gzip stream (expected end of file or "
           "another gzip member)");
    }
    inflateReset(&strm_);
  }

  std::FILE* f_;
  const std::string& path_;
  std::vector<uint8_t> in_;
  z_stream strm_{};
  bool done_ = false;
};

// Reads until n bytes or the end of the data; returns the number read.
size_t read_fully(ByteSource& src, uint8_t* dst, size_t n) {
  size_t total = 0;
  while (total < n) {
    const size_t got = src.read(dst + total, std::min(n - total, kChunkBytes));
    if (got == 0) break;
    total += got;
  }
  return total;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) fail(path, "cannot open IDX file: " + errno_text());

  uint8_t sniff[2] = {0, 0};
  const size_t sniffed = std::fread(sniff, 1, 2, file.get());
  if (std::ferror(file.get())) fail(path, "read error: " + errno_text());
  if (sniffed == 0) fail(path, "file is empty; expected an IDX file (magic 00 00 08 0N)");
  const bool gzip = sniffed == 2 && sniff[0] == 0x1f && sniff[1] == 0x8b;
  if (!gzip && ends_with(path, ".gz")) {
    fail(path,
         "is not a gzip file: the name ends in .gz but the file does not start with the "
         "gzip magic bytes 1f 8b");
  }
  std::rewind(file.get());

  std::unique_ptr<ByteSource> src;
  if (gzip) {
    src = std::make_unique<GzipSource>(file.get(), path);
  } else {
    src = std::make_unique<RawSource>(file.get(), path);
  }

  uint8_t magic[4];
  const size_t got_magic = read_fully(*src, magic, 4);
  if (got_magic == 0) fail(path, "no data after decompression; expected an IDX header");
  if (got_magic < 4) {
    fail(path, "truncated header: expected 4 magic bytes, found " + std::to_string(got_magic));
  }
  if (magic[0] != 0 || magic[1] != 0) {
    fail(path, "bad magic " + hex_bytes(magic, 4) +
                   ": expected an IDX file starting with bytes 00 00 08 0N (N = 1..4)");
  }
  if (magic[2] != kUnsignedByteType) {
    fail(path, "unsupported IDX element type 0x" + hex_bytes(magic + 2, 1) +
                   ": expected 0x08 (unsigned byte)");
  }
  const int ndims = magic[3];
  if (ndims < 1 || ndims > kMaxDims) {
    fail(path, "unsupported number of dimensions " + std::to_string(ndims) + ": expected 1..4");
  }

  uint8_t dim_bytes[4 * kMaxDims];
  const size_t want_dim_bytes = 4 * static_cast<size_t>(ndims);
  const size_t got_dim_bytes = read_fully(*src, dim_bytes, want_dim_bytes);
  if (got_dim_bytes < want_dim_bytes) {
    fail(path, "truncated header: expected " + std::to_string(want_dim_bytes) + " bytes for " +
                   std::to_string(ndims) + " dimensions, found " + std::to_string(got_dim_bytes));
  }

  IdxArray out;
  int64_t total = 1;
  for (int i = 0; i < ndims; ++i) {
    const uint8_t* p = dim_bytes + 4 * i;
    const int64_t dim = (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | p[3];
    if (dim == 0) {
      fail(path, "dimension " + std::to_string(i) + " of " + std::to_string(ndims) +
                     " is 0: expected every dimension > 0");
    }
    out.dims.push_back(dim);
    // Check before multiplying so four 32-bit dims cannot overflow int64.
    if (total > (kMaxPayloadBytes - 1) / dim) {
      fail(path, "dimensions " + dims_text(out.dims) +
                     "... describe 2^31 bytes or more; "
                     "expected a smaller array (is the header corrupt?)");
    }
    total *= dim;
  }

  // Grow in chunks instead of resizing to `total` up front, so a corrupt header on a tiny
  // file cannot make us allocate gigabytes before noticing the truncation.
  const size_t want = static_cast<size_t>(total);
  while (out.data.size() < want) {
    const size_t old = out.data.size();
    const size_t chunk = std::min(want - old, kChunkBytes);
    out.data.resize(old + chunk);
    const size_t got = read_fully(*src, out.data.data() + old, chunk);
    out.data.resize(old + got);
    if (got < chunk) break;
  }
  if (out.data.size() < want) {
    fail(path, "truncated: expected " + std::to_string(want) + " data bytes (" +
                   dims_text(out.dims) + ") after the header, found " +
                   std::to_string(out.data.size()));
  }

  // Reading to the end also makes zlib verify the gzip CRC and length trailer.
  uint8_t scratch[4096];
  size_t trailing = 0;
  for (size_t got; (got = src->read(scratch, sizeof scratch)) > 0;) trailing += got;
  if (trailing > 0) {
    fail(path, std::to_string(trailing) + " unexpected trailing bytes after the " +
                   std::to_string(want) + " data bytes (" + dims_text(out.dims) +
                   "): expected the file to end there (wrong dimensions or a corrupt file?)");
  }
  return out;
}

void write_idx(const std::string& path, const std::vector<int64_t>& dims,
               const std::vector<uint8_t>& data, bool gzip) {
  if (dims.empty() || dims.size() > kMaxDims) {
    throw ConfigError("write_idx(" + path + "): expected 1..4 dimensions, got " +
                      std::to_string(dims.size()));
  }
  int64_t total = 1;
  for (int64_t d : dims) {
    if (d < 1 || d > int64_t{UINT32_MAX} || total > kMaxPayloadBytes / d) {
      throw ConfigError("write_idx(" + path + "): bad dimensions " + dims_text(dims) +
                        ": expected each in 1..2^32-1 and a total under 2^31 bytes");
    }
    total *= d;
  }
  if (static_cast<uint64_t>(total) != data.size()) {
    throw ConfigError("write_idx(" + path + "): dimensions " + dims_text(dims) + " describe " +
                      std::to_string(total) + " bytes but the data has " +
                      std::to_string(data.size()));
  }

  std::vector<uint8_t> header = {0, 0, kUnsignedByteType, static_cast<uint8_t>(dims.size())};
  for (int64_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<uint8_t>(d >> shift));
  }

  if (gzip) {
    GzPtr gz(gzopen(path.c_str(), "wb"));
    if (!gz) fail(path, "cannot create file: " + errno_text());
    auto put = [&](const uint8_t* p, size_t n) {
      while (n > 0) {
        const unsigned len = static_cast<unsigned>(std::min(n, kChunkBytes));
        if (gzwrite(gz.get(), p, len) != static_cast<int>(len)) {
          int err = 0;
          fail(path, std::string("write error (zlib: ") + gzerror(gz.get(), &err) + ")");
        }
        p += len;
        n -= len;
      }
    };
    put(header.data(), header.size());
    put(data.data(), data.size());
    // gzclose flushes the last block; its result is the only report of a failed final write.
    if (gzclose(gz.release()) != Z_OK) fail(path, "write error while closing the gzip file");
  } else {
    FilePtr f(std::fopen(path.c_str(), "wb"));
    if (!f) fail(path, "cannot create file: " + errno_text());
    if (std::fwrite(header.data(), 1, header.size(), f.get()) != header.size() ||
        std::fwrite(data.data(), 1, data.size(), f.get()) != data.size()) {
      fail(path, "write error: " + errno_text());
    }
    if (std::fclose(f.release()) != 0) fail(path, "write error while closing: " + errno_text());
  }
}

}  // namespace cutrain::data
