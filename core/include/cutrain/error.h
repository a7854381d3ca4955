// Error types of cutrain. The library never calls exit(); every failure is an exception that
// names what failed (the call, the file, the flag) so the application can report it and choose
// an exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace cutrain {

/// @brief Base of every exception thrown by cutrain.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// @brief A CUDA, cuBLAS or cuDNN call failed; what() holds the call, file:line and error text.
class DeviceError : public Error {
 public:
  using Error::Error;
};

/// @brief A file a user gave (dataset, checkpoint) is missing or malformed; what() names the file.
class DataError : public Error {
 public:
  using Error::Error;
};

/// @brief A configuration value is out of range or inconsistent (shapes, options, flags).
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// @brief Training cannot go on (e.g. a non-finite loss); what() names the epoch and step.
class TrainingError : public Error {
 public:
  using Error::Error;
};

/// @brief Formats "what (at file:line)"; used by the CUTRAIN_* check macros.
std::string located(const std::string& what, const char* file, int line);

}  // namespace cutrain

/// Throws cutrain::ConfigError with the failed condition and location when `cond` is false.
#define CUTRAIN_REQUIRE(cond, msg)                                                          \
  do {                                                                                      \
    if (!(cond)) throw ::cutrain::ConfigError(::cutrain::located(msg, __FILE__, __LINE__)); \
  } while (0)
