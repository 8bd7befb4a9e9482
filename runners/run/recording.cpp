#include "runners/run/recording.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runners/config/config.h"
#include "runners/run/run_dir.h"

namespace rimlab {

namespace {

using json = nlohmann::json;

constexpr const char* kFormat = "rimlab-episode";
constexpr int kVersion = 1;

// Keys in the order files are written; also the list of known keys.
const std::vector<std::string> kKeys = {
    "format",        "version",     "env_yaml", "seed",           "policy",
    "frames",        "length",      "success",  "episode_return", "num_units",
    "actions",       "rewards",     "values",   "unit_mask",      "unit_null_attention",
    "obs_checksums", "action_probs"};

[[noreturn]] void Fail(const std::string& origin, const std::string& key, const std::string& what) {
  throw std::invalid_argument(origin + ": key '" + key + "': " + what);
}

std::string Str(int64_t v) {
  return std::to_string(v);
}

// The shortest decimal text that reads back as the same float, so files stay small and exact.
std::string FloatText(float v) {
  char buf[32];
  for (int precision = 6; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

std::string FloatList(const std::vector<float>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + FloatText(values[i]);
  return out + "]";
}

// One row per line: a file people can read and diff.
std::string FloatRows(const std::vector<std::vector<float>>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) out += (i ? ",\n    " : "\n    ") + FloatList(rows[i]);
  return out + (rows.empty() ? "]" : "\n  ]");
}

bool Finite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

// --- reading -------------------------------------------------------------------------------

class Reader {
 public:
  Reader(const json& root, std::string origin) : root_(root), origin_(std::move(origin)) {}

  const json* Find(const std::string& key) const {
    auto it = root_.find(key);
    return it == root_.end() ? nullptr : &*it;
  }
  const json& Need(const std::string& key, const std::string& expected) const {
    const json* v = Find(key);
    if (v == nullptr) Fail(origin_, key, "missing (expected " + expected + ")");
    return *v;
  }

  std::string String(const std::string& key) const {
    const json& v = Need(key, "a string");
    if (!v.is_string()) Fail(origin_, key, "expected a string, got " + Type(v));
    return v.get<std::string>();
  }
  bool Bool(const std::string& key) const {
    const json& v = Need(key, "true or false");
    if (!v.is_boolean()) Fail(origin_, key, "expected true or false, got " + Type(v));
    return v.get<bool>();
  }
  int64_t Int(const std::string& key, int64_t lo, int64_t hi) const {
    return IntOf(Need(key, "an integer"), key, "", lo, hi);
  }
  uint64_t Unsigned(const std::string& key) const {
    const json& v = Need(key, "a non-negative integer");
    if (!v.is_number_unsigned())
      Fail(origin_, key, "expected a non-negative integer, got " + Dump(v));
    return v.get<uint64_t>();
  }
  float Float(const std::string& key) const { return FloatOf(Need(key, "a number"), key, ""); }

  // Absent keys give an empty list when not `required`.
  std::vector<int64_t> IntList(const std::string& key, int64_t lo, int64_t hi,
                               bool required) const {
    const json* v = required ? &Need(key, "a list of integers") : Find(key);
    if (v == nullptr) return {};
    if (!v->is_array()) Fail(origin_, key, "expected a list of integers, got " + Type(*v));
    std::vector<int64_t> out;
    out.reserve(v->size());
    for (size_t i = 0; i < v->size(); ++i) out.push_back(IntOf((*v)[i], key, Item(i), lo, hi));
    return out;
  }
  // Absent keys give an empty list: the optional per-step arrays.
  std::vector<float> FloatList(const std::string& key, bool required) const {
    const json* v = required ? &Need(key, "a list of numbers") : Find(key);
    if (v == nullptr) return {};
    return FloatsOf(*v, key, "");
  }
  std::vector<std::vector<float>> FloatRows(const std::string& key) const {
    const json* v = Find(key);
    if (v == nullptr) return {};
    if (!v->is_array()) Fail(origin_, key, "expected a list of lists of numbers, got " + Type(*v));
    std::vector<std::vector<float>> out;
    out.reserve(v->size());
    for (size_t i = 0; i < v->size(); ++i) out.push_back(FloatsOf((*v)[i], key, Item(i)));
    return out;
  }

  void CheckKeys() const {
    for (auto it = root_.begin(); it != root_.end(); ++it) {
      bool known = false;
      for (const auto& k : kKeys) known = known || k == it.key();
      if (known) continue;
      std::string list;
      for (const auto& k : kKeys) list += (list.empty() ? "" : ", ") + k;
      Fail(origin_, it.key(), "unknown key (known: " + list + ")");
    }
  }

 private:
  static std::string Type(const json& v) { return v.type_name(); }
  static std::string Dump(const json& v) {
    const std::string s = v.dump();
    return s.size() > 40 ? s.substr(0, 40) + "..." : s;
  }
  static std::string Item(size_t i) { return "step " + std::to_string(i) + ": "; }

  int64_t IntOf(const json& v, const std::string& key, const std::string& item, int64_t lo,
                int64_t hi) const {
    const std::string range = "an integer in [" + Str(lo) + ", " + Str(hi) + "]";
    bool ok = v.is_number_integer();
    int64_t x = 0;
    if (ok && v.is_number_unsigned()) {
      ok = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    }
    if (ok) {
      x = v.get<int64_t>();
      ok = x >= lo && x <= hi;
    }
    if (!ok) Fail(origin_, key, item + "expected " + range + ", got " + Dump(v));
    return x;
  }
  float FloatOf(const json& v, const std::string& key, const std::string& item) const {
    if (!v.is_number()) Fail(origin_, key, item + "expected a number, got " + Dump(v));
    const double d = v.get<double>();
    if (!(std::fabs(d) <= FLT_MAX)) Fail(origin_, key, item + "out of float range: " + Dump(v));
    return static_cast<float>(d);
  }
  std::vector<float> FloatsOf(const json& v, const std::string& key,
                              const std::string& item) const {
    if (!v.is_array()) Fail(origin_, key, item + "expected a list of numbers, got " + Type(v));
    std::vector<float> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      out.push_back(FloatOf(v[i], key, item + "item " + std::to_string(i) + ": "));
    }
    return out;
  }

  const json& root_;
  std::string origin_;
};

// Checks a per-step table: `length` rows of `width` finite values, or no rows when optional.
void CheckRows(const std::vector<std::vector<float>>& rows, const std::string& key, int32_t length,
               int width, const std::string& width_name, const std::string& origin) {
  if (rows.size() != static_cast<size_t>(length)) {
    Fail(origin, key,
         "expected one row per step (length " + Str(length) + "), got " + Str(rows.size()) +
             " rows");
  }
  for (size_t t = 0; t < rows.size(); ++t) {
    if (rows[t].size() != static_cast<size_t>(width)) {
      Fail(origin, key,
           "step " + Str(t) + ": expected " + Str(width) + " values (" + width_name + "), got " +
               Str(rows[t].size()));
    }
    if (!Finite(rows[t])) Fail(origin, key, "step " + Str(t) + ": values must be finite");
  }
}

}  // namespace

bool EpisodeRecording::operator==(const EpisodeRecording& o) const {
  return env_yaml == o.env_yaml && seed == o.seed && actions == o.actions && rewards == o.rewards &&
         success == o.success && episode_return == o.episode_return && length == o.length &&
         frames == o.frames && policy == o.policy && num_units == o.num_units &&
         unit_mask == o.unit_mask && unit_null_attention == o.unit_null_attention &&
         action_probs == o.action_probs && values == o.values && obs_checksums == o.obs_checksums;
}

uint32_t ObservationChecksum(const Observation& obs) {
  uint32_t h = 2166136261u;
  for (int i = 0; i < obs.num_fields(); ++i) {
    const auto* p = static_cast<const unsigned char*>(obs.data(i));
    for (size_t k = 0; k < obs.num_bytes(i); ++k) h = (h ^ p[k]) * 16777619u;
  }
  return h;
}

// --- env_yaml ------------------------------------------------------------------------------

std::string EnvSectionYaml(const Params& env_section) {
  Config c;
  *c.MutableSection("env") = env_section;
  return c.ToYaml();
}

std::string EnvSectionYaml(const EnvConfig& env_config) {
  Params p = env_config.params;
  p.Set("name", env_config.name);
  return EnvSectionYaml(p);
}

EnvConfig EnvConfigFromYaml(const std::string& env_yaml, const std::string& origin) {
  const std::string where = origin + " (env_yaml)";
  try {
    Config c = Config::Parse(env_yaml, where);
    if (!c.HasSection("env")) {
      // A bare section ("name: pickup\nsize: 5"): nest it under `env:` and read it again.
      std::string nested = "env:\n";
      std::istringstream lines(env_yaml);
      for (std::string line; std::getline(lines, line);) nested += "  " + line + "\n";
      c = Config::Parse(nested, where);
    }
    return EnvConfigFrom(c);
  } catch (const std::exception& e) {
    throw std::invalid_argument(origin + ": key 'env_yaml': cannot remake the env: " + e.what());
  }
}

// --- validation and JSON -------------------------------------------------------------------

void ValidateRecording(const EpisodeRecording& r, const std::string& origin) {
  if (r.length < 1) Fail(origin, "length", "expected at least one step, got " + Str(r.length));
  const auto per_step = [&](size_t n, const std::string& key) {
    if (n != static_cast<size_t>(r.length)) {
      Fail(origin, key, "expected one item per step (length " + Str(r.length) + "), got " + Str(n));
    }
  };
  per_step(r.actions.size(), "actions");
  per_step(r.rewards.size(), "rewards");
  for (size_t t = 0; t < r.actions.size(); ++t) {
    if (r.actions[t] < 0) Fail(origin, "actions", "step " + Str(t) + ": negative action");
  }
  if (!Finite(r.rewards)) Fail(origin, "rewards", "rewards must be finite");
  if (r.frames < 0) Fail(origin, "frames", "expected frames >= 0, got " + Str(r.frames));
  if (r.num_units < 0 || r.num_units > 4096) {
    Fail(origin, "num_units", "expected an integer in [0, 4096], got " + Str(r.num_units));
  }
  if (r.num_units > 0) {
    CheckRows(r.unit_mask, "unit_mask", r.length, r.num_units, "num_units", origin);
    for (size_t t = 0; t < r.unit_mask.size(); ++t) {
      for (float m : r.unit_mask[t]) {
        if (m < 0.0f || m > 1.0f) Fail(origin, "unit_mask", "step " + Str(t) + ": expected 0 or 1");
      }
    }
  } else if (!r.unit_mask.empty() || !r.unit_null_attention.empty()) {
    Fail(origin, r.unit_mask.empty() ? "unit_null_attention" : "unit_mask",
         "num_units is 0 (not a RIM core), so there must be no unit rows");
  }
  if (!r.unit_null_attention.empty()) {
    CheckRows(r.unit_null_attention, "unit_null_attention", r.length, r.num_units, "num_units",
              origin);
  }
  if (!r.action_probs.empty()) {
    const int width = static_cast<int>(r.action_probs[0].size());
    if (width < 1) Fail(origin, "action_probs", "step 0: expected at least one action");
    CheckRows(r.action_probs, "action_probs", r.length, width, "as many as at step 0", origin);
  }
  if (!r.values.empty()) {
    per_step(r.values.size(), "values");
    if (!Finite(r.values)) Fail(origin, "values", "values must be finite");
  }
  if (!r.obs_checksums.empty()) per_step(r.obs_checksums.size(), "obs_checksums");
  double sum = 0.0;
  for (float x : r.rewards) sum += x;
  if (!std::isfinite(r.episode_return) ||
      std::fabs(sum - r.episode_return) > 1e-4 * (1.0 + std::fabs(sum))) {
    Fail(origin, "episode_return",
         "expected the sum of the rewards (" + FloatText(static_cast<float>(sum)) + "), got " +
             FloatText(r.episode_return));
  }
}

std::string RecordingToJson(const EpisodeRecording& r) {
  std::vector<std::pair<std::string, std::string>> items = {
      {"format", json(kFormat).dump()},
      {"version", json(kVersion).dump()},
      {"env_yaml", json(r.env_yaml).dump()},
      {"seed", json(r.seed).dump()},
      {"policy", json(r.policy).dump()},
      {"frames", json(r.frames).dump()},
      {"length", json(r.length).dump()},
      {"success", json(r.success).dump()},
      {"episode_return", FloatText(r.episode_return)},
      {"num_units", json(r.num_units).dump()},
      {"actions", json(r.actions).dump()},
      {"rewards", FloatList(r.rewards)}};
  if (!r.values.empty()) items.emplace_back("values", FloatList(r.values));
  if (!r.unit_mask.empty()) items.emplace_back("unit_mask", FloatRows(r.unit_mask));
  if (!r.unit_null_attention.empty()) {
    items.emplace_back("unit_null_attention", FloatRows(r.unit_null_attention));
  }
  if (!r.obs_checksums.empty()) items.emplace_back("obs_checksums", json(r.obs_checksums).dump());
  if (!r.action_probs.empty()) items.emplace_back("action_probs", FloatRows(r.action_probs));
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i ? ",\n  \"" : "\n  \"") + items[i].first + "\": " + items[i].second;
  }
  return out + "\n}\n";
}

