// resumed_config on an arbitrary stored configuration (the JSON a checkpoint carries; the first
// input byte picks which flags the user gave): returns a configuration that passes every check
// the flags pass, or throws DataError (or ConfigError, for a given flag that differs) naming the
// checkpoint. An accepted configuration survives being stored and resumed again unchanged.
#include <cmath>

#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/schedule/scheduler.h"
#include "fuzz_target.h"
#include "train_config.h"

namespace cutrain::fuzz {
namespace {

constexpr const char* kPath = "fuzz/last.safetensors";

bool is_one_of(const std::string& v, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (n == v) return true;
  return false;
}

}  // namespace

void write_fuzz_seeds(const std::filesystem::path& dir) {
  app::TrainConfig c;
  // The first byte says which flags were given: none here.
  write_file(dir / "defaults", std::string(1, '\0') + app::run_config_json(c));
  c.model = "lenet-bn", c.optimizer = "adam", c.lr = 0.001, c.eps = 1e-7, c.batch_size = 64;
  c.scheduler = "cosine:max_update=20,warmup=2", c.schedule_unit = "step", c.resize = 32;
  c.train_limit = 512, c.drop_last = true, c.precise_bn = true, c.seed = 42;
  write_file(dir / "adam_cosine_longer", "\x01" + app::run_config_json(c));  // --epochs 12
  write_file(dir / "reject_lr_differs", "\x02" + app::run_config_json(c));   // --lr 0.3
  write_file(dir / "before_resize",
             std::string("\x00", 1) +
                 R"({"model":"lenet","optimizer":"sgd","lr":0.3,"momentum":0.9,"beta1":0.9,)"
                 R"("beta2":0.999,"gamma":0.9,"rho":0.9,"eps":null,"weight_decay":0.0,)"
                 R"("decay_biases":false,"clip_norm":0.0,"batch_size":256,"seed":0,)"
                 R"("train_limit":0,"scheduler":"","schedule_unit":"epoch","epochs":10})");
}

}  // namespace cutrain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cutrain;
  using namespace cutrain::fuzz;
  if (size == 0) return 0;
  app::TrainConfig given;
  given.resume_path = kPath;
  if (data[0] & 1) given.given.insert("epochs"), given.epochs = 12;
  if (data[0] & 2) given.given.insert("lr"), given.lr = 0.3;
  if (data[0] & 4) given.given.insert("batch-size"), given.batch_size = 64;
  const std::string json(reinterpret_cast<const char*>(data) + 1, size - 1);

  app::TrainConfig r;
  bool loaded = false;
  try {
    r = app::resumed_config(given, json, kPath);
    loaded = true;
  } catch (const DataError& e) {
    check(std::string(e.what()).find(kPath) != std::string::npos,
          std::string("rejection without the path: ") + e.what());
    ++rejections();
  } catch (const ConfigError& e) {
    check(std::string(e.what()).find("differs from the resumed run") != std::string::npos,
          std::string("a ConfigError that is not about a given flag: ") + e.what());
    ++rejections();
  } catch (const std::exception& e) {
    fail(std::string("unexpected exception: ") + e.what());
  }
  loads_or_rejects<DataError>(kPath, [&] {
    const int64_t resize = app::stored_resize(json, kPath);
    check(resize >= 0 && resize <= app::kMaxResize, "stored_resize out of range");
  });
  if (!loaded) return 0;

  check(is_one_of(r.model, model_names()), "unknown model '" + r.model + "' accepted");
  check(is_one_of(r.optimizer, optimizer_names()), "unknown optimizer accepted");
  check(r.batch_size >= 1 && r.batch_size <= app::kMaxBatchSize, "batch size out of range");
  check(r.epochs >= 1 && r.epochs <= app::kMaxEpochs, "epochs out of range");
  check(r.resize >= 0 && r.resize <= app::kMaxResize, "resize out of range");
  check(r.train_limit >= 0, "negative train limit");
  check(r.schedule_unit == "epoch" || r.schedule_unit == "step", "unknown schedule unit");
  check(std::isfinite(r.lr) && r.lr > 0, "lr not > 0");
  const bool valid = loads_or_rejects<ConfigError>("", [&] {
    validate_optimizer(r.optimizer, app::optimizer_options(r));
    if (!r.scheduler.empty()) make_scheduler(r.scheduler, r.lr);
  });
  check(valid, "an invalid optimizer or scheduler accepted");

  app::TrainConfig plain;
  plain.resume_path = kPath;
  const std::string stored = app::run_config_json(r);
  const bool again = loads_or_rejects<DataError>(kPath, [&] {
    check(app::run_config_json(app::resumed_config(plain, stored, kPath)) == stored,
          "storing and resuming changed the configuration");
  });
  check(again, "an accepted configuration, stored again, is rejected");
  return 0;
}
