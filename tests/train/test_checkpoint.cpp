// Checkpoints: what save_checkpoint writes comes back exactly, and every bad checkpoint is a
// DataError naming the file that leaves the target model, optimizer and scheduler untouched.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/io/safetensors.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/pooling.h"
#include "cutrain/models/registry.h"
#include "cutrain/train/checkpoint.h"
#include "cutrain/train/trainer.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::Contains;
using test::data_error_message;
using test::file_contents;

std::vector<std::vector<float>> weights(Sequential& net) {
  std::vector<std::vector<float>> out;
  for (const NamedTensor& t : net.state_tensors()) out.push_back(t.tensor->to_vector());
  return out;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A trained LeNet with adam (non-zero moments) and a plateau scheduler that has reduced once.
struct Job {
  Context ctx{Device::CPU};
  Sequential net;
  std::unique_ptr<Optimizer> opt;
  std::unique_ptr<Scheduler> sched;

  Job(const std::string& optimizer, uint64_t seed, int64_t train_epochs) {
    net = make_model("lenet");
    net.build({1, 28, 28}, 32, Device::CPU, seed);
    opt = make_optimizer(optimizer, net.parameters(), 0.01, ctx);
    sched = make_scheduler("plateau:patience=2,factor=0.5", 0.01);
    if (train_epochs > 0) {
      static const data::ImageDataset train = test::separable_images(96, 1);
      static const data::ImageDataset held = test::separable_images(32, 2);
      TrainerOptions o;
      o.batch_size = 32;
      o.seed = seed;
      Trainer trainer(net, *opt, ctx, train, held, o);
      for (int64_t e = 1; e <= train_epochs; ++e) trainer.train_epoch(e);
      // best 1.0; three bad epochs halve the rate; one more bad epoch is pending
      for (double metric : {2.0, 1.0, 1.5, 1.2, 1.1, 1.3}) sched->observe(metric);
    }
  }
  void save(const std::string& path, int64_t epoch = 4) {
    save_checkpoint(path, {"lenet", epoch, R"({"lr":0.01,"seed":5})"}, net, opt.get(), sched.get(),
                    ctx);
  }
};

// What a failed load must leave exactly as it was.
struct Snapshot {
  std::vector<std::vector<float>> weights;
  OptimizerState opt;
  SchedulerState sched;
  explicit Snapshot(Job& r)
      : weights(cutrain::weights(r.net)), opt(r.opt->save_state(r.ctx)), sched(r.sched->state()) {}
  void expect_unchanged(Job& r) const {
    EXPECT_EQ(cutrain::weights(r.net), weights) << "model weights changed";
    const OptimizerState now = r.opt->save_state(r.ctx);
    EXPECT_EQ(now.steps, opt.steps) << "optimizer step count changed";
    EXPECT_EQ(now.tensors, opt.tensors) << "optimizer state changed";
    EXPECT_EQ(r.sched->state(), sched) << "scheduler state changed";
  }
};

class Checkpoint : public ::testing::Test {
 protected:
  test::TempDir dir_;
  std::string path_ = dir_.file("ckpt.safetensors");
};

TEST_F(Checkpoint, RoundTripRestoresWeightsOptimizerAndScheduler) {
  Job a("adam", 3, 1);
  const OptimizerState saved = a.opt->save_state(a.ctx);
  ASSERT_GT(saved.steps, 0);
  ASSERT_FALSE(saved.tensors.empty());
  bool nonzero = false;
  for (const auto& [name, values] : saved.tensors)
    for (float v : values) nonzero = nonzero || v != 0.0f;
  ASSERT_TRUE(nonzero) << "adam's moments should be non-zero after training";
  ASSERT_EQ(a.sched->state().at("bad_epochs"), 1.0);
  ASSERT_DOUBLE_EQ(a.sched->lr(0), 0.005);  // halved once by the observations
  a.save(path_);

  Job b("adam", 99, 0);  // other initial weights, fresh optimizer and scheduler
  ASSERT_NE(weights(b.net), weights(a.net));
  const CheckpointInfo info = load_checkpoint(path_, b.net, b.opt.get(), b.sched.get(), b.ctx);
  EXPECT_EQ(info.model, "lenet");
  EXPECT_EQ(info.epoch, 4);
  EXPECT_EQ(info.config_json, R"({"lr":0.01,"seed":5})");
  EXPECT_EQ(weights(b.net), weights(a.net));
  const OptimizerState restored = b.opt->save_state(b.ctx);
  EXPECT_EQ(restored.steps, saved.steps);
  EXPECT_EQ(restored.tensors, saved.tensors);
  EXPECT_EQ(b.sched->state(), a.sched->state());
  EXPECT_EQ(b.sched->lr(0), a.sched->lr(0));

  const CheckpointInfo only = read_checkpoint_info(path_);
  EXPECT_EQ(only.model, "lenet");
  EXPECT_EQ(only.epoch, 4);
  EXPECT_EQ(only.config_json, info.config_json);
}

TEST_F(Checkpoint, FileIsPlainSafetensorsWithStateDictNames) {
  Job a("adam", 3, 1);
  a.save(path_);
  const SafetensorsFile f = read_safetensors(path_);
  EXPECT_EQ(f.metadata.at("format"), "cutrain-checkpoint-1");
  EXPECT_EQ(f.metadata.at("model"), "lenet");
  EXPECT_EQ(f.metadata.at("epoch"), "4");
  EXPECT_EQ(f.metadata.at("optimizer"), "adam");
  ASSERT_NE(f.find("0.weight"), nullptr);
  EXPECT_EQ(f.find("0.weight")->shape, (Shape{6, 1, 5, 5}));
  ASSERT_NE(f.find("11.bias"), nullptr);
  EXPECT_EQ(f.find("11.bias")->values, a.net.parameters().back().value->to_vector());
  for (const auto& [name, values] : a.opt->save_state(a.ctx).tensors) {
    const NamedArray* t = f.find("optimizer." + name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->values, values) << name;
  }
}

TEST_F(Checkpoint, ModelWithOtherShapesIsRejected) {
  Job a("adam", 3, 1);
  a.save(path_);
  // LeNet with 100 instead of 120 hidden units: same names, other shapes from "7.weight" on.
  Job b("adam", 5, 0);
  b.opt.reset();  // it refers to the parameters of the net replaced here
  b.net = Sequential();
  b.net.add(std::make_unique<Conv2d>(Conv2dOptions{1, 6, 5, 1, 2}))
      .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
      .add(MaxPool2d(2, 2))
      .add(std::make_unique<Conv2d>(Conv2dOptions{6, 16, 5, 1, 0}))
      .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
      .add(MaxPool2d(2, 2))
      .add(std::make_unique<Flatten>())
      .add(std::make_unique<Linear>(400, 100))
      .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
      .add(std::make_unique<Linear>(100, 84))
      .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
      .add(std::make_unique<Linear>(84, 10));
  b.net.build({1, 28, 28}, 32, Device::CPU, 5);
  b.opt = make_optimizer("adam", b.net.parameters(), 0.01, b.ctx);
  const Snapshot before(b);
  const std::string msg =
      data_error_message([&] { load_checkpoint(path_, b.net, b.opt.get(), b.sched.get(), b.ctx); });
  EXPECT_TRUE(Contains(msg, path_));
  EXPECT_TRUE(Contains(msg, "'7.weight'"));
  EXPECT_TRUE(Contains(msg, "[120, 400]"));
  EXPECT_TRUE(Contains(msg, "'lenet'"));
  before.expect_unchanged(b);
}

TEST_F(Checkpoint, ModelWithOtherTensorsIsRejected) {
  Job a("adam", 3, 1);
  a.save(path_);
  Context ctx(Device::CPU);
  Sequential bn = make_model("lenet-bn");  // BatchNorm after the first convolution: "1.weight"
  bn.build({1, 28, 28}, 32, Device::CPU, 1);
  const auto before = weights(bn);
  const std::string msg =
      data_error_message([&] { load_checkpoint(path_, bn, nullptr, nullptr, ctx); });
  EXPECT_TRUE(Contains(msg, path_));
  EXPECT_TRUE(Contains(msg, "'lenet'"));
  EXPECT_TRUE(Contains(msg, "tensor '"));
  EXPECT_EQ(weights(bn), before);
}

TEST_F(Checkpoint, TruncatedFileIsRejected) {
  Job a("adam", 3, 1);
  a.save(path_);
  const std::string bytes = file_contents(path_);
  const std::string cut = dir_.file("cut.safetensors");
  write_bytes(cut, bytes.substr(0, bytes.size() / 2));
  Job b("adam", 8, 1);
  const Snapshot before(b);
  const std::string msg =
      data_error_message([&] { load_checkpoint(cut, b.net, b.opt.get(), b.sched.get(), b.ctx); });
  EXPECT_TRUE(Contains(msg, cut));
  before.expect_unchanged(b);
  EXPECT_TRUE(Contains(data_error_message([&] { read_checkpoint_info(cut); }), cut));
}

TEST_F(Checkpoint, SafetensorsWithoutFormatIsNotACheckpoint) {
  Job a("adam", 3, 1);
  a.save(path_);
  SafetensorsFile f = read_safetensors(path_);
  f.metadata.erase("format");
  const std::string other = dir_.file("plain.safetensors");
  write_safetensors(other, f);
  Job b("adam", 8, 1);
  const Snapshot before(b);
  const std::string msg =
      data_error_message([&] { load_checkpoint(other, b.net, b.opt.get(), b.sched.get(), b.ctx); });
  EXPECT_TRUE(Contains(msg, other));
  EXPECT_TRUE(Contains(msg, "not a cutrain checkpoint"));
  before.expect_unchanged(b);
  EXPECT_TRUE(Contains(data_error_message([&] { read_checkpoint_info(other); }), "not a cutrain"));
}

TEST_F(Checkpoint, OtherOptimizerIsRejected) {
  Job a("adam", 3, 1);
  a.save(path_);
  Job b("sgd", 8, 1);
  const Snapshot before(b);
  const std::string msg =
      data_error_message([&] { load_checkpoint(path_, b.net, b.opt.get(), b.sched.get(), b.ctx); });
  EXPECT_TRUE(Contains(msg, path_));
  EXPECT_TRUE(Contains(msg, "adam"));
  EXPECT_TRUE(Contains(msg, "sgd"));
  before.expect_unchanged(b);
}

TEST_F(Checkpoint, DamagedOptimizerTensorChangesNothing) {
  // A file whose optimizer tensor lost values: caught by the optimizer's own check, which must
  // still come before the scheduler (or anything else) is changed, and name the file.
  Job a("adam", 3, 1);
  a.save(path_);
  SafetensorsFile f = read_safetensors(path_);
  const std::string name = "optimizer." + a.opt->save_state(a.ctx).tensors.front().first;
  bool found = false;
  for (NamedArray& t : f.tensors)
    if (t.name == name) {
      t.values.pop_back();
      t.shape = {static_cast<int64_t>(t.values.size())};
      found = true;
    }
  ASSERT_TRUE(found) << name;
  write_safetensors(path_, f);
  Job b("adam", 8, 1);
  b.sched->observe(0.1);  // a scheduler state unlike the file's
  const Snapshot before(b);
  const std::string msg =
      data_error_message([&] { load_checkpoint(path_, b.net, b.opt.get(), b.sched.get(), b.ctx); });
  EXPECT_TRUE(Contains(msg, path_));
  EXPECT_TRUE(Contains(msg, name.substr(std::string("optimizer.").size())));
  before.expect_unchanged(b);
}

TEST_F(Checkpoint, MissingSchedulerStateIsADataErrorNamingTheFile) {
  Job a("adam", 3, 1);
  save_checkpoint(path_, {"lenet", 1, "{}"}, a.net, a.opt.get(), nullptr, a.ctx);
  Job b("adam", 8, 1);
  const Snapshot before(b);
  const std::string msg =
      data_error_message([&] { load_checkpoint(path_, b.net, b.opt.get(), b.sched.get(), b.ctx); });
  EXPECT_TRUE(Contains(msg, path_));
  before.expect_unchanged(b);
}

TEST_F(Checkpoint, OverwritingLeavesOneCompleteFile) {
  Job a("adam", 3, 1);
  a.save(path_, 1);
  a.save(path_, 2);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    ++files;
    EXPECT_EQ(e.path().string(), path_);
  }
  EXPECT_EQ(files, 1);
  EXPECT_EQ(read_checkpoint_info(path_).epoch, 2);
}

