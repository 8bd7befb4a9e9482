#pragma once
/// Building environments and actor pools from a config's `env` and `pool` sections.

#include <string>

#include "envs/registry.h"
#include "runners/pool/actor_pool.h"
#include "runners/config/config.h"

namespace rimlab {

/// The `env` section: `name` plus that env's options.
struct EnvConfig {
  std::string name;
  Params params;  ///< the env's own options (without `name`)

  /// Makes one env; throws OptionError naming the config key on bad options.
  std::unique_ptr<Environment> Make() const;
  /// The same env with `split` set (for evaluation on another distribution). Throws OptionError
  /// when the env has no such split.
  EnvConfig WithSplit(const std::string& split) const;
  /// The env's named splits, or empty.
  std::vector<std::string> Splits() const;
};

/// Reads the `env` section and checks it by making one env. Throws OptionError.
EnvConfig EnvConfigFrom(const Config& config);

/// Reads the `pool` section: num_envs (16), num_threads (2), batch_size (0 = sync), spin_us.
/// The seed comes from the root key `seed` (default 1).
PoolOptions PoolOptionsFrom(const Config& config);

/// The root `seed` (default 1).
uint64_t SeedFrom(const Config& config);

}  // namespace rimlab
