// make_scheduler on arbitrary spec strings: builds a schedule, or throws ConfigError naming the
// flag. A schedule that was built gives a learning rate that is a number >= 0 (not NaN, not
// negative) at every t, and accepts its own state back.
#include <cmath>
#include <limits>

#include "cutrain/error.h"
#include "cutrain/schedule/scheduler.h"
#include "fuzz_target.h"

namespace cutrain::fuzz {

void write_fuzz_seeds(const std::filesystem::path& dir) {
  const char* specs[] = {"constant",
                         "sqrt:warmup=3,warmup_begin_lr=0.01",
                         "exponential:k=0.2",
                         "polynomial:a=0.5,p=2",
                         "poly:max_update=20,p=2,warmup=5",
                         "factor:alpha=0.9,min_lr=1e-3",
                         "multifactor:milestones=15;30,alpha=0.5",
                         "step:step_size=10,gamma=0.5",
                         "cosine:max_update=20,final_lr=0.01,warmup=5",
                         "onecycle:max_update=100,pct_start=0.25,div_factor=10",
                         "plateau:factor=0.5,patience=2,threshold=0.01,min_lr=1e-4"};
  int i = 0;
  for (const char* spec : specs) write_file(dir / ("spec" + std::to_string(i++)), spec);
}

}  // namespace cutrain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cutrain;
  using namespace cutrain::fuzz;
  const std::string spec(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<Scheduler> s;
  if (!loads_or_rejects<ConfigError>("--scheduler", [&] { s = make_scheduler(spec, 0.3); }))
    return 0;
  const int64_t ts[] = {0,
                        1,
                        2,
                        3,
                        5,
                        9,
                        10,
                        29,
                        30,
                        99,
                        1000,
                        123456789,
                        int64_t(1e15),
                        std::numeric_limits<int64_t>::max()};
  for (int64_t t : ts) {
    const double lr = s->lr(t);
    check(!std::isnan(lr) && lr >= 0,
          "'" + spec + "' gives lr " + std::to_string(lr) + " at t=" + std::to_string(t));
  }
  check(!s->describe().empty(), "'" + spec + "' describes itself as nothing");
  s->observe(1.0);
  s->observe(0.5);
  const SchedulerState state = s->state();
  const bool restored = loads_or_rejects<DataError>("", [&] { s->load_state(state); });
  check(restored && s->state() == state, "'" + spec + "' does not take its own state back");
  return 0;
}
