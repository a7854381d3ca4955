// A resumed run's stored configuration (the JSON inside a checkpoint): read back exactly as it
// was written, and held to the checks its flags passed, so that a damaged or hand-edited
// checkpoint is a DataError naming the file and the key, not a model built with batch size 0.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "support/temp_dir.h"
#include "train_config.h"

namespace cutrain::app {
namespace {

using test::Contains;
using test::data_error_message;

constexpr const char* kPath = "ckpt/last.safetensors";

TrainConfig a_run() {
  TrainConfig c;
  c.model = "lenet-bn", c.optimizer = "adam", c.lr = 0.001, c.eps = 1e-7, c.batch_size = 64;
  c.scheduler = "cosine:max_update=20,warmup=2", c.schedule_unit = "step", c.resize = 32;
  c.train_limit = 512, c.drop_last = true, c.precise_bn = true, c.seed = 42, c.epochs = 7;
  return c;
}

TEST(StoredConfig, ResumesExactlyWhatWasStored) {
  const std::string stored = run_config_json(a_run());
  TrainConfig plain;
  const TrainConfig r = resumed_config(plain, stored, kPath);
  EXPECT_EQ(run_config_json(r), stored);
  EXPECT_EQ(r.model, "lenet-bn");
  EXPECT_EQ(r.epochs, 7);
  EXPECT_EQ(r.eps, 1e-7);
  EXPECT_EQ(stored_resize(stored, kPath), 32);
}

// Runs from before --resize, --drop-last and --precise-bn stored no such keys; they resume with
// the flags off. (The defaults filled in are signed JSON integers, which the count check must
// take as readily as the unsigned ones parsed from text.)
TEST(StoredConfig, RunsFromBeforeNewerFlagsResume) {
  const std::string old_run =
      R"({"model":"lenet","optimizer":"sgd","lr":0.3,"momentum":0.9,"beta1":0.9,)"
      R"("beta2":0.999,"gamma":0.9,"rho":0.9,"eps":null,"weight_decay":0.0,)"
      R"("decay_biases":false,"clip_norm":0.0,"batch_size":256,"seed":0,)"
      R"("train_limit":0,"scheduler":"","schedule_unit":"epoch","epochs":10})";
  const TrainConfig r = resumed_config(TrainConfig{}, old_run, kPath);
  EXPECT_EQ(r.resize, 0);
  EXPECT_FALSE(r.drop_last);
  EXPECT_FALSE(r.precise_bn);
  EXPECT_EQ(r.batch_size, 256);
  EXPECT_EQ(r.epochs, 10);
  EXPECT_TRUE(std::isnan(r.eps));
  EXPECT_EQ(stored_resize(old_run, kPath), 0);
}

// Each stored value that the flag would have refused, and what the message must say.
TEST(StoredConfig, ValuesTheFlagsRefuseAreDataErrorsNamingTheFileAndKey) {
  const nlohmann::json good = nlohmann::json::parse(run_config_json(a_run()));
  const struct {
    const char* key;
    nlohmann::json value;
    const char* says;
  } cases[] = {
      {"batch_size", 0, "batch_size 0, expected 1 to 1048576"},
      {"batch_size", -5, "batch_size -5, expected 1 to"},
      {"batch_size", 1e300, "batch_size 1e+300, expected a whole number"},
      {"batch_size", 64.0, "expected a whole number"},
      {"epochs", 0, "epochs 0, expected 1 to 1000000"},
      {"resize", -3, "resize -3, expected 0 to 4096"},
      {"resize", 5000, "resize 5000"},
      {"train_limit", -1, "train_limit -1"},
      {"seed", -1, "seed -1"},
      {"seed", 0.5, "seed 0.5, expected a whole number"},
      {"model", "lenet-xl", "unknown model 'lenet-xl'"},
      {"optimizer", "lion", "unknown optimizer 'lion'"},
      {"schedule_unit", "hour", "schedule_unit 'hour'"},
      {"lr", -1e-9, "lr -1e-09, expected a number > 0"},
      {"lr", 0, "expected a number > 0"},
      {"beta1", 1.0, "--beta1"},
      {"eps", -1.0, "--eps"},
      {"scheduler", "cosine:max_update=-1", "--scheduler"},
      {"scheduler", "warp", "unknown scheduler 'warp'"},
      {"batch_size", "64", "batch_size \"64\", expected a whole number"},
      {"momentum", "0.9", "malformed"},
  };
  for (const auto& c : cases) {
    nlohmann::json bad = good;
    bad[c.key] = c.value;
    const std::string msg =
        data_error_message([&] { resumed_config(TrainConfig{}, bad.dump(), kPath); });
    EXPECT_TRUE(Contains(msg, std::string(kPath) + ": stored configuration")) << msg;
    EXPECT_TRUE(Contains(msg, c.says)) << c.key << " = " << c.value.dump() << ": " << msg;
  }
  nlohmann::json bad = good;
  bad["resize"] = 1e300;
  EXPECT_TRUE(Contains(data_error_message([&] { stored_resize(bad.dump(), kPath); }),
                       "resize 1e+300, expected a whole number"));
  for (const char* text : {"[1, 2]", "42", "{\"model\": \"lenet\"}", "{not json"})
    EXPECT_TRUE(
        Contains(data_error_message([&] { resumed_config(TrainConfig{}, text, kPath); }), kPath))
        << text;
}

// A flag given with the stored value is accepted; with another value it is a usage error.
TEST(StoredConfig, GivenFlagsMustAgree) {
  const std::string stored = run_config_json(a_run());
  TrainConfig given;
  given.given = {"batch-size", "epochs"};
  given.batch_size = 64, given.epochs = 9;
  EXPECT_EQ(resumed_config(given, stored, kPath).epochs, 9);  // epochs may change
  given.batch_size = 32;
  EXPECT_THROW(resumed_config(given, stored, kPath), ConfigError);
}

// eval and resume build the model a checkpoint names: what make_model refuses is the file's
// fault, not a flag's.
TEST(StoredConfig, AModelTheCheckpointNamesButCannotBeBuiltIsADataError) {
  std::string msg = data_error_message([] { stored_model("lenet-xl", {1, 28, 28}, kPath); });
  EXPECT_TRUE(Contains(msg, std::string(kPath) + ": the checkpoint's model cannot be built"))
      << msg;
  EXPECT_TRUE(Contains(msg, "unknown model 'lenet-xl'")) << msg;
  msg = data_error_message([] { stored_model("lenet", {1, 32, 32}, kPath); });
  EXPECT_TRUE(Contains(msg, kPath) && Contains(msg, "1x28x28")) << msg;
  EXPECT_EQ(stored_model("lenet", {1, 28, 28}, kPath).layers().size(),
            make_model("lenet").layers().size());
}

}  // namespace
}  // namespace cutrain::app
