// Learning-rate schedulers against their formulas (cutrain/schedule/scheduler.h,
// shared/reference/schedulers.md): every expected value is written from the formula here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/schedule/scheduler.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::Contains;
constexpr double kPi = 3.14159265358979323846;

double lr_of(const std::string& s, double lr, int64_t t) { return make_scheduler(s, lr)->lr(t); }

std::string config_error(const std::string& spec, double base_lr = 0.1) {
  try {
    make_scheduler(spec, base_lr);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for '" << spec << "'";
  return {};
}

TEST(Schedulers, ConstantIsEta0Everywhere) {
  const auto s = make_scheduler("constant", 0.3);
  for (int64_t t : {0, 1, 17, 1000}) EXPECT_DOUBLE_EQ(s->lr(t), 0.3) << "t=" << t;
}

TEST(Schedulers, SqrtIsInverseSquareRootOfTPlusOne) {
  const auto s = make_scheduler("sqrt", 0.1);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.1);
  EXPECT_DOUBLE_EQ(s->lr(3), 0.1 / 2.0);
  EXPECT_DOUBLE_EQ(s->lr(99), 0.1 / 10.0);
}

TEST(Schedulers, ExponentialDecaysByExpMinusKt) {
  const auto s = make_scheduler("exponential:k=0.1", 2.0);
  EXPECT_DOUBLE_EQ(s->lr(0), 2.0);
  EXPECT_DOUBLE_EQ(s->lr(10), 2.0 * std::exp(-1.0));
  EXPECT_DOUBLE_EQ(lr_of("exponential:k=0.5", 1.0, 4), std::exp(-2.0));
  EXPECT_DOUBLE_EQ(lr_of("exponential", 1.0, 20), std::exp(-2.0));  // default k = 0.1
}

TEST(Schedulers, PolynomialIsOnePlusAtToTheMinusP) {
  const auto s = make_scheduler("polynomial:a=0.1,p=0.5", 0.4);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.4);
  EXPECT_DOUBLE_EQ(s->lr(30), 0.4 / 2.0);  // (1 + 3)^-0.5
  EXPECT_DOUBLE_EQ(s->lr(7), 0.4 * std::pow(1.7, -0.5));
  EXPECT_DOUBLE_EQ(lr_of("polynomial:a=1,p=2", 1.0, 3), 1.0 / 16.0);
}

TEST(Schedulers, PolyDecaysToZeroAtMaxUpdate) {
  const auto s = make_scheduler("poly:max_update=10,p=2", 0.8);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.8);
  EXPECT_DOUBLE_EQ(s->lr(5), 0.8 * 0.25);
  EXPECT_DOUBLE_EQ(s->lr(8), 0.8 * 0.2 * 0.2);
  EXPECT_EQ(s->lr(10), 0.0);
  EXPECT_EQ(s->lr(15), 0.0);
  EXPECT_DOUBLE_EQ(lr_of("poly:max_update=4", 1.0, 1), 0.75);  // default p = 1
}

TEST(Schedulers, FactorReachesTheFloorWhereTheBookSays) {
  // eta0 alpha^t >= 0.01 <=> t <= ln(0.005) / ln(0.9) = 50.3: the floor from t = 51 on.
  const auto s = make_scheduler("factor:alpha=0.9,min_lr=0.01", 2.0);
  EXPECT_DOUBLE_EQ(s->lr(0), 2.0);
  EXPECT_DOUBLE_EQ(s->lr(1), 1.8);
  EXPECT_DOUBLE_EQ(s->lr(10), 2.0 * std::pow(0.9, 10));
  EXPECT_DOUBLE_EQ(s->lr(50), 2.0 * std::pow(0.9, 50));
  EXPECT_GT(s->lr(50), 0.01);
  EXPECT_DOUBLE_EQ(s->lr(51), 0.01);
  EXPECT_DOUBLE_EQ(s->lr(1000), 0.01);
  // The recursive form of the reference gives the same values.
  double eta = 2.0;
  for (int64_t t = 0; t < 80; ++t, eta = std::max(0.01, eta * 0.9))
    EXPECT_NEAR(s->lr(t), eta, 1e-12 * eta) << "t=" << t;
}