EpisodeRecording ParseRecording(const std::string& text, const std::string& origin) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(origin + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) {
    throw std::invalid_argument(origin + ": expected a JSON object (an episode recording), got " +
                                std::string(root.type_name()));
  }
  const Reader in(root, origin);
  const json* format = in.Find("format");
  if (format == nullptr || !format->is_string() || format->get<std::string>() != kFormat) {
    Fail(origin, "format",
         std::string("not an episode recording: expected \"") + kFormat + "\", got " +
             (format == nullptr ? std::string("no such key") : format->dump()));
  }
  const int64_t version = in.Int("version", 1, std::numeric_limits<int32_t>::max());
  if (version > kVersion) {
    Fail(origin, "version",
         "written by a newer rimlab (version " + Str(version) + "); this build reads version " +
             Str(kVersion));
  }
  in.CheckKeys();
  EpisodeRecording r;
  r.env_yaml = in.String("env_yaml");
  r.seed = in.Unsigned("seed");
  r.policy = in.String("policy");
  r.frames = in.Int("frames", 0, std::numeric_limits<int64_t>::max());
  r.length = static_cast<int32_t>(in.Int("length", 0, std::numeric_limits<int32_t>::max()));
  r.success = in.Bool("success");
  r.episode_return = in.Float("episode_return");
  r.num_units = static_cast<int>(in.Int("num_units", 0, 4096));
  for (int64_t a : in.IntList("actions", 0, std::numeric_limits<int32_t>::max(), true)) {
    r.actions.push_back(static_cast<int32_t>(a));
  }
  for (int64_t c : in.IntList("obs_checksums", 0, UINT32_MAX, false)) {
    r.obs_checksums.push_back(static_cast<uint32_t>(c));
  }
  r.rewards = in.FloatList("rewards", true);
  r.values = in.FloatList("values", false);
  r.unit_mask = in.FloatRows("unit_mask");
  r.unit_null_attention = in.FloatRows("unit_null_attention");
  r.action_probs = in.FloatRows("action_probs");
  ValidateRecording(r, origin);
  return r;
}

