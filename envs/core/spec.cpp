#include "envs/core/spec.h"

#include <stdexcept>

namespace rimlab {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kUInt8:
      return 1;
    case DType::kInt32:
    case DType::kFloat32:
      return 4;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kUInt8:
      return "uint8";
    case DType::kInt32:
      return "int32";
    case DType::kFloat32:
      return "float32";
  }
  return "?";
}

int64_t ArraySpec::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void ArraySpec::Validate() const {
  if (name.empty()) throw std::invalid_argument("observation field has no name");
  if (shape.empty()) throw std::invalid_argument("observation field '" + name + "' has no shape");
  for (int64_t d : shape) {
    if (d <= 0) {
      throw std::invalid_argument("observation field '" + name + "' has a non-positive dimension");
    }
  }
  if (!(minimum <= maximum)) {
    throw std::invalid_argument("observation field '" + name + "' has minimum > maximum");
  }
}

namespace {
template <typename T>
bool AllWithin(const void* data, int64_t n, double lo, double hi) {
  const T* p = static_cast<const T*>(data);
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(p[i]);
    if (!(v >= lo && v <= hi)) return false;  // written so that NaN fails
  }
  return true;
}
}  // namespace

bool ArraySpec::Contains(const void* data) const {
  switch (dtype) {
    case DType::kUInt8:
      return AllWithin<uint8_t>(data, NumElements(), minimum, maximum);
    case DType::kInt32:
      return AllWithin<int32_t>(data, NumElements(), minimum, maximum);
    case DType::kFloat32:
      return AllWithin<float>(data, NumElements(), minimum, maximum);
  }
  return false;
}

void ObservationSpec::Validate() const {
  if (fields.empty()) throw std::invalid_argument("observation spec has no fields");
  for (size_t i = 0; i < fields.size(); ++i) {
    fields[i].Validate();
    for (size_t j = 0; j < i; ++j) {
      if (fields[j].name == fields[i].name) {
        throw std::invalid_argument("observation field '" + fields[i].name + "' appears twice");
      }
    }
  }
}

int ObservationSpec::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const ArraySpec& ObservationSpec::Field(const std::string& name) const {
  const int i = IndexOf(name);
  if (i < 0) throw std::out_of_range("observation has no field '" + name + "'");
  return fields[static_cast<size_t>(i)];
}

size_t ObservationSpec::NumBytes() const {
  size_t n = 0;
  for (const auto& f : fields) n += f.NumBytes();
  return n;
}

ActionSpec ActionSpec::Discrete(int32_t n, std::vector<std::string> names) {
  ActionSpec s;
  s.kind = Kind::kDiscrete;
  s.num_actions = n;
  s.dim = 1;
  s.low = 0.0f;
  s.high = static_cast<float>(n - 1);
  s.names = std::move(names);
  return s;
}

ActionSpec ActionSpec::Continuous(int32_t dim, float low, float high) {
  ActionSpec s;
  s.kind = Kind::kContinuous;
  s.dim = dim;
  s.low = low;
  s.high = high;
  return s;
}

void ActionSpec::Validate() const {
  if (kind == Kind::kDiscrete) {
    if (num_actions <= 0) throw std::invalid_argument("discrete action spec needs num_actions > 0");
    if (!names.empty() && names.size() != static_cast<size_t>(num_actions)) {
      throw std::invalid_argument("discrete action spec has a name count unequal to num_actions");
    }
  } else {
    if (dim <= 0) throw std::invalid_argument("continuous action spec needs dim > 0");
    if (!(low < high)) throw std::invalid_argument("continuous action spec needs low < high");
  }
}

void EnvSpec::Validate() const {
  if (name.empty()) throw std::invalid_argument("env spec has no name");
  observation.Validate();
  action.Validate();
  if (max_episode_steps < 0) throw std::invalid_argument("env spec has negative max_episode_steps");
}

}  // namespace rimlab
