// RAII wrappers for CUDA streams and events. The public header does not include CUDA headers:
// cudaStream_t is an opaque pointer, declared here exactly as the CUDA runtime declares it.
#pragma once

struct CUstream_st;
typedef struct CUstream_st* cudaStream_t;
struct CUevent_st;
typedef struct CUevent_st* cudaEvent_t;

namespace cutrain {

/// @brief Owns a non-blocking CUDA stream. Move-only; destroyed with the object.
class Stream {
 public:
  Stream();  ///< creates a stream; throws DeviceError without a usable device
  ~Stream();
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  cudaStream_t get() const { return stream_; }
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
};

/// @brief Owns a CUDA event. Move-only.
class Event {
 public:
  /// `timing` false: an ordering-only event (cheaper to record and wait on).
  explicit Event(bool timing = true);
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream);
  void synchronize() const;
  /// Makes work queued on `stream` after this call wait for the last record of this event,
  /// on the device (the host does not wait).
  void enqueue_wait(cudaStream_t stream) const;
  /// Milliseconds from `start` to this event; both must have completed.
  float elapsed_ms_since(const Event& start) const;

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace cutrain