TEST(Schedulers, MultifactorMultipliesAtEachMilestone) {
  for (const char* spec :
       {"multifactor:milestones=15;30,alpha=0.5", "multifactor:milestones=15/30,alpha=0.5"}) {
    const auto s = make_scheduler(spec, 0.5);
    EXPECT_DOUBLE_EQ(s->lr(0), 0.5) << spec;
    EXPECT_DOUBLE_EQ(s->lr(14), 0.5) << spec;
    EXPECT_DOUBLE_EQ(s->lr(15), 0.25) << spec;
    EXPECT_DOUBLE_EQ(s->lr(29), 0.25) << spec;
    EXPECT_DOUBLE_EQ(s->lr(30), 0.125) << spec;
    EXPECT_DOUBLE_EQ(s->lr(100), 0.125) << spec;
  }
}

TEST(Schedulers, StepMultipliesByGammaEveryStepSize) {
  const auto s = make_scheduler("step:step_size=3,gamma=0.5", 1.0);
  const double expected[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125};
  for (int64_t t = 0; t < 10; ++t) EXPECT_DOUBLE_EQ(s->lr(t), expected[t]) << "t=" << t;
  EXPECT_DOUBLE_EQ(lr_of("step:step_size=2", 1.0, 4), 0.01);  // default gamma = 0.1
}

TEST(Schedulers, CosineFromEta0ToFinalThenFlat) {
  const auto s = make_scheduler("cosine:max_update=20,final_lr=0.01", 0.3);
  auto cosine = [](double t) { return 0.01 + (0.3 - 0.01) / 2 * (1 + std::cos(kPi * t / 20)); };
  EXPECT_DOUBLE_EQ(s->lr(0), 0.3);
  EXPECT_DOUBLE_EQ(s->lr(5), cosine(5));
  EXPECT_DOUBLE_EQ(s->lr(10), 0.01 + 0.29 / 2);
  EXPECT_DOUBLE_EQ(s->lr(17), cosine(17));
  EXPECT_DOUBLE_EQ(s->lr(20), 0.01);
  EXPECT_DOUBLE_EQ(s->lr(25), 0.01);
  EXPECT_EQ(lr_of("cosine:max_update=8", 1.0, 8), 0.0);  // default final_lr = 0
}

TEST(Schedulers, OneCycleRisesToEta0ThenFallsFarBelowTheStart) {
  // T = 20, pct_start 0.25: up for 5 updates from eta0/25 to eta0, then down to eta0/25/1e4.
  const auto s = make_scheduler("onecycle:max_update=20,pct_start=0.25", 0.4);
  const double start = 0.4 / 25, end = 0.4 / 25 / 1e4;
  EXPECT_DOUBLE_EQ(s->lr(0), start);
  EXPECT_DOUBLE_EQ(s->lr(2), start + (0.4 - start) * (1 - std::cos(kPi * 2 / 5)) / 2);
  EXPECT_DOUBLE_EQ(s->lr(5), 0.4);
  EXPECT_DOUBLE_EQ(s->lr(10), end + (0.4 - end) * (1 + std::cos(kPi * 5 / 15)) / 2);
  EXPECT_DOUBLE_EQ(s->lr(20), end);
  EXPECT_DOUBLE_EQ(s->lr(30), end);
  for (int64_t t = 1; t <= 5; ++t) EXPECT_GT(s->lr(t), s->lr(t - 1)) << "t=" << t;
  for (int64_t t = 6; t <= 20; ++t) EXPECT_LT(s->lr(t), s->lr(t - 1)) << "t=" << t;
  // Defaults: pct_start 0.3, so the peak of T = 10 is at t = 3.
  EXPECT_NEAR(lr_of("onecycle:max_update=10", 1.0, 3), 1.0, 1e-12);
  EXPECT_NEAR(lr_of("onecycle:max_update=10", 1.0, 0), 1.0 / 25, 1e-15);
}

