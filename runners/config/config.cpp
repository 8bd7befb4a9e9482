#include "runners/config/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace rimlab {

namespace {

std::string Where(const std::string& origin, const YAML::Mark& mark) {
  return origin + ":" + std::to_string(mark.line + 1);
}

// [-+]?[0-9]+
bool LooksLikeInt(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// [-+]?(digits[.digits]|.digits)([eE][-+]?digits)? -- no inf, nan or hex, which stay strings.
bool LooksLikeFloat(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  auto digits = [&s, &i]() {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Plain YAML scalars become bools, integers or doubles when they look like one; quoted ones stay
// strings, so `split: "8"` is the string "8".
ParamValue ScalarValue(const YAML::Node& node) {
  const std::string s = node.Scalar();
  if (node.Tag() == "!") return s;
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  if (LooksLikeInt(s)) {
    try {
      return static_cast<int64_t>(std::stoll(s));
    } catch (const std::out_of_range&) {
      return s;
    }
  }
  if (LooksLikeFloat(s)) return std::stod(s);
  return s;
}

// `key_mark` locates the key, for values (like a missing one) that have no position of their own.
void AddNode(const std::string& origin, const std::string& key, const YAML::Node& node,
             const YAML::Mark& key_mark, Params* out) {
  const std::string where = Where(origin, node.IsNull() ? key_mark : node.Mark());
  if (node.IsScalar()) {
    out->Set(key, ScalarValue(node), where);
  } else if (node.IsSequence()) {
    std::vector<std::string> items;
    for (const auto& item : node) {
      if (!item.IsScalar()) {
        throw ConfigError(Where(origin, item.Mark()) + ": key '" + key +
                          "': expected a list of plain values");
      }
      items.push_back(item.Scalar());
    }
    out->Set(key, items, where);
  } else if (node.IsMap()) {
    for (const auto& kv : node) {
      AddNode(origin, key + "." + kv.first.as<std::string>(), kv.second, kv.first.Mark(), out);
    }
  } else if (node.IsNull()) {
    throw ConfigError(where + ": key '" + key + "' has no value");
  }
}

Config FromNode(const YAML::Node& root, const std::string& origin) {
  Config config;
  if (root.IsNull()) return config;
  if (!root.IsMap()) {
    throw ConfigError(Where(origin, root.Mark()) + ": expected a mapping of sections at the top");
  }
  for (const auto& kv : root) {
    const std::string name = kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    if (value.IsMap()) {
      Params* section = config.MutableSection(name);
      for (const auto& inner : value) {
        AddNode(origin, inner.first.as<std::string>(), inner.second, inner.first.Mark(), section);
      }
    } else {
      AddNode(origin, name, value, kv.first.Mark(), config.MutableSection(""));
    }
  }
  return config;
}

}  // namespace

Config Config::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

Config Config::Parse(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) +
                      ": YAML syntax error: " + e.msg);
  }
  Config c = FromNode(root, origin);
  c.origin_ = origin;
  return c;
}

void Config::Override(const std::string& assignment, const std::string& origin) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(origin + ": override \"" + assignment +
                      "\" is not of the form section.key=value");
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const size_t dot = path.find('.');
  const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
  const std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
  if (key.empty()) {
    throw ConfigError(origin + ": override \"" + assignment + "\" names no key");
  }
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin + ": override \"" + assignment +
                      "\": cannot read the value: " + e.msg);
  }
  Params* params = MutableSection(section);
  if (node.IsNull()) {
    params->Set(key, std::string(), origin);
    return;
  }
  Params parsed;
  AddNode(origin, key, node, node.Mark(), &parsed);
  for (const auto& kv : parsed.values()) {
    params->Set(kv.first, kv.second.value, origin + " (" + assignment + ")");
  }
}

const Params& Config::Section(const std::string& name) const {
  static const Params kEmpty;
  auto it = sections_.find(name);
  return it == sections_.end() ? kEmpty : it->second;
}

void Config::CheckSections(const std::vector<std::string>& allowed) const {
  for (const auto& kv : sections_) {
    if (kv.first.empty()) continue;
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == kv.first;
    if (ok) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    std::string where = origin_;
    if (!kv.second.values().empty()) where = kv.second.values().begin()->second.where;
    throw OptionError(where, kv.first, "unknown section (known: " + list + ")");
  }
}

std::string Config::ToYaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  auto emit_value = [&out](const ParamValue& v) {
    if (const auto* b = std::get_if<bool>(&v)) {
      out << *b;
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      out << *i;
    } else if (const auto* d = std::get_if<double>(&v)) {
      // Keep a decimal point so that the value reads back as a number, not an integer.
      std::ostringstream os;
      os.precision(17);
      os << *d;
      std::string text = os.str();
      if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
      out << text;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      out << YAML::DoubleQuoted << *s;
    } else if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
      out << YAML::BeginSeq;
      for (const auto& item : *l) out << YAML::DoubleQuoted << item;
      out << YAML::EndSeq;
    }
  };
  for (const auto& kv : Section("").values()) {
    out << YAML::Key << kv.first << YAML::Value;
    emit_value(kv.second.value);
  }
  for (const auto& section : sections_) {
    if (section.first.empty()) continue;
    out << YAML::Key << section.first << YAML::Value << YAML::BeginMap;
    // Dotted keys are written flat ("rim.num_units": 6); Parse reads them back the same way.
    for (const auto& kv : section.second.values()) {
      out << YAML::Key << kv.first << YAML::Value;
      emit_value(kv.second.value);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace rimlab
