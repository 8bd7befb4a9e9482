#pragma once
/// The dm_env step contract: FIRST, then MID steps, then LAST; the discount says how to bootstrap.

#include <cstdint>
#include <vector>

#include "envs/core/spec.h"

namespace rimlab {

enum class StepType : uint8_t { kFirst = 0, kMid = 1, kLast = 2 };

const char* StepTypeName(StepType type);

/// One transition's scalars. The observation is not stored here: environments write it straight
/// into caller-owned buffers (an `ObsRef`), so that the actor pool fills its batch without copies
/// or allocations. Rewards and discounts of a FIRST step are 0 and 1 by convention.
struct TimeStep {
  StepType type = StepType::kFirst;
  float reward = 0.0f;
  /// 0 when the episode terminated (do not bootstrap), 1 otherwise, including truncation by the
  /// time limit (bootstrap from the final observation).
  float discount = 1.0f;
  /// Whether the episode achieved its task; meaningful on LAST, for success rates.
  bool success = false;

  bool first() const { return type == StepType::kFirst; }
  bool mid() const { return type == StepType::kMid; }
  bool last() const { return type == StepType::kLast; }
  bool terminated() const { return last() && discount == 0.0f; }
  bool truncated() const { return last() && discount != 0.0f; }
};

/// An action for any ActionSpec: `index` for discrete specs, `values` (spec.dim floats) otherwise.
struct Action {
  int32_t index = 0;
  const float* values = nullptr;
};

/// Where an environment writes one observation: one pointer per ObservationSpec field, in order.
struct ObsRef {
  void* const* fields = nullptr;
  int num_fields = 0;

  template <typename T>
  T* Field(int i) const {
    return static_cast<T*>(fields[i]);
  }
};

/// An observation that owns its storage, for single-env use (tests, rollouts, the viewer).
class Observation {
 public:
  Observation() = default;
  explicit Observation(const ObservationSpec& spec);
  Observation(const Observation& other) : sizes_(other.sizes_), words_(other.words_) { Repoint(); }
  Observation& operator=(const Observation& other);
  Observation(Observation&& other) noexcept;
  Observation& operator=(Observation&& other) noexcept;

  ObsRef Ref() const { return ObsRef{pointers_.data(), static_cast<int>(pointers_.size())}; }
  int num_fields() const { return static_cast<int>(sizes_.size()); }
  size_t num_bytes(int i) const { return sizes_[static_cast<size_t>(i)]; }
  const void* data(int i) const { return words_[static_cast<size_t>(i)].data(); }
  template <typename T>
  const T* Field(int i) const {
    return reinterpret_cast<const T*>(words_[static_cast<size_t>(i)].data());
  }
  bool operator==(const Observation& other) const;
  bool operator!=(const Observation& other) const { return !(*this == other); }

 private:
  void Repoint();
  std::vector<size_t> sizes_;
  // Stored as 32-bit words so that every field is aligned for int32 and float32 reads.
  std::vector<std::vector<uint32_t>> words_;
  std::vector<void*> pointers_;
};

}  // namespace rimlab