TEST(Schedulers, WarmUpThenCosineOverTheRemainingUpdates) {
  const auto s = make_scheduler("cosine:max_update=20,final_lr=0.01,warmup=5", 0.3);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.0);
  EXPECT_DOUBLE_EQ(s->lr(1), 0.06);
  EXPECT_DOUBLE_EQ(s->lr(2), 0.12);
  EXPECT_DOUBLE_EQ(s->lr(4), 0.24);
  EXPECT_DOUBLE_EQ(s->lr(5), 0.3);
  // The cosine spans t = 5 .. 20, i.e. 15 updates.
  auto cosine = [](double k) { return 0.01 + 0.29 / 2 * (1 + std::cos(kPi * k / 15)); };
  EXPECT_DOUBLE_EQ(s->lr(8), cosine(3));
  EXPECT_DOUBLE_EQ(s->lr(12), cosine(7));
  EXPECT_DOUBLE_EQ(s->lr(19), cosine(14));
  EXPECT_DOUBLE_EQ(s->lr(20), 0.01);
  EXPECT_DOUBLE_EQ(s->lr(29), 0.01);
}

TEST(Schedulers, WarmUpStartsAtWarmupBeginLr) {
  const auto s = make_scheduler("constant:warmup=4,warmup_begin_lr=0.1", 0.5);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.1);
  EXPECT_DOUBLE_EQ(s->lr(2), 0.3);
  EXPECT_DOUBLE_EQ(s->lr(4), 0.5);
  EXPECT_DOUBLE_EQ(s->lr(40), 0.5);
}

TEST(Schedulers, WarmUpShiftsSqrtAndMultifactorByW) {
  const auto sq = make_scheduler("sqrt:warmup=3", 0.1);
  EXPECT_DOUBLE_EQ(sq->lr(0), 0.0);
  EXPECT_DOUBLE_EQ(sq->lr(3), 0.1);
  EXPECT_DOUBLE_EQ(sq->lr(6), 0.1 / 2.0);  // (6 - 3 + 1)^-1/2
  EXPECT_DOUBLE_EQ(sq->lr(102), 0.1 / 10.0);
  const auto mf = make_scheduler("multifactor:milestones=15;30,alpha=0.5,warmup=5", 0.5);
  EXPECT_DOUBLE_EQ(mf->lr(5), 0.5);
  EXPECT_DOUBLE_EQ(mf->lr(19), 0.5);
  EXPECT_DOUBLE_EQ(mf->lr(20), 0.25);
  EXPECT_DOUBLE_EQ(mf->lr(34), 0.25);
  EXPECT_DOUBLE_EQ(mf->lr(35), 0.125);
}

TEST(Schedulers, DescribeNamesTheSchedule) {
  for (const std::string spec :
       {"constant", "sqrt", "exponential:k=0.2", "polynomial", "poly:max_update=5", "factor",
        "multifactor:milestones=1;2", "step:step_size=2", "cosine:max_update=20",
        "onecycle:max_update=20", "plateau"})
    EXPECT_TRUE(Contains(make_scheduler(spec, 0.1)->describe(), spec.substr(0, spec.find(':'))));
  const std::string warm = make_scheduler("cosine:max_update=20,warmup=5", 0.1)->describe();
  EXPECT_TRUE(Contains(warm, "warmup") && Contains(warm, "cosine")) << warm;
}

// t is any update count >= 0: at the largest one a schedule still gives a number >= 0. Fuzzing
// (tests/fuzz/fuzz_scheduler_spec.cpp) found sqrt computing t + 1 in int64, which overflows
// there and gave NaN.
TEST(Schedulers, DefinedUpToTheLargestCount) {
  const int64_t last = std::numeric_limits<int64_t>::max();
  for (const std::string spec :
       {"constant", "sqrt", "sqrt:warmup=3", "exponential:k=0.2", "polynomial", "poly:max_update=5",
        "factor", "multifactor:milestones=1;2", "step:step_size=2", "cosine:max_update=20",
        "onecycle:max_update=20", "plateau"}) {
    const double lr = make_scheduler(spec, 0.1)->lr(last);
    EXPECT_TRUE(lr >= 0 && !std::isnan(lr)) << spec << ": " << lr;
  }
  EXPECT_NEAR(make_scheduler("sqrt", 1.0)->lr(last), 1.0 / std::sqrt(9.223372036854775808e18),
              1e-20);
}

