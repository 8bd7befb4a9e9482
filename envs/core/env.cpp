#include "envs/core/env.h"

#include <stdexcept>

namespace rimlab {

std::string Environment::SaveState() const {
  throw std::logic_error(Spec().name + ": this environment does not support snapshots");
}

void Environment::LoadState(const std::string& /*bytes*/) {
  throw std::logic_error(Spec().name + ": this environment does not support snapshots");
}

}  // namespace rimlab
