#include "train/input_stage.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "cutrain/data/fingerprint.h"
#include "cutrain/error.h"

#if CUTRAIN_WITH_CUDA
#include "batch_gather.h"
#include "cuda/buffers.h"
#include "cuda/check.h"
#endif

namespace cutrain::detail {
namespace {

class HostInput final : public InputStage {
 public:
  int64_t stage(const data::BatchLoader& loader, int64_t b, float* images, float* labels,
                Context&) override {
    return loader.fill(b, images, labels);
  }
};

#if CUTRAIN_WITH_CUDA

class PinnedInput final : public InputStage {
 public:
  static constexpr int kSlots = 3;

  PinnedInput(int64_t max_batch, int64_t pixels) : pixels_(pixels) {
    const auto image_bytes = static_cast<size_t>(max_batch * pixels);
    const auto label_bytes = static_cast<size_t>(max_batch);
    for (Slot& s : slots_) {
      s.host_images = PinnedBuffer(image_bytes);
      s.host_labels = PinnedBuffer(label_bytes);
      s.device_images = DeviceBuffer(image_bytes);
      s.device_labels = DeviceBuffer(label_bytes);
    }
  }

  ~PinnedInput() override {
    // Copies in flight on the copy stream read the pinned buffers freed next, and gathers on the
    // compute stream (not known here) read the device slots: wait for both.
    CUTRAIN_CUDA_LOG(cudaDeviceSynchronize());
  }

  int64_t stage(const data::BatchLoader& loader, int64_t b, float* images, float* labels,
                Context& ctx) override {
    if (loader.dataset().image_size() != pixels_)
      throw ConfigError("input pipeline: " + loader.dataset().source + " has images of " +
                        std::to_string(loader.dataset().image_size()) + " pixels, built for " +
                        std::to_string(pixels_));
    Slot& s = slots_[next_];
    next_ = (next_ + 1) % kSlots;
    if (s.used) s.copied.synchronize();  // the host buffer's last copy has been read
    const int64_t n = loader.fill_raw(b, s.host_images.as<uint8_t>(), s.host_labels.as<uint8_t>());
    cudaStream_t copy = copy_stream_.get();
    if (s.used) s.converted.enqueue_wait(copy);  // the device slot's last batch was converted
    CUTRAIN_CUDA_CHECK(cudaMemcpyAsync(s.device_images.as<uint8_t>(), s.host_images.as<uint8_t>(),
                                       static_cast<size_t>(n * pixels_), cudaMemcpyHostToDevice,
                                       copy));
    CUTRAIN_CUDA_CHECK(cudaMemcpyAsync(s.device_labels.as<uint8_t>(), s.host_labels.as<uint8_t>(),
                                       static_cast<size_t>(n), cudaMemcpyHostToDevice, copy));
    s.copied.record(copy);
    s.copied.enqueue_wait(ctx.stream());
    kernels::launch_gather_batch(s.device_images.as<uint8_t>(), s.device_labels.as<uint8_t>(),
                                 nullptr, n, pixels_, images, labels, ctx.stream());
    s.converted.record(ctx.stream());
    s.used = true;
    return n;
  }

 private:
  struct Slot {
    PinnedBuffer host_images, host_labels;
    DeviceBuffer device_images, device_labels;
    Event copied{false}, converted{false};
    bool used = false;
  };
  int64_t pixels_;
  Stream copy_stream_;
  Slot slots_[kSlots];
  int next_ = 0;
};

class ResidentInput final : public InputStage {
 public:
  ~ResidentInput() override {
    // Gathers and shuffles queued on the compute stream (not known here) read the buffers freed
    // next: wait for them rather than rely on cudaFree's implicit synchronisation.
    CUTRAIN_CUDA_LOG(cudaDeviceSynchronize());
  }

  int64_t stage(const data::BatchLoader& loader, int64_t b, float* images, float* labels,
                Context& ctx) override {
    // A pass starts at batch 0: check there that the data set is still the one uploaded.
    const Resident& r = resident(loader.dataset(), /*verify=*/b == 0, ctx);
    const int64_t n = loader.batch_examples(b);
    const int64_t first = b * loader.batch_size();
    const int64_t pixels = loader.dataset().image_size();
    if (!loader.shuffles()) {  // the identity order: batch b is a contiguous range
      kernels::launch_gather_batch(r.images.as<uint8_t>() + first * pixels,
                                   r.labels.as<uint8_t>() + first, nullptr, n, pixels, images,
                                   labels, ctx.stream());
      return n;
    }
    const int32_t* order = epoch_order(loader, ctx);
    kernels::launch_gather_batch(r.images.as<uint8_t>(), r.labels.as<uint8_t>(), order + first,
                                 n, pixels, images, labels, ctx.stream());
    return n;
  }

