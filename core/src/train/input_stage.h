// InputStage: how a batch of a BatchLoader reaches the model's static input buffers (images
// [n, C, H, W] and labels [n] as floats on the context's device). Three ways, chosen once:
//  - host:      the CPU device; the loader writes the floats in place.
//  - pinned:    CUDA, the default. The loader gathers the batch's raw uint8 bytes into one of
//               kSlots pinned host buffers; a copy stream moves them to a device slot while the
//               compute stream works on earlier batches; the compute stream waits for that copy
//               (event) and converts uint8 -> float with the gather kernel. Events keep a slot
//               from being refilled before its copy and its conversion are done, so the host runs
//               at most kSlots batches ahead and never waits for compute otherwise.
//  - resident:  CUDA with --data-on-device. Each dataset is uploaded once as uint8 (Fashion-MNIST:
//               ~55 MB); the epoch order is computed on the device (random keys + CUB radix sort,
//               the same permutation as the host loader) and every batch is gathered from it.
//               At most two data sets stay uploaded (least recently used goes); each pass checks
//               a content fingerprint (data/fingerprint.h), so a data set changed in place or
//               rebuilt at the same address is uploaded again.
// Every way produces the same floats (kernels/batch_gather_math.h), so results do not depend
// on the choice. Private.
#pragma once

#include <cstdint>
#include <memory>

#include "cutrain/context.h"
#include "cutrain/data/loader.h"

namespace cutrain::detail {

enum class InputMode { Host, Pinned, Resident };

class InputStage {
 public:
  virtual ~InputStage() = default;
  /// Queues batch b of `loader` into `images` / `labels` (device buffers of ctx's device with
  /// room for loader.batch_size() examples) on ctx's stream; returns its size n. Never inside
  /// a CUDA graph capture.
  virtual int64_t stage(const data::BatchLoader& loader, int64_t b, float* images, float* labels,
                        Context& ctx) = 0;
};

/// `max_batch` examples of `pixels` bytes each at most per staged batch.
std::unique_ptr<InputStage> make_input_stage(InputMode mode, int64_t max_batch, int64_t pixels,
                                             Context& ctx);

}  // namespace cutrain::detail