TEST(Schedulers, NamesListEveryScheduler) {
  const std::vector<std::string> names = scheduler_names();
  for (const char* n : {"constant", "sqrt", "exponential", "polynomial", "poly", "factor",
                        "multifactor", "step", "cosine", "onecycle", "plateau"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  for (const std::string& n : names) {
    const std::string spec = n + ":max_update=10,milestones=1,step_size=1";
    const std::string msg = config_error(spec);  // every name is known: only keys are wrong
    EXPECT_FALSE(Contains(msg, "unknown scheduler")) << msg;
  }
}

TEST(SchedulerPlateau, DropsAfterPatiencePlusOneEpochsWithoutImprovement) {
  const auto s = make_scheduler("plateau:factor=0.5,patience=2", 1.0);
  EXPECT_DOUBLE_EQ(s->lr(0), 1.0);
  s->observe(1.0);  // best
  s->observe(1.0);  // 1 bad
  s->observe(1.1);  // 2 bad
  EXPECT_DOUBLE_EQ(s->lr(3), 1.0);
  s->observe(1.0);  // 3 bad > patience
  EXPECT_DOUBLE_EQ(s->lr(4), 0.5);
  s->observe(0.5);  // improves: counter reset, rate kept
  s->observe(0.6);
  s->observe(0.6);
  EXPECT_DOUBLE_EQ(s->lr(7), 0.5);
  s->observe(0.6);
  EXPECT_DOUBLE_EQ(s->lr(8), 0.25);
}

TEST(SchedulerPlateau, ImprovementSmallerThanTheThresholdDoesNotCount) {
  const auto s = make_scheduler("plateau:factor=0.1,patience=0,threshold=0.1", 1.0);
  s->observe(1.0);
  s->observe(0.95);  // only 5% better: bad epoch, patience 0 -> drop
  EXPECT_DOUBLE_EQ(s->lr(2), 0.1);
  s->observe(0.85);  // 15% better than the best (1.0): improvement
  EXPECT_DOUBLE_EQ(s->lr(3), 0.1);
  s->observe(0.8);  // < 10% better than 0.85
  EXPECT_DOUBLE_EQ(s->lr(4), 0.1 * 0.1);
}

TEST(SchedulerPlateau, NeverBelowMinLr) {
  const auto s = make_scheduler("plateau:factor=0.1,patience=0,min_lr=0.05", 1.0);
  s->observe(1.0);
  s->observe(2.0);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.1);
  s->observe(2.0);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.05);
  s->observe(2.0);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.05);
}

TEST(SchedulerPlateau, StateRoundTripReproducesLaterDecisions) {
  const std::vector<double> history = {1.0, 0.9, 0.95, 0.93};
  const std::vector<double> future = {0.94, 0.92, 0.91, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8};
  const std::string spec = "plateau:factor=0.5,patience=2";
  const auto a = make_scheduler(spec, 1.0);
  for (double m : history) a->observe(m);
  const SchedulerState saved = a->state();
  EXPECT_FALSE(saved.empty());
  const auto b = make_scheduler(spec, 1.0);
  b->load_state(saved);
  EXPECT_EQ(b->state(), saved);
  for (size_t i = 0; i < future.size(); ++i) {
    a->observe(future[i]);
    b->observe(future[i]);
    EXPECT_EQ(a->lr(0), b->lr(0)) << "after future metric " << i;
  }
  EXPECT_LT(b->lr(0), 1.0);  // the future did drop the rate
  // Without the state a fresh scheduler decides differently.
  const auto fresh = make_scheduler(spec, 1.0);
  for (size_t i = 0; i < 3; ++i) fresh->observe(future[i]);
  a->load_state(saved);
  for (size_t i = 0; i < 3; ++i) a->observe(future[i]);
  EXPECT_NE(fresh->lr(0), a->lr(0));
}

TEST(SchedulerPlateau, WarmUpWrapperForwardsObserveAndState) {
  const auto s = make_scheduler("plateau:factor=0.25,patience=0,warmup=2", 1.0);
  EXPECT_DOUBLE_EQ(s->lr(1), 0.5);
  s->observe(1.0);
  s->observe(1.0);
  EXPECT_DOUBLE_EQ(s->lr(5), 0.25);
  EXPECT_DOUBLE_EQ(s->state().at("current_lr"), 0.25);
}

