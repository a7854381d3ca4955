// Seeded random numbers with a fixed algorithm (splitmix64 seeding + xoshiro256**), so the same
// seed gives the same weights and shuffles on every machine and compiler.
#pragma once

#include <array>
#include <cstdint>

namespace cutrain {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next_u64();
  /// Uniform in [0, 1) with 24 bits of precision.
  float uniform();
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box-Muller; deterministic, no cached second value).
  float normal();
  /// Uniform integer in [0, n), unbiased (rejection sampling).
  uint64_t below(uint64_t n);

  using State = std::array<uint64_t, 4>;
  State state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  State s_{};
};

}  // namespace cutrain
