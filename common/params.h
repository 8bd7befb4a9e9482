#pragma once
/// Options for environments as plain values. runners/ fills a Params from YAML or key=value
/// overrides; each env family reads its own options struct through a ParamReader, which checks
/// types and ranges and rejects unknown keys, so envs/ never depends on a config format.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace rimlab {

using ParamValue = std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;

/// A value and where it came from ("configs/x.yaml:12", "command line"), for error messages.
struct Param {
  ParamValue value;
  std::string where;
};

/// Describes a value for messages: 3, 0.5, true, "text", [a, b].
std::string ParamToString(const ParamValue& value);

/// An invalid option: names the key, what was expected and where the value came from.
class OptionError : public std::invalid_argument {
 public:
  OptionError(std::string where, std::string key, const std::string& message);
  const std::string& where() const { return where_; }
  const std::string& key() const { return key_; }

 private:
  std::string where_;
  std::string key_;
};

class Params {
 public:
  void Set(const std::string& key, ParamValue value, std::string where = {});
  bool Has(const std::string& key) const { return values_.count(key) != 0; }
  const Param* Find(const std::string& key) const;
  void Erase(const std::string& key) { values_.erase(key); }
  const std::map<std::string, Param>& values() const { return values_; }
  bool empty() const { return values_.empty(); }

 private:
  std::map<std::string, Param> values_;
};

/// Reads typed options out of Params. Every getter returns the default when the key is absent and
/// throws OptionError when the value has the wrong type or range. Finish() throws for any key that
/// no getter asked for, listing the known ones.
class ParamReader {
 public:
  ParamReader(const Params& params, std::string context);

  int64_t Int(const std::string& key, int64_t def, int64_t min, int64_t max);
  double Float(const std::string& key, double def, double min, double max);
  bool Bool(const std::string& key, bool def);
  std::string String(const std::string& key, const std::string& def);
  /// One of `choices`.
  std::string Choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& choices);
  std::vector<std::string> StringList(const std::string& key, const std::vector<std::string>& def);
  bool Has(const std::string& key);

  /// Builds an OptionError for `key` (for checks that span several options).
  [[noreturn]] void Fail(const std::string& key, const std::string& message) const;
  void Finish() const;

 private:
  const Param* Take(const std::string& key);
  Params params_;  // a copy: readers are short-lived and may be built from temporaries
  std::string context_;
  std::vector<std::string> known_;
};

}  // namespace rimlab
