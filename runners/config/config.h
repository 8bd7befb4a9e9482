#pragma once
/// Experiment configs: YAML files in configs/ plus `section.key=value` overrides from the command
/// line. This is the only place that reads YAML. A config is a set of sections, each a flat Params
/// whose values remember their file and line; nested maps flatten to dotted keys
/// (`model: {rim: {num_units: 6}}` becomes key `rim.num_units` of section `model`). Top-level
/// scalars (`name`, `seed`) form the root section "".

#include <map>
#include <string>
#include <vector>

#include "common/params.h"

namespace rimlab {

/// A config file that cannot be read or parsed. The message names the file and line.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Config {
 public:
  /// Reads and parses `path`. Throws ConfigError (missing file, YAML syntax, unsupported shapes).
  static Config Load(const std::string& path);
  /// Parses YAML text; `origin` names it in messages.
  static Config Parse(const std::string& text, const std::string& origin);

  /// Applies `section.key=value` (or `key=value` for the root section). The value is read as a
  /// YAML scalar or flow sequence: 8, 0.5, true, train, [a, b]. Throws ConfigError when malformed.
  /// `origin` says where the assignment came from in messages ("studies/x.yaml:12").
  void Override(const std::string& assignment, const std::string& origin = "command line");

  /// The section's params (empty when absent).
  const Params& Section(const std::string& name) const;
  bool HasSection(const std::string& name) const { return sections_.count(name) != 0; }
  const std::map<std::string, Params>& sections() const { return sections_; }
  Params* MutableSection(const std::string& name) { return &sections_[name]; }

  /// Throws OptionError for a section not in `allowed` (the root section is always allowed).
  void CheckSections(const std::vector<std::string>& allowed) const;

  /// The resolved config as YAML, for a run directory; Parse(ToYaml()) gives the same values.
  std::string ToYaml() const;
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::map<std::string, Params> sections_;
};

}  // namespace rimlab
