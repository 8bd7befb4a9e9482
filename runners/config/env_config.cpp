#include "runners/config/env_config.h"

#include <algorithm>
#include <thread>

namespace rimlab {

std::unique_ptr<Environment> EnvConfig::Make() const {
  return Registry::Global().Make(name, params);
}

std::vector<std::string> EnvConfig::Splits() const {
  const EnvEntry* e = Registry::Global().Find(name);
  return e == nullptr ? std::vector<std::string>{} : e->splits;
}

EnvConfig EnvConfig::WithSplit(const std::string& split) const {
  const auto splits = Splits();
  if (std::find(splits.begin(), splits.end(), split) == splits.end()) {
    std::string list;
    for (const auto& s : splits) list += (list.empty() ? "" : ", ") + s;
    throw OptionError(
        "", "split",
        "env '" + name + "' has no split \"" + split + "\"" +
            (list.empty() ? std::string(" (it has none)") : " (known: " + list + ")"));
  }
  EnvConfig out = *this;
  const Param* old = params.Find("split");
  out.params.Set("split", split, old ? old->where : std::string());
  return out;
}

EnvConfig EnvConfigFrom(const Config& config) {
  const Params& section = config.Section("env");
  EnvConfig out;
  const Param* name = section.Find("name");
  if (name == nullptr) {
    throw OptionError(config.origin(), "env.name",
                      "the config needs an `env` section naming the environment, e.g. "
                      "env: {name: distractors}");
  }
  const auto* s = std::get_if<std::string>(&name->value);
  if (s == nullptr) throw OptionError(name->where, "env.name", "expected an environment name");
  out.name = *s;
  if (Registry::Global().Find(out.name) == nullptr) {
    std::string list;
    for (const auto& n : Registry::Global().Names()) list += (list.empty() ? "" : ", ") + n;
    throw OptionError(name->where, "env.name",
                      "unknown environment \"" + out.name + "\" (known: " + list + ")");
  }
  for (const auto& kv : section.values()) {
    if (kv.first != "name") out.params.Set(kv.first, kv.second.value, kv.second.where);
  }
  out.Make();  // fails now, with the config's lines, rather than inside a worker later
  return out;
}

uint64_t SeedFrom(const Config& config) {
  ParamReader root(config.Section(""), "config");
  return static_cast<uint64_t>(root.Int("seed", 1, 0, INT64_MAX));
}

PoolOptions PoolOptionsFrom(const Config& config) {
  ParamReader r(config.Section("pool"), "section 'pool'");
  PoolOptions o;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.num_envs = static_cast<int>(r.Int("num_envs", 16, 1, 65536));
  o.num_threads = static_cast<int>(r.Int("num_threads", std::min(2, cores), 1, 1024));
  o.batch_size = static_cast<int>(r.Int("batch_size", 0, 0, 65536));
  o.spin_microseconds = static_cast<int>(r.Int("spin_us", o.spin_microseconds, 0, 100000));
  if (o.num_threads > o.num_envs) o.num_threads = o.num_envs;
  if (o.batch_size > o.num_envs) {
    r.Fail("batch_size", "expected at most num_envs (" + std::to_string(o.num_envs) + "), got " +
                             std::to_string(o.batch_size));
  }
  r.Finish();
  o.seed = SeedFrom(config);
  return o;
}

}  // namespace rimlab
