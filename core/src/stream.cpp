#include "cutrain/stream.h"

#include <utility>

#include "cutrain/error.h"

#if CUTRAIN_WITH_CUDA
#include "cuda/check.h"
#endif

namespace cutrain {

#if CUTRAIN_WITH_CUDA
Stream::Stream() { CUTRAIN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
Stream::~Stream() {
  if (stream_) CUTRAIN_CUDA_LOG(cudaStreamDestroy(stream_));
}
void Stream::synchronize() const { CUTRAIN_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

Event::Event(bool timing) {
  CUTRAIN_CUDA_CHECK(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault
                                                              : cudaEventDisableTiming));
}
Event::~Event() {
  if (event_) CUTRAIN_CUDA_LOG(cudaEventDestroy(event_));
}
void Event::record(cudaStream_t stream) { CUTRAIN_CUDA_CHECK(cudaEventRecord(event_, stream)); }
void Event::synchronize() const { CUTRAIN_CUDA_CHECK(cudaEventSynchronize(event_)); }
void Event::enqueue_wait(cudaStream_t stream) const {
  CUTRAIN_CUDA_CHECK(cudaStreamWaitEvent(stream, event_, 0));
}
float Event::elapsed_ms_since(const Event& start) const {
  float ms = 0.0f;
  CUTRAIN_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, event_));
  return ms;
}
#else
namespace {
[[noreturn]] void no_cuda() { throw DeviceError("cutrain was built without CUDA"); }
}  // namespace
Stream::Stream() { no_cuda(); }
Stream::~Stream() = default;
void Stream::synchronize() const {}
Event::Event(bool) { no_cuda(); }
Event::~Event() = default;
void Event::record(cudaStream_t) {}
void Event::synchronize() const {}
void Event::enqueue_wait(cudaStream_t) const {}
float Event::elapsed_ms_since(const Event&) const { return 0.0f; }
#endif

Stream::Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
Stream& Stream::operator=(Stream&& other) noexcept {
  std::swap(stream_, other.stream_);
  return *this;
}
Event::Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
Event& Event::operator=(Event&& other) noexcept {
  std::swap(event_, other.event_);
  return *this;
}

}  // namespace cutrain
