#include "runners/cli/rollout.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/params.h"

namespace rimlab {

namespace {

using nlohmann::json;

template <typename T>
json NestedArray(const T* data, const std::vector<int64_t>& shape, size_t dim, size_t* offset) {
  json out = json::array();
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (dim + 1 == shape.size()) {
      out.push_back(data[(*offset)++]);
    } else {
      out.push_back(NestedArray(data, shape, dim + 1, offset));
    }
  }
  return out;
}

json FieldJson(const ArraySpec& spec, const void* data) {
  size_t offset = 0;
  switch (spec.dtype) {
    case DType::kUInt8:
      return NestedArray(static_cast<const uint8_t*>(data), spec.shape, 0, &offset);
    case DType::kInt32:
      return NestedArray(static_cast<const int32_t*>(data), spec.shape, 0, &offset);
    case DType::kFloat32:
      return NestedArray(static_cast<const float*>(data), spec.shape, 0, &offset);
  }
  return json();
}

json StepJson(int t, const int32_t* action, const TimeStep& ts, const Environment& env,
              const Observation& obs) {
  json s;
  s["t"] = t;
  if (action != nullptr) s["action"] = *action;
  s["step_type"] = StepTypeName(ts.type);
  s["reward"] = ts.reward;
  s["discount"] = ts.discount;
  if (ts.last()) {
    s["terminated"] = ts.terminated();
    s["truncated"] = ts.truncated();
    s["success"] = ts.success;
  }
  json fields;
  const auto& spec = env.Spec().observation;
  for (int f = 0; f < obs.num_fields(); ++f) {
    const ArraySpec& field = spec.fields[static_cast<size_t>(f)];
    json value = FieldJson(field, obs.data(f));
    // A one-element field (the grid's direction) reads better as a number.
    if (field.NumElements() == 1) value = value[0];
    fields[field.name] = value;
  }
  s["obs"] = fields;
  return s;
}

}  // namespace

RolloutResult Rollout(Environment* env, uint64_t seed, const std::vector<int32_t>& actions) {
  RolloutResult result;
  Observation obs(env->Spec().observation);
  env->Seed(seed);
  TimeStep ts = env->Reset(obs.Ref());
  json doc;
  doc["env"] = env->Spec().name;
  doc["seed"] = seed;
  doc["steps"] = json::array();
  doc["steps"].push_back(StepJson(0, nullptr, ts, *env, obs));
  std::ostringstream text;
  text << "t=0 " << StepTypeName(ts.type) << "\n" << env->Describe() << "\n";
  const auto& names = env->Spec().action.names;
  for (size_t i = 0; i < actions.size(); ++i) {
    if (ts.last()) {
      result.unused_actions = static_cast<int>(actions.size() - i);
      break;
    }
    Action a;
    a.index = actions[i];
    ts = env->Step(a, obs.Ref());
    const int t = static_cast<int>(i) + 1;
    doc["steps"].push_back(StepJson(t, &actions[i], ts, *env, obs));
    text << "t=" << t << " action=" << actions[i];
    if (static_cast<size_t>(actions[i]) < names.size()) {
      text << " (" << names[static_cast<size_t>(actions[i])] << ")";
    }
    text << " " << StepTypeName(ts.type) << " reward=" << ts.reward << " discount=" << ts.discount
         << "\n"
         << env->Describe() << "\n";
  }
  result.json = doc.dump() + "\n";
  result.text = text.str();
  return result;
}

std::vector<int32_t> ParseActionList(const std::string& text, const ActionSpec& spec) {
  if (!spec.discrete()) {
    throw OptionError("command line", "--actions", "rollout supports discrete actions only");
  }
  std::vector<int32_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    int32_t a = -1;
    for (size_t k = 0; k < spec.names.size(); ++k) {
      if (spec.names[k] == item) a = static_cast<int32_t>(k);
    }
    if (a < 0) {
      size_t used = 0;
      try {
        a = static_cast<int32_t>(std::stoi(item, &used));
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size()) a = -1;
    }
    if (a < 0 || a >= spec.num_actions) {
      std::string names;
      for (const auto& n : spec.names) names += (names.empty() ? "" : ", ") + n;
      throw OptionError("command line", "--actions",
                        "\"" + item + "\" is not an action: expected an integer in [0, " +
                            std::to_string(spec.num_actions - 1) + "] or one of " + names);
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace rimlab
