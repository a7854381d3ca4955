// The batch-norm kernels' per-thread walk and moments (batchnorm_walk.h), checked on the CPU:
// the groups a thread gets hold exactly its values, in order, at the right offsets of strided
// x and y, for every stride shape; and a thread's group-wise moments match a double reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "batchnorm_walk.h"
#include "cutrain/rng.h"

namespace {

using cutrain::kernels::bn_add_group;
using cutrain::kernels::bn_for_each_group;
using cutrain::kernels::BnDims;
using cutrain::kernels::BnGroup;
using cutrain::kernels::BnThreadMoments;
using cutrain::kernels::kBnGroup;

struct Offsets {
  int64_t ax, ay;
  bool operator==(const Offsets& o) const { return ax == o.ax && ay == o.ay; }
};

// Thread t's values of channel c in [begin, end), by the layout's definition.
std::vector<Offsets> Expected(const BnDims& d, int64_t c, int64_t begin, int64_t end, int64_t t,
                              int64_t threads) {
  std::vector<Offsets> v;
  for (int64_t i = begin + t; i < end; i += threads)
    v.push_back({(i / d.s) * d.xs() + c * d.s + i % d.s, (i / d.s) * d.ys() + c * d.s + i % d.s});
  return v;
}

TEST(BatchNormWalk, GroupsHoldEachThreadsValuesInOrder) {
  struct Case {
    BnDims d;
    int64_t threads;
  };
  std::vector<Case> cases;
  for (const int64_t s : {1, 3, 7, 16, 49, 256, 300, 3136})
    for (const int64_t threads : {1, 5, 32, 256}) {
      BnDims packed;
      packed.n = 9;
      packed.c = 3;
      packed.s = s;
      cases.push_back({packed, threads});
      BnDims slice = packed;  // a channel slice of a wider buffer, y wider still (DenseBlock)
      slice.x_stride = 5 * s;
      slice.y_stride = 8 * s;
      cases.push_back({slice, threads});
    }
  int64_t checked = 0;
  for (const Case& k : cases) {
    const BnDims& d = k.d;
    const int64_t m = d.per_channel();
    // Whole channels, and block ranges that start and end inside samples.
    for (const auto& [begin, end] :
         {std::pair<int64_t, int64_t>{0, m}, {1, m - 1}, {m / 3, m / 2}, {m - 1, m}}) {
      for (int64_t c = 0; c < d.c; ++c) {
        for (int64_t t = 0; t < k.threads; ++t) {
          SCOPED_TRACE("s " + std::to_string(d.s) + " xs " + std::to_string(d.xs()) + " ys " +
                       std::to_string(d.ys()) + " threads " + std::to_string(k.threads) +
                       " range [" + std::to_string(begin) + ", " + std::to_string(end) + ") c " +
                       std::to_string(c) + " thread " + std::to_string(t));
          std::vector<Offsets> got;
          bool prefix = true;
          bn_for_each_group(d, c, begin, end, t, k.threads, [&](const BnGroup& g) {
            int valid = 0;
            for (int i = 0; i < kBnGroup; ++i) {
              prefix = prefix && (g.valid[i] == (i < g.count));
              if (g.valid[i]) {
                got.push_back({g.ax[i], g.ay[i]});
                ++valid;
              }
            }
            prefix = prefix && valid == g.count && g.count >= 1;
          });
          EXPECT_TRUE(prefix) << "valid entries must be a non-empty prefix of `count`";
          ASSERT_EQ(got, Expected(d, c, begin, end, t, k.threads));
          checked += static_cast<int64_t>(got.size());
        }
      }
    }
  }
  EXPECT_GT(checked, 100000);
}

// A thread's float moments, group by group, against a double two-pass reference: inputs with a
// large mean (shifted by the first value, as the kernels do), small ones, and counts that leave
// a partial last group.
TEST(BatchNormWalk, GroupMomentsMatchADoubleReference) {
  cutrain::Rng rng(17);
  for (const int count : {1, 2, 3, 4, 5, 17, 256, 3137}) {
    for (const float offset : {0.0f, 1e4f, -3.5f}) {
      for (const float spread : {1.0f, 1e-3f, 50.0f}) {
        std::vector<float> x(static_cast<size_t>(count));
        for (float& v : x) v = offset + spread * rng.normal();
        const float shift = x[0];
        // The reference, in double, of the shifted values the kernel sees.
        double sum = 0.0;
        for (const float v : x) sum += static_cast<double>(v - shift);
        const double mean = sum / count;
        double m2 = 0.0;
        for (const float v : x) m2 += (v - shift - mean) * (v - shift - mean);

        BnThreadMoments t;
        for (int i = 0; i < count; i += kBnGroup) {
          BnGroup g{};
          float v[kBnGroup] = {};
          for (int k = 0; k < kBnGroup; ++k) {
            g.valid[k] = i + k < count;
            g.count += g.valid[k] ? 1 : 0;
            if (g.valid[k]) v[k] = x[static_cast<size_t>(i + k)] - shift;
          }
          bn_add_group(t, v, g);
        }
        SCOPED_TRACE("count " + std::to_string(count) + " offset " + std::to_string(offset) +
                     " spread " + std::to_string(spread));
        EXPECT_EQ(t.count, static_cast<float>(count));
        const double sd = std::sqrt(m2 / count);
        // Float accumulation of ~count values: a few ulp per merge, relative to the spread.
        EXPECT_NEAR(t.mean, mean, 1e-5 * (sd + std::abs(mean)) + 1e-30);
        if (count == 1) {
          EXPECT_EQ(t.m2, 0.0f);
        } else {
          EXPECT_NEAR(t.m2, m2, 1e-4 * m2) << "variance " << m2 / count;
        }
      }
    }
  }
}

}  // namespace
