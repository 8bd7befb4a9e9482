#include "envs/core/timestep.h"

#include <cstring>

namespace rimlab {

const char* StepTypeName(StepType type) {
  switch (type) {
    case StepType::kFirst:
      return "FIRST";
    case StepType::kMid:
      return "MID";
    case StepType::kLast:
      return "LAST";
  }
  return "?";
}

Observation::Observation(const ObservationSpec& spec) {
  for (const auto& f : spec.fields) {
    sizes_.push_back(f.NumBytes());
    words_.emplace_back((f.NumBytes() + 3) / 4, 0u);
  }
  Repoint();
}

Observation& Observation::operator=(const Observation& other) {
  if (this != &other) {
    sizes_ = other.sizes_;
    words_ = other.words_;
    Repoint();
  }
  return *this;
}

Observation::Observation(Observation&& other) noexcept
    : sizes_(std::move(other.sizes_)), words_(std::move(other.words_)) {
  Repoint();
  other.pointers_.clear();
}

Observation& Observation::operator=(Observation&& other) noexcept {
  sizes_ = std::move(other.sizes_);
  words_ = std::move(other.words_);
  Repoint();
  other.pointers_.clear();
  return *this;
}

bool Observation::operator==(const Observation& other) const {
  if (sizes_ != other.sizes_) return false;
  for (size_t i = 0; i < sizes_.size(); ++i) {
    if (std::memcmp(words_[i].data(), other.words_[i].data(), sizes_[i]) != 0) return false;
  }
  return true;
}

void Observation::Repoint() {
  pointers_.clear();
  for (auto& w : words_) pointers_.push_back(w.data());
}

}  // namespace rimlab
