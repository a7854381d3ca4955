#include "cutrain/error.h"

namespace cutrain {

std::string located(const std::string& what, const char* file, int line) {
  return what + " (at " + file + ":" + std::to_string(line) + ")";
}

}  // namespace cutrain
