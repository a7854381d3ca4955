#include "train_config.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/schedule/scheduler.h"

namespace cutrain::app {
namespace {

nlohmann::json to_json(const TrainConfig& c) {
  return {{"model", c.model},
          {"optimizer", c.optimizer},
          {"lr", c.lr},
          {"momentum", c.optim.momentum},
          {"beta1", c.optim.beta1},
          {"beta2", c.optim.beta2},
          {"gamma", c.optim.gamma},
          {"rho", c.optim.rho},
          {"eps", std::isnan(c.eps) ? nlohmann::json(nullptr) : nlohmann::json(c.eps)},
          {"weight_decay", c.optim.weight_decay},
          {"decay_biases", c.decay_biases},
          {"clip_norm", c.optim.clip_norm},
          {"batch_size", c.batch_size},
          {"seed", c.seed},
          {"train_limit", c.train_limit},
          {"drop_last", c.drop_last},
          {"precise_bn", c.precise_bn},
          {"resize", c.resize},
          {"scheduler", c.scheduler},
          {"schedule_unit", c.schedule_unit}};
}

// Stored with the run but free to change on resume (train longer).
constexpr const char* kEpochs = "epochs";

[[noreturn]] void stored_error(const std::string& path, const std::string& what) {
  throw DataError(path + ": stored configuration " + what);
}

// A count as the flags take it: a JSON integer in [lo, hi], lo >= 0 (a float would be cast to
// an integer, undefined behaviour when it is out of range).
uint64_t stored_count(const nlohmann::json& stored, const char* key, uint64_t lo, uint64_t hi,
                      const std::string& path) {
  const nlohmann::json& v = stored.at(key);
  if (!v.is_number_integer())
    stored_error(path, std::string("has ") + key + " " + v.dump() + ", expected a whole number");
  // Parsed text keeps integers >= 0 as unsigned, but a value set in code (the defaults filled
  // in for older runs) may be a signed one >= 0.
  const bool negative = !v.is_number_unsigned() && v.get<int64_t>() < 0;
  const uint64_t n = negative ? 0 : v.get<uint64_t>();
  if (negative || n < lo || n > hi)
    stored_error(path, std::string("has ") + key + " " + v.dump() + ", expected " +
                           std::to_string(lo) + " to " + std::to_string(hi));
  return n;
}

bool is_one_of(const std::string& v, const std::vector<std::string>& names) {
  return std::find(names.begin(), names.end(), v) != names.end();
}

// What the flags would have refused, refused in a stored configuration too: a damaged or
// hand-edited checkpoint must not reach the model with an unknown name, or the optimizer with
// a momentum of 7.
void check_stored_values(const TrainConfig& r, const std::string& path) {
  if (!is_one_of(r.model, model_names()))
    stored_error(path, "names an unknown model '" + r.model + "'");
  if (!is_one_of(r.optimizer, optimizer_names()))
    stored_error(path, "names an unknown optimizer '" + r.optimizer + "'");
  if (r.schedule_unit != "epoch" && r.schedule_unit != "step")
    stored_error(path, "has schedule_unit '" + r.schedule_unit + "', expected epoch or step");
  if (!(std::isfinite(r.lr) && r.lr > 0)) {
    char lr[32];
    std::snprintf(lr, sizeof lr, "%.9g", r.lr);
    stored_error(path, std::string("has lr ") + lr + ", expected a number > 0");
  }
  try {
    validate_optimizer(r.optimizer, optimizer_options(r));
    if (!r.scheduler.empty()) make_scheduler(r.scheduler, r.lr);
  } catch (const ConfigError& e) {
    stored_error(path, std::string("is invalid: ") + e.what());
  }
}

}  // namespace

OptimizerOptions optimizer_options(const TrainConfig& c) {
  OptimizerOptions options = c.optim;
  options.lr = c.lr;  // resolved by run_train (adadelta's default is 1)
  if (!std::isnan(c.eps)) options.eps = c.eps;
  return options;
}

std::string run_config_json(const TrainConfig& c) {
  nlohmann::json j = to_json(c);
  j[kEpochs] = c.epochs;
  return j.dump();
}

TrainConfig resumed_config(const TrainConfig& c, const std::string& stored_json,
                           const std::string& path) {
  nlohmann::json stored;
  try {
    stored = nlohmann::json::parse(stored_json);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": stored configuration is not JSON: " + e.what());
  }
  if (stored.is_object()) {  // runs from before these flags
    if (!stored.contains("resize")) stored["resize"] = 0;
    if (!stored.contains("drop_last")) stored["drop_last"] = false;
    if (!stored.contains("precise_bn")) stored["precise_bn"] = false;
  }
  const nlohmann::json mine = to_json(c);
  for (auto it = mine.begin(); it != mine.end(); ++it) {
    if (!stored.contains(it.key()))
      throw DataError(path + ": stored configuration lacks '" + it.key() + "'");
    std::string flag = it.key();
    for (char& ch : flag)
      if (ch == '_') ch = '-';
    if (c.given.count(flag) && stored[it.key()] != it.value())
      throw ConfigError("--" + flag + " " + it.value().dump() + " differs from the resumed run's " +
                        stored[it.key()].dump() + " (" + path +
                        "); a resumed run keeps its configuration");
  }
  TrainConfig r = c;
  try {
    if (!c.given.count(kEpochs) && stored.contains(kEpochs))
      r.epochs = static_cast<int64_t>(stored_count(stored, kEpochs, 1, kMaxEpochs, path));
    r.model = stored.at("model").get<std::string>();
    r.optimizer = stored.at("optimizer").get<std::string>();
    r.lr = stored.at("lr").get<double>();
    r.optim.momentum = stored.at("momentum").get<double>();
    r.optim.beta1 = stored.at("beta1").get<double>();
    r.optim.beta2 = stored.at("beta2").get<double>();
    r.optim.gamma = stored.at("gamma").get<double>();
    r.optim.rho = stored.at("rho").get<double>();
    r.eps = stored.at("eps").is_null() ? std::nan("") : stored.at("eps").get<double>();
    r.optim.weight_decay = stored.at("weight_decay").get<double>();
    r.decay_biases = stored.at("decay_biases").get<bool>();
    r.optim.clip_norm = stored.at("clip_norm").get<double>();
    r.batch_size = static_cast<int64_t>(stored_count(stored, "batch_size", 1, kMaxBatchSize, path));
    r.seed = stored_count(stored, "seed", 0, UINT64_MAX, path);
    r.train_limit = static_cast<int64_t>(stored_count(stored, "train_limit", 0, INT64_MAX, path));
    r.drop_last = stored.at("drop_last").get<bool>();
    r.precise_bn = stored.at("precise_bn").get<bool>();
    r.resize = static_cast<int64_t>(stored_count(stored, "resize", 0, kMaxResize, path));
    r.scheduler = stored.at("scheduler").get<std::string>();
    r.schedule_unit = stored.at("schedule_unit").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": stored configuration is malformed: " + e.what());
  }
  check_stored_values(r, path);
  return r;
}

int64_t stored_resize(const std::string& stored_json, const std::string& path) {
  try {
    const nlohmann::json stored = nlohmann::json::parse(stored_json);
    if (!stored.is_object() || !stored.contains("resize")) return 0;
    return static_cast<int64_t>(stored_count(stored, "resize", 0, kMaxResize, path));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": stored configuration is malformed: " + e.what());
  }
}

Sequential stored_model(const std::string& name, const Shape& sample, const std::string& path) {
  try {
    return make_model(name, sample);
  } catch (const ConfigError& e) {
    throw DataError(path + ": the checkpoint's model cannot be built: " + e.what());
  }
}

void check_cuda_only_flags(const CudaOnlyFlags& f, const DeviceChoice& choice) {
  if (choice.device == Device::CUDA) return;
  const char* flag = f.cuda_graph       ? "--cuda-graph"
                     : f.data_on_device ? "--data-on-device"
                     : f.tf32           ? "--tf32"
                                        : nullptr;
  if (flag)
    throw ConfigError(std::string(flag) + " needs a CUDA device, but the run is on the CPU (" +
                      choice.reason + "); drop the flag or use --device cuda on a GPU machine");
}

}  // namespace cutrain::app
