#include "cutrain/models/sequential.h"

#include <sstream>

#include "cutrain/error.h"
#include "cutrain/models/activation.h"
#include "nvtx_range.h"

namespace cutrain {

Sequential& Sequential::add(std::unique_ptr<Layer> layer) {
  if (built_) throw ConfigError("Sequential: cannot add a layer after build()");
  layers_.push_back(std::move(layer));
  return *this;
}

void Sequential::set_fuse_activations(bool on) {
  if (built_) throw ConfigError("Sequential: set_fuse_activations() after build()");
  fuse_activations_ = on;
}

void Sequential::build(const Shape& sample_shape, int64_t max_batch, Device device,
                       uint64_t seed) {
  if (built_) throw ConfigError("Sequential: build() called twice");
  if (layers_.empty()) throw ConfigError("Sequential: no layers");
  if (max_batch <= 0) throw ConfigError("batch size must be positive");
  Rng rng(seed);
  max_batch_ = max_batch;
  device_ = device;
  Shape in{max_batch};
  in.insert(in.end(), sample_shape.begin(), sample_shape.end());
  shapes_ = {in};
  for (auto& layer : layers_) shapes_.push_back(layer->build(shapes_.back(), device, rng));
  const size_t n = layers_.size();
  absorbed_.assign(n, false);
  for (size_t i = 1; fuse_activations_ && i < n; ++i) {
    const auto* act = dynamic_cast<const ActivationLayer*>(layers_[i].get());
    if (act != nullptr && !absorbed_[i - 1] && layers_[i - 1]->absorb_activation(act->activation()))
      absorbed_[i] = true;
  }

  // Activations: reshape layers, and activation layers absorbed by the layer before them,
  // alias their input's storage (and their input gradient their output gradient) instead of
  // owning a copy: the absorbing layer writes the activated output and takes its gradient.
  acts_.resize(n + 1);
  grads_.resize(n + 1);
  for (size_t i = 1; i <= n; ++i) {
    const bool alias = (layers_[i - 1]->is_reshape() && i >= 2) || absorbed_[i - 1];
    acts_[i] = alias ? acts_[i - 1].view(shapes_[i]) : Tensor(shapes_[i], device);
  }
  for (size_t i = n + 1; i-- > 1;) {
    const bool alias = i < n && (layers_[i]->is_reshape() || absorbed_[i]);
    grads_[i] = alias ? grads_[i + 1].view(shapes_[i]) : Tensor(shapes_[i], device);
  }
  act_views_.resize(n + 1);
  grad_views_.resize(n + 1);
  for (size_t i = 0; i < n; ++i) {
    std::string id = std::to_string(i) + "." + layers_[i]->kind();
    if (i + 1 < n && absorbed_[i + 1]) id += "+" + layers_[i + 1]->kind();
    fwd_names_.push_back("fwd/" + id);
    bwd_names_.push_back("bwd/" + id);
  }
  built_ = true;
}

const Tensor& Sequential::forward(const Tensor& x, Context& ctx) {
  if (!built_) throw ConfigError("Sequential: forward() before build()");
  const size_t n = layers_.size();
  if (x.rank() != static_cast<int>(shapes_[0].size()) || x.dim(0) > max_batch_ || x.dim(0) < 1 ||
      !std::equal(shapes_[0].begin() + 1, shapes_[0].end(), x.shape().begin() + 1))
    throw ConfigError("model input: expected [<=" + std::to_string(max_batch_) + ", ...] like " +
                      to_string(shapes_[0]) + ", got " + to_string(x.shape()));
  if (x.device() != device_) throw ConfigError("model input is on the wrong device");
  batch_ = x.dim(0);
  act_views_[0] = x.view(x.shape());
  for (size_t i = 1; i <= n; ++i) {
    act_views_[i] = acts_[i].narrow_batch(batch_);
    grad_views_[i] = grads_[i].narrow_batch(batch_);
  }
  for (size_t i = 0; i < n; ++i) {
    Layer& layer = *layers_[i];
    if (layer.is_reshape() && i == 0) {
      act_views_[1].copy_from(act_views_[0], ctx.stream());  // nothing earlier to alias
      continue;
    }
    if (absorbed_[i]) continue;  // applied by layer i - 1
    const detail::NvtxRange range(fwd_names_[i]);
    if (hook_) hook_(i, false, false);
    layer.forward(act_views_[i], act_views_[i + 1], ctx);
    if (hook_) hook_(i, false, true);
  }
  out_view_ = act_views_[n].view(act_views_[n].shape());
  dout_view_ = grad_views_[n].view(grad_views_[n].shape());
  return out_view_;
}

void Sequential::backward(Context& ctx) {
  if (batch_ == 0) throw ConfigError("Sequential: backward() before forward()");
  const size_t n = layers_.size();
  for (size_t i = n; i-- > 0;) {
    Layer& layer = *layers_[i];
    Tensor* dx = i > 0 ? &grad_views_[i] : nullptr;
    // Its input gradient aliases its output gradient; an absorbed activation's backward is
    // part of the layer before it.
    if (layer.is_reshape() || absorbed_[i]) continue;
    const detail::NvtxRange range(bwd_names_[i]);
    if (hook_) hook_(i, true, false);
    layer.backward(act_views_[i], act_views_[i + 1], grad_views_[i + 1], dx, ctx);
    if (hook_) hook_(i, true, true);
  }
}

std::vector<Parameter> Sequential::parameters() {
  std::vector<Parameter> all;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (Parameter p : layers_[i]->parameters()) {
      p.name = std::to_string(i) + "." + p.name;
      all.push_back(p);
    }
  return all;
}

std::vector<NamedTensor> Sequential::state_tensors() {
  std::vector<NamedTensor> all;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::string prefix = std::to_string(i) + ".";
    for (const Parameter& p : layers_[i]->parameters()) all.push_back({prefix + p.name, p.value});
    for (const NamedTensor& b : layers_[i]->buffers()) all.push_back({prefix + b.name, b.tensor});
  }
  return all;
}

int64_t Sequential::parameter_count() {
  int64_t count = 0;
  for (const Parameter& p : parameters()) count += p.value->numel();
  return count;
}

void Sequential::set_cumulative_statistics(bool on) {
  for (auto& layer : layers_) layer->set_cumulative_statistics(on);
}

void Sequential::set_training(bool training) {
  for (auto& layer : layers_) layer->set_training(training);
}

std::string Sequential::summary() const {
  std::ostringstream out;
  for (size_t i = 0; i < layers_.size(); ++i) {
    int64_t params = 0;
    for (const Parameter& p : layers_[i]->parameters()) params += p.value->numel();
    out << i << "  " << layers_[i]->kind() << "  output " << to_string(shapes_[i + 1])
        << "  params " << params;
    if (absorbed(i)) out << "  (applied by " << i - 1 << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace cutrain