void SaveRecording(const EpisodeRecording& recording, const std::string& path) {
  ValidateRecording(recording, path);
  WriteFileAtomic(path, RecordingToJson(recording));
}

EpisodeRecording LoadRecording(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot open the recording");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseRecording(ss.str(), path);
}

std::string RecordingFileName(int64_t frames, int episode) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "frames-%012lld-ep%02d.json", static_cast<long long>(frames),
                episode);
  return buf;
}

std::vector<std::string> ListRecordings(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {path};
  if (!fs::is_directory(path, ec)) {
    throw std::invalid_argument(path + ": no such recording file or directory");
  }
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      out.push_back(entry.path().string());
    }
  }
  if (ec) throw std::invalid_argument(path + ": cannot list the directory: " + ec.message());
  if (out.empty()) throw std::invalid_argument(path + ": no *.json recordings in this directory");
  std::sort(out.begin(), out.end());
  return out;
}

// --- building ------------------------------------------------------------------------------

RecordingBuilder::RecordingBuilder(std::string env_yaml, uint64_t seed, int num_units) {
  r_.env_yaml = std::move(env_yaml);
  r_.seed = seed;
  r_.num_units = num_units;
}

void RecordingBuilder::SetPolicy(std::string policy, int64_t frames) {
  r_.policy = std::move(policy);
  r_.frames = frames;
}

