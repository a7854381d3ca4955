// A device that waits: one thread spins on the global timer for a given time. A timing tool
// queues it before a sequence it times with events, so that the host enqueues the whole sequence
// (launches and event records) while the device is busy; the events then measure the device's
// work. Without it, a network whose kernels are shorter than their launches (LeNet) would show
// each layer's host launch time instead.
#pragma once

#include <cstdint>

#include "cutrain/stream.h"

namespace cutrain::kernels {

/// Occupies `stream` for about `microseconds` (1 to 1e6); asynchronous. Ends also when the SM
/// has run 20 cycles per requested nanosecond, so a timer that does not advance cannot hang it.
void launch_busy_wait(int64_t microseconds, cudaStream_t stream);

}  // namespace cutrain::kernels
