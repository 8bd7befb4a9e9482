#include "common/params.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace rimlab {

std::string ParamToString(const ParamValue& value) {
  std::ostringstream os;
  if (const auto* b = std::get_if<bool>(&value)) {
    os << (*b ? "true" : "false");
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    os << *i;
  } else if (const auto* d = std::get_if<double>(&value)) {
    os << *d;
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    os << '"' << *s << '"';
  } else if (const auto* l = std::get_if<std::vector<std::string>>(&value)) {
    os << '[';
    for (size_t k = 0; k < l->size(); ++k) os << (k ? ", " : "") << (*l)[k];
    os << ']';
  }
  return os.str();
}

namespace {
std::string Compose(const std::string& where, const std::string& key, const std::string& message) {
  std::string s = where.empty() ? std::string() : where + ": ";
  return s + "key '" + key + "': " + message;
}
}  // namespace

OptionError::OptionError(std::string where, std::string key, const std::string& message)
    : std::invalid_argument(Compose(where, key, message)),
      where_(std::move(where)),
      key_(std::move(key)) {}

void Params::Set(const std::string& key, ParamValue value, std::string where) {
  values_[key] = Param{std::move(value), std::move(where)};
}

const Param* Params::Find(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

ParamReader::ParamReader(const Params& params, std::string context)
    : params_(params), context_(std::move(context)) {}

const Param* ParamReader::Take(const std::string& key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  return params_.Find(key);
}

bool ParamReader::Has(const std::string& key) {
  return Take(key) != nullptr;
}

void ParamReader::Fail(const std::string& key, const std::string& message) const {
  const Param* p = params_.Find(key);
  throw OptionError(p ? p->where : std::string(), key, context_ + ": " + message);
}

int64_t ParamReader::Int(const std::string& key, int64_t def, int64_t min, int64_t max) {
  const Param* p = Take(key);
  const std::string expect =
      "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (p == nullptr) return def;
  int64_t v = 0;
  if (const auto* i = std::get_if<int64_t>(&p->value)) {
    v = *i;
  } else {
    Fail(key, expect + ", got " + ParamToString(p->value));
  }
  if (v < min || v > max) Fail(key, expect + ", got " + std::to_string(v));
  return v;
}

double ParamReader::Float(const std::string& key, double def, double min, double max) {
  const Param* p = Take(key);
  std::ostringstream os;
  os << "expected a number in [" << min << ", " << max << "]";
  if (p == nullptr) return def;
  double v = 0.0;
  if (const auto* i = std::get_if<int64_t>(&p->value)) {
    v = static_cast<double>(*i);
  } else if (const auto* d = std::get_if<double>(&p->value)) {
    v = *d;
  } else {
    Fail(key, os.str() + ", got " + ParamToString(p->value));
  }
  if (!std::isfinite(v) || v < min || v > max) Fail(key, os.str() + ", got " + ParamToString(v));
  return v;
}

bool ParamReader::Bool(const std::string& key, bool def) {
  const Param* p = Take(key);
  if (p == nullptr) return def;
  if (const auto* b = std::get_if<bool>(&p->value)) return *b;
  Fail(key, "expected true or false, got " + ParamToString(p->value));
}

std::string ParamReader::String(const std::string& key, const std::string& def) {
  const Param* p = Take(key);
  if (p == nullptr) return def;
  if (const auto* s = std::get_if<std::string>(&p->value)) return *s;
  Fail(key, "expected a string, got " + ParamToString(p->value));
}

std::string ParamReader::Choice(const std::string& key, const std::string& def,
                                const std::vector<std::string>& choices) {
  const std::string v = String(key, def);
  if (std::find(choices.begin(), choices.end(), v) != choices.end()) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  Fail(key, "expected one of " + list + ", got \"" + v + "\"");
}

std::vector<std::string> ParamReader::StringList(const std::string& key,
                                                 const std::vector<std::string>& def) {
  const Param* p = Take(key);
  if (p == nullptr) return def;
  if (const auto* l = std::get_if<std::vector<std::string>>(&p->value)) return *l;
  if (const auto* s = std::get_if<std::string>(&p->value)) return {*s};
  Fail(key, "expected a list of strings, got " + ParamToString(p->value));
}

void ParamReader::Finish() const {
  for (const auto& kv : params_.values()) {
    if (std::find(known_.begin(), known_.end(), kv.first) != known_.end()) continue;
    std::vector<std::string> sorted = known_;
    std::sort(sorted.begin(), sorted.end());
    std::string list;
    for (const auto& k : sorted) list += (list.empty() ? "" : ", ") + k;
    throw OptionError(kv.second.where, kv.first,
                      context_ + ": unknown option (known: " + list + ")");
  }
}

}  // namespace rimlab