void RecordingBuilder::Add(int32_t action, float reward, const Extras& extras) {
  const auto check = [this](const std::vector<float>& v, const char* what) {
    if (!v.empty() && v.size() != static_cast<size_t>(r_.num_units)) {
      throw std::invalid_argument(std::string("RecordingBuilder: ") + what + " has " +
                                  Str(v.size()) + " values, expected num_units (" +
                                  Str(r_.num_units) + ")");
    }
  };
  check(extras.unit_mask, "unit_mask");
  check(extras.unit_null_attention, "unit_null_attention");
  r_.actions.push_back(action);
  r_.rewards.push_back(reward);
  if (!extras.unit_mask.empty()) r_.unit_mask.push_back(extras.unit_mask);
  if (!extras.unit_null_attention.empty()) {
    r_.unit_null_attention.push_back(extras.unit_null_attention);
  }
  if (!extras.action_probs.empty()) r_.action_probs.push_back(extras.action_probs);
  if (extras.value) r_.values.push_back(*extras.value);
  if (extras.obs_checksum) r_.obs_checksums.push_back(*extras.obs_checksum);
}

EpisodeRecording RecordingBuilder::Finish(bool success) {
  r_.success = success;
  r_.length = length();
  double sum = 0.0;
  for (float x : r_.rewards) sum += x;
  r_.episode_return = static_cast<float>(sum);
  ValidateRecording(r_, "RecordingBuilder");
  EpisodeRecording out = std::move(r_);
  r_ = EpisodeRecording{};
  r_.env_yaml = out.env_yaml;
  r_.seed = out.seed;
  r_.num_units = out.num_units;
  return out;
}