 private:
  // One uploaded data set. Found by where the data set and its images live, and checked
  // against a content fingerprint at the start of every pass: a data set destroyed and another
  // built at its address, or one changed in place, is uploaded anew.
  struct Resident {
    const data::ImageDataset* dataset;
    const uint8_t* host_images;
    int64_t count;
    uint64_t fingerprint;
    uint64_t last_use;
    DeviceBuffer images, labels;
  };
  // Training needs two (train and test); a third evicts the least recently used, so uploads of
  // data sets that are gone do not pile up on the device.
  static constexpr size_t kMaxResident = 2;

  const Resident& resident(const data::ImageDataset& d, bool verify, Context& ctx) {
    ++uses_;
    auto same_place = [&](const Resident& r) {
      return r.dataset == &d && r.host_images == d.images.data() && r.count == d.count;
    };
    auto it = std::find_if(resident_.begin(), resident_.end(), same_place);
    if (it != resident_.end()) {
      if (!verify || it->fingerprint == data::dataset_fingerprint(d)) {
        it->last_use = uses_;
        return *it;
      }
      drop(it, ctx);  // the same place holds other data now
    }
    if (d.count >= (int64_t{1} << 31))
      throw ConfigError("--data-on-device: " + d.source + " has more than 2^31 examples");
    if (resident_.size() >= kMaxResident)
      drop(std::min_element(resident_.begin(), resident_.end(),
                            [](const Resident& a, const Resident& b) {
                              return a.last_use < b.last_use;
                            }),
           ctx);
    Resident r{&d,
               d.images.data(),
               d.count,
               data::dataset_fingerprint(d),
               uses_,
               DeviceBuffer(d.images.size()),
               DeviceBuffer(d.labels.size())};
    CUTRAIN_CUDA_CHECK(cudaMemcpyAsync(r.images.as<uint8_t>(), d.images.data(), d.images.size(),
                                       cudaMemcpyHostToDevice, ctx.stream()));
    CUTRAIN_CUDA_CHECK(cudaMemcpyAsync(r.labels.as<uint8_t>(), d.labels.data(), d.labels.size(),
                                       cudaMemcpyHostToDevice, ctx.stream()));
    ctx.synchronize();  // once per upload; the host vectors are pageable
    resident_.push_back(std::move(r));
    return resident_.back();
  }

  void drop(std::vector<Resident>::iterator it, Context& ctx) {
    ctx.synchronize();  // gathers queued on the stream may still read it
    resident_.erase(it);
  }

  // The loader's permutation for its current epoch, computed on the device once per epoch.
  const int32_t* epoch_order(const data::BatchLoader& loader, Context& ctx) {
    const auto key = std::make_tuple(&loader.dataset(), loader.seed(), loader.epoch(),
                                     loader.size());
    if (order_key_ != key) {
      if (loader.epoch() < 0) throw ConfigError("input pipeline: start_epoch() was not called");
      const int64_t count = loader.size();
      if (order_.bytes() < static_cast<size_t>(count) * sizeof(int32_t)) {
        ctx.synchronize();  // the old buffers may still be read
        order_ = DeviceBuffer(static_cast<size_t>(count) * sizeof(int32_t));
        scratch_ = DeviceBuffer(kernels::shuffle_order_scratch_bytes(count));
      }
      kernels::launch_shuffle_order(loader.seed(), static_cast<uint64_t>(loader.epoch()), count,
                                    order_.as<int32_t>(), scratch_.as<void>(), ctx.stream());
      order_key_ = key;
    }
    return order_.as<int32_t>();
  }

  std::vector<Resident> resident_;  // at most kMaxResident
  uint64_t uses_ = 0;
  DeviceBuffer order_, scratch_;
  std::tuple<const data::ImageDataset*, uint64_t, int64_t, int64_t> order_key_{nullptr, 0, -1, 0};
};

#endif  // CUTRAIN_WITH_CUDA

}  // namespace

std::unique_ptr<InputStage> make_input_stage(InputMode mode, int64_t max_batch, int64_t pixels,
                                             Context& ctx) {
  if (mode == InputMode::Host) {
    if (ctx.is_cuda()) throw ConfigError("input pipeline: host staging needs the CPU device");
    return std::make_unique<HostInput>();
  }
  if (!ctx.is_cuda()) throw ConfigError("--data-on-device needs --device cuda");
#if CUTRAIN_WITH_CUDA
  if (mode == InputMode::Pinned) return std::make_unique<PinnedInput>(max_batch, pixels);
  return std::make_unique<ResidentInput>();
#else
  (void)max_batch;
  (void)pixels;
  throw DeviceError("cutrain was built without CUDA");
#endif
}

}  // namespace cutrain::detail
