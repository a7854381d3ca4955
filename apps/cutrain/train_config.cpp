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
          {"drop_last", c.drop_last},
          {"precise_bn", c.precise_bn},
          {"resize", c.resize},
          {"scheduler", c.scheduler},
          {"schedule_unit", c.schedule_unit}};
}

// Stored with the run but free to change on resume (train longer).
constexpr const char* kEpochs = "epochs";

}  // namespace

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
      r.epochs = stored.at(kEpochs).get<int64_t>();
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
    r.drop_last = stored.at("drop_last").get<bool>();
    r.precise_bn = stored.at("precise_bn").get<bool>();
    r.resize = stored.at("resize").get<int64_t>();
    r.scheduler = stored.at("scheduler").get<std::string>();
    r.schedule_unit = stored.at("schedule_unit").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": stored configuration is malformed: " + e.what());
  }
  return r;
}

int64_t stored_resize(const std::string& stored_json, const std::string& path) {
  try {
    const nlohmann::json stored = nlohmann::json::parse(stored_json);
    return stored.is_object() ? stored.value("resize", int64_t{0}) : 0;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": stored configuration is malformed: " + e.what());
  }
}

void check_cuda_only_flags(bool cuda_graph, bool data_on_device, const DeviceChoice& choice) {
  if (choice.device == Device::CUDA) return;
  const char* flag = cuda_graph ? "--cuda-graph" : data_on_device ? "--data-on-device" : nullptr;
  if (flag)
    throw ConfigError(std::string(flag) + " needs a CUDA device, but the run is on the CPU (" +
                      choice.reason + "); drop the flag or use --device cuda on a GPU machine");
}

}  // namespace cutrain::app
