#include "train_config.h"

#include <nlohmann/json.hpp>

#include "cutrain/error.h"

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
          {"scheduler", c.scheduler},
          {"schedule_unit", c.schedule_unit}};
}

}  // namespace

std::string run_config_json(const TrainConfig& c) { return to_json(c).dump(); }

TrainConfig resumed_config(const TrainConfig& c, const std::string& stored_json,
                           const std::string& path) {
  nlohmann::json stored;
  try {
    stored = nlohmann::json::parse(stored_json);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": stored configuration is not JSON: " + e.what());
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
    r.batch_size = stored.at("batch_size").get<int64_t>();
    r.seed = stored.at("seed").get<uint64_t>();
    r.train_limit = stored.at("train_limit").get<int64_t>();
    r.scheduler = stored.at("scheduler").get<std::string>();
    r.schedule_unit = stored.at("schedule_unit").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": stored configuration is malformed: " + e.what());
  }
  return r;
}

}  // namespace cutrain::app