// Damage past the file format: a well-formed safetensors file whose content is wrong for the
// target (a tensor missing, renamed or reshaped; bad or missing metadata). Each either loads or
// is a DataError naming the file that leaves weights, optimizer and scheduler as they were;
// the byte-level fuzz (test_idx_fuzz.cpp) mostly stops in the decoder, before these checks.
// A checkpoint saved without a scheduler, loaded by a run whose scheduler has state: the
// message says so, instead of naming a missing key of that state.
TEST_F(Checkpoint, MissingSchedulerStateIsNamed) {
  Job a("adam", 3, 1);
  a.save(path_);
  SafetensorsFile f = read_safetensors(path_);
  f.metadata.erase("scheduler_state");
  write_safetensors(path_, f);
  Job b("adam", 8, 1);
  const std::string msg =
      data_error_message([&] { load_checkpoint(path_, b.net, b.opt.get(), b.sched.get(), b.ctx); });
  EXPECT_TRUE(Contains(msg, path_ + ": holds no scheduler state")) << msg;
  EXPECT_TRUE(Contains(msg, "plateau")) << msg;
}

TEST_F(Checkpoint, StructuredDamageIsRejectedBeforeAnythingChanges) {
  Job a("adam", 3, 1);
  a.save(path_);
  const SafetensorsFile good = read_safetensors(path_);
  std::vector<std::pair<std::string, std::function<void(SafetensorsFile&)>>> damage;
  for (size_t i = 0; i < good.tensors.size(); ++i) {
    const std::string name = good.tensors[i].name;
    damage.push_back({"drop " + name, [i](SafetensorsFile& f) {
                        f.tensors.erase(f.tensors.begin() + static_cast<std::ptrdiff_t>(i));
                      }});
    damage.push_back({"rename " + name, [i](SafetensorsFile& f) { f.tensors[i].name += "_x"; }});
    damage.push_back({"reshape " + name, [i](SafetensorsFile& f) {
                        f.tensors[i].shape = {static_cast<int64_t>(f.tensors[i].values.size()),
                                              1};  // same count
                      }});
    damage.push_back({"grow " + name, [i](SafetensorsFile& f) {
                        f.tensors[i].values.push_back(0.5f);
                        f.tensors[i].shape = {static_cast<int64_t>(f.tensors[i].values.size())};
                      }});
  }
  const std::pair<const char*, const char*> bad_metadata[] = {
      {"epoch", "abc"},
      {"epoch", "-1"},
      {"epoch", ""},
      {"epoch", "99999999999999999999999"},
      {"optimizer", "sgd"},
      {"optimizer_steps", "x"},
      {"optimizer_steps", "-5"},
      {"scheduler_state", "{"},
      {"scheduler_state", "[1, 2]"},
      {"scheduler_state", "{}"},
      {"scheduler_state", R"({"current_lr": "x", "best": 1, "bad_epochs": 0})"},
      {"scheduler_state", R"({"current_lr": -1, "best": 1, "bad_epochs": 0})"},
      {"scheduler_state", R"({"current_lr": 0.1, "best": 1, "bad_epochs": 1.5})"},
      {"scheduler_state", R"({"current_lr": 0.1, "best": 1, "bad_epochs": -1})"}};
  // (A wrong "model" entry with the right tensors loads: the tensors are what is checked, and
  // the model name only serves messages and `cutrain eval`, which builds the model from it.)
  for (const auto& [key, value] : bad_metadata) {
    const std::string k = key, v = value;
    damage.push_back({k + " = '" + v + "'", [k, v](SafetensorsFile& f) { f.metadata[k] = v; }});
  }
  for (const char* key : {"model", "epoch", "optimizer", "optimizer_steps", "scheduler_state"}) {
    const std::string k = key;
    damage.push_back({"no " + k, [k](SafetensorsFile& f) { f.metadata.erase(k); }});
  }

  int rejected = 0;
  std::vector<std::string> loaded;
  const std::string path = dir_.file("damaged.safetensors");
  for (const auto& [what, apply] : damage) {
    SCOPED_TRACE(what);
    SafetensorsFile f = good;
    apply(f);
    write_safetensors(path, f);
    Job b("adam", 8, 1);
    b.sched->observe(0.1);  // a scheduler state unlike the file's
    const Snapshot before(b);
    try {
      load_checkpoint(path, b.net, b.opt.get(), b.sched.get(), b.ctx);
      loaded.push_back(what);
    } catch (const DataError& e) {
      ++rejected;
      EXPECT_TRUE(Contains(e.what(), path));
      before.expect_unchanged(b);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a DataError: " << e.what();
    }
  }
  // Every tensor matters and every metadata entry above is wrong or required, so nothing loads.
  EXPECT_EQ(rejected, static_cast<int>(damage.size()))
      << "loaded: " << ::testing::PrintToString(loaded);
}