TEST(SchedulerPlateau, LoadStateWithAMissingKeyThrowsDataError) {
  const auto s = make_scheduler("plateau", 1.0);
  SchedulerState st = s->state();
  for (const std::string key : {"current_lr", "best", "bad_epochs"}) {
    SchedulerState broken = st;
    broken.erase(key);
    const std::string msg = test::data_error_message([&] { s->load_state(broken); });
    EXPECT_TRUE(Contains(msg, key));
  }
  EXPECT_TRUE(make_scheduler("cosine:max_update=3", 1.0)->state().empty());  // pure schedule
}

TEST(SchedulerErrors, EachNamesTheSpecAndTheOffendingPart) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"bogus", {"bogus", "available", "cosine", "multifactor"}},
      {"exponential:kk=1", {"'kk'", "known", "warmup_begin_lr"}},
      {"cosine", {"max_update"}},
      {"cosine:", {"max_update"}},
      {"cosine:max_update=abc", {"max_update", "abc"}},
      {"cosine:max_update=20,max_update=30", {"max_update", "twice"}},
      {"", {"name"}},
      {":k=1", {"name"}},
      {"cosine:max_update", {"max_update"}},
      {"cosine:max_update=20,", {"key=value"}},
      {"cosine:max_update=20,warmup=20", {"warmup"}},
      {"cosine:max_update=20,warmup=25", {"warmup"}},
      {"cosine:max_update=20,warmup=1e19", {"warmup"}},
      {"poly:max_update=5,warmup=5", {"warmup"}},
      {"onecycle:max_update=5,warmup=6", {"warmup"}},
      {"multifactor:milestones=15;30,alpha=0", {"alpha"}},
      {"multifactor:milestones=30;15", {"milestones"}},
      {"multifactor:milestones=15;15", {"milestones"}},
      {"multifactor:milestones=15;x", {"milestones"}},
      {"multifactor", {"milestones"}},
      {"step:step_size=0", {"step_size"}},
      {"step:step_size=2.5", {"step_size"}},
      {"onecycle:max_update=10,pct_start=1", {"pct_start"}},
      {"onecycle:max_update=10,pct_start=0", {"pct_start"}},
      {"plateau:patience=-1", {"patience"}},
      {"plateau:factor=1", {"factor"}},
      {"factor:alpha=0", {"alpha"}},
      {"exponential:k=-1", {"k"}},
      {"exponential:k=nan", {"k"}},
      {"cosine:max_update=0", {"max_update"}},
      {"constant:warmup=-1", {"warmup"}},
      {"constant:warmup=1.5", {"warmup"}},
  };
  for (const auto& [spec, parts] : cases) {
    const std::string msg = config_error(spec);
    EXPECT_TRUE(Contains(msg, "'" + spec + "'")) << "spec " << spec;
    for (const std::string& part : parts) EXPECT_TRUE(Contains(msg, part)) << "spec " << spec;
  }
}

TEST(SchedulerErrors, CountsTooLargeForAnUpdateCounterAreRejectedNotWrapped) {
  // 1e19 updates do not fit the int64 counter; a spec must not turn into a negative warm-up.
  for (const char* spec : {"sqrt:warmup=1e19", "constant:warmup=1e19,warmup_begin_lr=0.1"}) {
    try {
      const auto s = make_scheduler(spec, 0.1);
      for (int64_t t : {0, 5, 1000}) EXPECT_TRUE(s->lr(t) >= 0.0 && s->lr(t) <= 0.1) << spec;
      EXPECT_FALSE(Contains(s->describe(), "-")) << spec;
    } catch (const ConfigError& e) {
      EXPECT_TRUE(Contains(e.what(), "warmup"));
    }
  }
}

TEST(SchedulerErrors, NegativeOrNonFiniteBaseLr) {
  for (double lr :
       {-0.1, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    const std::string msg = config_error("cosine:max_update=10", lr);
    EXPECT_TRUE(Contains(msg, "cosine:max_update=10"));
    EXPECT_TRUE(Contains(msg, "learning rate"));
  }
  EXPECT_NO_THROW(make_scheduler("constant", 0.0));
}

}  // namespace
}  // namespace cutrain
