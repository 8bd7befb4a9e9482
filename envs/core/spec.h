#pragma once
/// Observation and action specs: plain values that networks and buffers size themselves from.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rimlab {

enum class DType : uint8_t { kUInt8, kInt32, kFloat32 };

/// Bytes per element of a dtype.
size_t DTypeSize(DType dtype);
const char* DTypeName(DType dtype);

/// One named array of an observation. `shape` excludes any batch dimension; bounds are inclusive.
struct ArraySpec {
  std::string name;
  std::vector<int64_t> shape;
  DType dtype = DType::kUInt8;
  double minimum = 0.0;
  double maximum = 0.0;

  int64_t NumElements() const;
  size_t NumBytes() const { return static_cast<size_t>(NumElements()) * DTypeSize(dtype); }
  /// Throws std::invalid_argument naming the field when the spec itself is malformed.
  void Validate() const;
  /// True when every element of `data` (laid out as this spec says) lies within the bounds.
  bool Contains(const void* data) const;
};

/// An observation is a fixed list of named arrays (for the gridworld: image, direction, mission).
struct ObservationSpec {
  std::vector<ArraySpec> fields;

  void Validate() const;
  /// Index of the field called `name`, or -1.
  int IndexOf(const std::string& name) const;
  /// The field called `name`; throws std::out_of_range naming it when absent.
  const ArraySpec& Field(const std::string& name) const;
  size_t NumBytes() const;
};

/// Discrete actions are indices in [0, num_actions); continuous ones are `dim` floats in [low,
/// high].
struct ActionSpec {
  enum class Kind : uint8_t { kDiscrete, kContinuous };
  Kind kind = Kind::kDiscrete;
  int32_t num_actions = 0;
  int32_t dim = 1;
  float low = 0.0f;
  float high = 0.0f;
  std::vector<std::string> names;  ///< one per discrete action, for logs and the viewer

  static ActionSpec Discrete(int32_t n, std::vector<std::string> names = {});
  static ActionSpec Continuous(int32_t dim, float low, float high);
  bool discrete() const { return kind == Kind::kDiscrete; }
  void Validate() const;
};

/// Everything a learner needs to know about an environment before it runs.
struct EnvSpec {
  std::string name;
  ObservationSpec observation;
  ActionSpec action;
  int32_t max_episode_steps = 0;  ///< time limit; 0 when the env has none

  void Validate() const;
};

}  // namespace rimlab
