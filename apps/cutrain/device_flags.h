// --tf32, shared by every command that runs a model (train, eval, bench train, time).
#pragma once

#include <CLI/CLI.hpp>

#include "cutrain/context.h"

namespace cutrain::app {

inline CLI::Option* add_tf32_flag(CLI::App* cmd, bool& tf32) {
  return cmd->add_flag(
      "--tf32", tf32,
      "CUDA only: let convolutions and matrix products use TF32 tensor cores (10-bit mantissa "
      "products, float32 sums; several times faster on Ampere and later, results differ by "
      "~1e-3 relative; PyTorch's default for cuDNN convolutions). Default: float32 products");
}

/// The Context's math for the flag's value.
inline Float32Math float32_math(bool tf32) { return tf32 ? Float32Math::TF32 : Float32Math::Full; }

}  // namespace cutrain::app
