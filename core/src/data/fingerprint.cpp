#include "cutrain/data/fingerprint.h"

namespace cutrain::data {
namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Order-dependent: h = mix(h + v + golden ratio), so swapping two values changes the hash.
void add(uint64_t& h, uint64_t v) { h = mix(h + v + 0x9e3779b97f4a7c15ULL); }

}  // namespace

uint64_t dataset_fingerprint(const ImageDataset& d) {
  uint64_t h = 0;
  for (const int64_t v : {d.count, d.channels, d.height, d.width, int64_t{d.num_classes}})
    add(h, static_cast<uint64_t>(v));
  add(h, d.images.size());
  add(h, d.labels.size());
  // Labels 8 at a time (the tail byte by byte).
  const size_t nl = d.labels.size();
  size_t i = 0;
  for (; i + 8 <= nl; i += 8) {
    uint64_t w = 0;
    for (size_t k = 0; k < 8; ++k) w |= static_cast<uint64_t>(d.labels[i + k]) << (8 * k);
    add(h, w);
  }
  for (; i < nl; ++i) add(h, d.labels[i]);
  const auto ni = static_cast<int64_t>(d.images.size());
  const int64_t samples = ni < kFingerprintImageSamples ? ni : kFingerprintImageSamples;
  for (int64_t s = 0; s < samples; ++s) {
    // Position s of `samples` evenly spaced ones; the first and the last byte are included.
    const int64_t pos = samples == 1 ? 0 : static_cast<int64_t>(
        (static_cast<__int128>(s) * (ni - 1)) / (samples - 1));
    add(h, (static_cast<uint64_t>(pos) << 8) | d.images[static_cast<size_t>(pos)]);
  }
  return h;
}

}  // namespace cutrain::data
