#include "envs/registry.h"

#include <stdexcept>

namespace rimlab {

const Registry& Registry::Global() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    RegisterGridEnvs(r);
    RegisterToyEnvs(r);
    RegisterBallsEnvs(r);
    return r;
  }();
  return *registry;
}

void Registry::Add(EnvEntry entry) {
  if (Find(entry.name) != nullptr) {
    throw std::logic_error("environment '" + entry.name + "' registered twice");
  }
  entries_.push_back(std::move(entry));
}

const EnvEntry* Registry::Find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> names;
  for (const auto& e : entries_) names.push_back(e.name);
  return names;
}

std::unique_ptr<Environment> Registry::Make(const std::string& name, const Params& params) const {
  const EnvEntry* e = Find(name);
  if (e == nullptr) {
    std::string list;
    for (const auto& n : Names()) list += (list.empty() ? "" : ", ") + n;
    throw OptionError("", "env", "unknown environment \"" + name + "\" (known: " + list + ")");
  }
  return e->make(params);
}

std::unique_ptr<Environment> MakeEnv(const std::string& name, const Params& params) {
  return Registry::Global().Make(name, params);
}

}  // namespace rimlab
