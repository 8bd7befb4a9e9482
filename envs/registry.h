#pragma once
/// Environments are made by name from Params. Each family registers its entries explicitly (no
/// static initialisers, which a static library's linker may drop).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "envs/core/env.h"
#include "common/params.h"

namespace rimlab {

using EnvFactory = std::function<std::unique_ptr<Environment>(const Params& params)>;

struct EnvEntry {
  std::string name;
  std::string summary;              ///< one line for `rimlab envs` and --help
  std::vector<std::string> splits;  ///< named option presets ("train", "novel", ...), may be empty
  EnvFactory make;
};

class Registry {
 public:
  /// The registry with every built-in family.
  static const Registry& Global();

  void Add(EnvEntry entry);
  const EnvEntry* Find(const std::string& name) const;
  std::vector<std::string> Names() const;
  const std::vector<EnvEntry>& entries() const { return entries_; }

  /// Makes `name` from `params`; throws OptionError (key "env") for an unknown name and whatever
  /// the family throws for bad options.
  std::unique_ptr<Environment> Make(const std::string& name, const Params& params) const;

 private:
  std::vector<EnvEntry> entries_;
};

/// Convenience for Registry::Global().Make.
std::unique_ptr<Environment> MakeEnv(const std::string& name, const Params& params = {});

// Family registration hooks, called once by Registry::Global().
void RegisterGridEnvs(Registry* registry);
void RegisterToyEnvs(Registry* registry);
void RegisterBallsEnvs(Registry* registry);

}  // namespace rimlab
