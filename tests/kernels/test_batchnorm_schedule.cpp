// The streamed batch-norm schedule's order of work (batchnorm_schedule.h), checked on the CPU:
// every item is handed out exactly once, a channel's second-pass items come after all of its
// first-pass items (the condition under which waiting for them cannot deadlock) and after the
// first pass of the channel `lag` further on; and the lag chosen from the cache and the items
// in flight.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "batchnorm_schedule.h"

namespace {

using cutrain::kernels::bn_streamed_item;
using cutrain::kernels::bn_streamed_lag;
using cutrain::kernels::BnStreamedItem;

struct Tickets {
  // Per channel: the last first-pass ticket and the first second-pass ticket.
  std::vector<int64_t> last_stats, first_norm;
};

// Walks tickets [0, count) and checks that each (pass, channel, block) comes once.
Tickets Walk(int64_t c, int64_t blocks, int64_t lag, int64_t count) {
  Tickets t{std::vector<int64_t>(c, -1), std::vector<int64_t>(c, count)};
  std::vector<int> seen(2 * c * blocks, 0);
  for (int64_t i = 0; i < count; ++i) {
    const BnStreamedItem w = bn_streamed_item(i, c, blocks, lag);
    EXPECT_TRUE(w.c >= 0 && w.c < c && w.b >= 0 && w.b < blocks)
        << "ticket " << i << " -> channel " << w.c << ", block " << w.b;
    if (!(w.c >= 0 && w.c < c && w.b >= 0 && w.b < blocks)) return t;
    ++seen[(w.stats ? 0 : c * blocks) + w.c * blocks + w.b];
    if (w.stats) {
      t.last_stats[w.c] = std::max(t.last_stats[w.c], i);
    } else {
      t.first_norm[w.c] = std::min(t.first_norm[w.c], i);
    }
  }
  const int64_t expected = count / (c * blocks);  // 1: first pass only, 2: both
  for (int64_t k = 0; k < 2 * c * blocks; ++k)
    EXPECT_EQ(seen[k], k < expected * c * blocks ? 1 : 0)
        << (k < c * blocks ? "first" : "second") << " pass item " << k % (c * blocks);
  return t;
}

TEST(BatchnormSchedule, EveryItemOnceAndSecondPassAfterFirst) {
  for (int64_t c : {1, 2, 3, 7, 64})
    for (int64_t blocks : {2, 3, 196, 256})
      for (int64_t lag : {int64_t{1}, int64_t{2}, int64_t{4}, c}) {
        if (lag > c) continue;
        SCOPED_TRACE("C " + std::to_string(c) + ", B " + std::to_string(blocks) + ", lag " +
                     std::to_string(lag));
        const Tickets t = Walk(c, blocks, lag, 2 * c * blocks);
        for (int64_t ch = 0; ch < c; ++ch) {
          EXPECT_LT(t.last_stats[ch], t.first_norm[ch]) << "channel " << ch;
          // The first pass runs `lag` channels ahead (or has finished).
          const int64_t ahead = ch + lag < c ? ch + lag : c - 1;
          EXPECT_LT(t.last_stats[ahead], t.first_norm[ch]) << "channel " << ch;
          if (ch > 0) {
            EXPECT_LT(t.first_norm[ch - 1], t.first_norm[ch]) << "channel " << ch;
          }
        }
        if (c - lag >= 2) {  // two or more slots pair stats(j + lag) with norm(j): interleaved
          EXPECT_GT(t.last_stats[c - 1], t.first_norm[0]);
        }
      }
}

// Backward without dx launches the first pass alone: lag == C puts it in the first C*B tickets.
TEST(BatchnormSchedule, FirstPassAloneWhenLagIsTheChannelCount) {
  for (int64_t c : {1, 5, 64}) {
    SCOPED_TRACE("C " + std::to_string(c));
    const Tickets t = Walk(c, 7, c, c * 7);
    for (int64_t ch = 0; ch < c; ++ch) EXPECT_GE(t.last_stats[ch], 0) << "channel " << ch;
  }
}

TEST(BatchnormSchedule, LagFromTheCacheAndTheItemsInFlight) {
  const int64_t l2 = 50 << 20, resident = 132 * 8;
  // 256x64x56x56 on an H100: 3.2 MB a channel, a quarter of L2 holds 4 channels; 1056 blocks
  // in flight span 2.7 slots of 2 * 196 items.
  EXPECT_EQ(bn_streamed_lag(64, 196, 802816 * 4, l2, resident), 4);
  // The backward's first pass reads three arrays with the fused ReLU: one channel fits, but the
  // items in flight need 3.
  EXPECT_EQ(bn_streamed_lag(64, 196, 802816 * 12, l2, resident), 3);
  // Channels larger than the cache: the items in flight decide; never below 1.
  EXPECT_EQ(bn_streamed_lag(64, 256, int64_t{1} << 30, l2, 0), 1);
  EXPECT_EQ(bn_streamed_lag(64, 256, int64_t{1} << 30, l2, resident), 3);
  // Small channels: capped at the channel count.
  EXPECT_EQ(bn_streamed_lag(10, 2, 4096, l2, resident), 10);
}

}  // namespace