// --- replay --------------------------------------------------------------------------------

Replayer::Replayer(EpisodeRecording recording, std::string origin)
    : r_(std::move(recording)), origin_(std::move(origin)) {
  ValidateRecording(r_, origin_);
  const EnvConfig env_config = EnvConfigFromYaml(r_.env_yaml, origin_);
  env_ = env_config.Make();
  const ActionSpec& spec = env_->Spec().action;
  if (!spec.discrete()) {
    throw std::invalid_argument(origin_ + ": env '" + env_config.name +
                                "' has continuous actions; recordings hold discrete ones");
  }
  for (size_t t = 0; t < r_.actions.size(); ++t) {
    if (r_.actions[t] >= spec.num_actions) {
      Fail(origin_, "actions",
           "step " + Str(t) + ": action " + Str(r_.actions[t]) + " is not in [0, " +
               Str(spec.num_actions) + ") for env '" + env_config.name + "'");
    }
  }
  if (!r_.action_probs.empty() &&
      r_.action_probs[0].size() != static_cast<size_t>(spec.num_actions)) {
    Fail(origin_, "action_probs",
         "expected " + Str(spec.num_actions) + " values per step (env '" + env_config.name +
             "' has " + Str(spec.num_actions) + " actions), got " + Str(r_.action_probs[0].size()));
  }
  obs_ = Observation(env_->Spec().observation);
  Restart();
}

void Replayer::Restart() {
  env_->Seed(r_.seed);
  ts_ = env_->Reset(obs_.Ref());
  step_ = 0;
  return_ = 0.0;
}

void Replayer::Mismatch(const std::string& what) const {
  throw std::invalid_argument(origin_ + ": recording does not replay: " + what + " — env changed?");
}

const TimeStep& Replayer::Next() {
  if (done()) throw std::logic_error(origin_ + ": the replay is already at its last step");
  if (ts_.last()) {
    Mismatch("the episode ended after step " + Str(step_) + " of " + Str(r_.length));
  }
  Action action;
  action.index = r_.actions[static_cast<size_t>(step_)];
  ts_ = env_->Step(action, obs_.Ref());
  const float recorded = r_.rewards[static_cast<size_t>(step_)];
  ++step_;
  // Exact in the same build; the slack only forgives another compiler's rounding.
  if (std::fabs(ts_.reward - recorded) > 1e-6f + 1e-5f * std::fabs(recorded)) {
    Mismatch("reward mismatch at step " + Str(step_) + " (recorded " + FloatText(recorded) +
             ", re-simulated " + FloatText(ts_.reward) + ")");
  }
  if (!r_.obs_checksums.empty() &&
      ObservationChecksum(obs_) != r_.obs_checksums[static_cast<size_t>(step_ - 1)]) {
    Mismatch("observation mismatch at step " + Str(step_) + " (the checksums differ)");
  }
  return_ += ts_.reward;
  if (done()) {
    if (!ts_.last()) {
      Mismatch("the episode has not ended after the last recorded step (" + Str(r_.length) + ")");
    }
    if (ts_.success != r_.success) {
      Mismatch(std::string("recorded ") + (r_.success ? "success" : "failure") +
               " but the re-simulated episode " + (ts_.success ? "succeeded" : "failed"));
    }
  }
  return ts_;
}

void Replayer::Seek(int step) {
  if (step < 0 || step > r_.length) {
    throw std::out_of_range(origin_ + ": no step " + Str(step) + " (length " + Str(r_.length) +
                            ")");
  }
  if (step < step_) Restart();
  while (step_ < step) Next();
}

std::vector<Frame> ReplayFrames(const EpisodeRecording& recording, const std::string& origin) {
  Replayer replay(recording, origin);
  std::vector<Frame> frames(static_cast<size_t>(recording.length) + 1);
  replay.Render(&frames[0]);
  while (!replay.done()) {
    replay.Next();
    replay.Render(&frames[static_cast<size_t>(replay.step())]);
  }
  return frames;
}

}  // namespace rimlab
