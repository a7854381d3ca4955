// The order of work in the streamed schedule of the batch-norm training ops (batchnorm.cu),
// shared with the CPU tests that check it.
//
// Why: the training forward needs a channel's statistics before its first output, so it passes
// over x twice (backward likewise over x and dy). The two-pass schedule runs the first pass over
// every channel, then the second: when x is larger than the L2 cache (256x64x56x56 is 205 MB, an
// H100's L2 50 MB) the second pass reads x from DRAM again, 12 B per value for a forward that
// must move 8. The streamed schedule is one launch whose work items interleave the passes, so a
// channel's second pass starts shortly after its first, while its values are still in L2:
//   stats(0) .. stats(lag-1), then for j = 0, 1, ..: stats(j + lag) (while j + lag < C), norm(j)
// where stats(c) is the B items (one per block range) of channel c's first pass and norm(c) the
// B items of its second. Blocks take items by an atomic ticket in this order, so every stats item
// a norm item waits for was taken by a block that is already running and never waits itself:
// the schedule cannot deadlock, however many blocks are resident (decoupled look-back's
// argument). lag, a few channels, lets those stats items finish before the norm items start.
#pragma once

#include <cstdint>

#include "hd.h"

namespace cutrain::kernels {

struct BnStreamedItem {
  bool stats;    ///< first pass (partial statistics) or second (normalize / dx)
  int64_t c, b;  ///< channel and block range within it
};

/// Item `t` of 2 * c * blocks (stats only when lag == c and t < c * blocks); 1 <= lag <= c.
CUTRAIN_HD BnStreamedItem bn_streamed_item(int64_t t, int64_t c, int64_t blocks, int64_t lag) {
  const int64_t head = lag * blocks;  // stats(0 .. lag - 1)
  if (t < head) return {true, t / blocks, t % blocks};
  t -= head;
  const int64_t pairs = c - lag;  // j whose slot holds stats(j + lag) and norm(j)
  if (t < pairs * 2 * blocks) {
    const int64_t j = t / (2 * blocks), r = t - j * 2 * blocks;
    return r < blocks ? BnStreamedItem{true, j + lag, r} : BnStreamedItem{false, j, r - blocks};
  }
  t -= pairs * 2 * blocks;  // the last lag channels' norm items
  return {false, pairs + t / blocks, t % blocks};
}

/// How many channels the first pass runs ahead of the second: at least enough that the items
/// in flight at once (`resident_blocks`) do not reach a channel whose statistics are unfinished
/// (its norm items would spin), and more while the lag channels' first-pass bytes
/// (`channel_bytes` each) fill at most a quarter of the L2 cache (the rest holds the outputs
/// being written and the items in flight).
inline int64_t bn_streamed_lag(int64_t c, int64_t blocks, int64_t channel_bytes, int64_t l2_bytes,
                               int64_t resident_blocks) {
  const int64_t by_cache = channel_bytes > 0 ? l2_bytes / (4 * channel_bytes) : c;
  const int64_t by_flight = (resident_blocks + 2 * blocks - 1) / (2 * blocks);
  int64_t lag = by_cache > by_flight ? by_cache : by_flight;
  if (lag < 1) lag = 1;
  return lag < c ? lag : c;
}

}  // namespace cutrain::kernels