// Files written before 2026-12-03 keep optimizer slots flat ([numel]); they still load, and
// restore the same state.
TEST_F(Checkpoint, FlatOptimizerSlotsOfOlderFilesLoad) {
  Job a("adam", 3, 1);
  a.save(path_);
  SafetensorsFile f = read_safetensors(path_);
  int flattened = 0;
  for (NamedArray& t : f.tensors)
    if (t.name.rfind("optimizer.", 0) == 0 && t.shape.size() > 1) {
      t.shape = {static_cast<int64_t>(t.values.size())};
      ++flattened;
    }
  ASSERT_GT(flattened, 0) << "slots are written in their parameter's shape";
  write_safetensors(path_, f);
  Job b("adam", 8, 1);
  load_checkpoint(path_, b.net, b.opt.get(), b.sched.get(), b.ctx);
  EXPECT_EQ(b.opt->save_state(b.ctx).tensors, a.opt->save_state(a.ctx).tensors);
  EXPECT_EQ(weights(b.net), weights(a.net));
}

// A save that fails (here: the temporary file's name is taken by a directory) keeps the last
// good checkpoint byte for byte and names the file.
TEST_F(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  Job a("adam", 3, 1);
  a.save(path_, 1);
  const std::string before = test::file_contents(path_);
  std::filesystem::create_directory(path_ + ".tmp");
  const std::string msg = data_error_message([&] { a.save(path_, 2); });
  EXPECT_TRUE(Contains(msg, path_));
  EXPECT_EQ(test::file_contents(path_), before);
  EXPECT_EQ(read_checkpoint_info(path_).epoch, 1);
}

}  // namespace
}  // namespace cutrain
