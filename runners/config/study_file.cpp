#include "runners/config/study_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

namespace rimlab {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kTopKeys = {"study",    "base",     "seeds",     "total_frames",
                                        "updates",  "datasets", "overrides", "variants",
                                        "baseline", "eval"};
const std::set<std::string> kDatasetKeys = {"file", "variant", "sequences", "validation",
                                            "test", "frames",  "seed"};
const std::set<std::string> kVariantKeys = {"name", "base", "overrides"};
const std::set<std::string> kEvalKeys = {
    "splits", "episodes", "random_episodes", "greedy", "bootstrap_resamples", "unit_episodes"};

std::string Line(const std::string& path, const YAML::Mark& mark) {
  return path + ":" + std::to_string(mark.line + 1);
}

[[noreturn]] void Fail(const std::string& where, const std::string& key, const std::string& what) {
  throw ConfigError(where + ": key '" + key + "': " + what);
}

std::string Known(const std::set<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

void CheckKeys(const std::string& path, const YAML::Node& map, const std::set<std::string>& known,
               const std::string& context) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (known.count(key) == 0) {
      Fail(Line(path, kv.first.Mark()), key,
           "unknown key in " + context + " (known: " + Known(known) + ")");
    }
  }
}

int64_t ReadInt(const std::string& path, const YAML::Node& node, const std::string& key,
                int64_t min, int64_t max) {
  int64_t v = 0;
  try {
    if (!node.IsScalar()) throw YAML::Exception(node.Mark(), "not a scalar");
    v = node.as<int64_t>();
  } catch (const YAML::Exception&) {
    Fail(Line(path, node.Mark()), key, "expected an integer");
  }
  if (v < min || v > max) {
    Fail(Line(path, node.Mark()), key,
         "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
             std::to_string(v));
  }
  return v;
}

// `overrides:` as a map ({core.top_k: 4}) or a list of "section.key=value" strings.
std::vector<StudyOverride> ReadOverrides(const std::string& path, const YAML::Node& node,
                                         const std::string& key) {
  std::vector<StudyOverride> out;
  if (node.IsNull()) return out;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const YAML::Node& v = kv.second;
      std::string text;
      if (v.IsScalar()) {
        text = v.Scalar();
      } else if (v.IsSequence()) {
        text = "[";
        for (size_t i = 0; i < v.size(); ++i) {
          if (!v[i].IsScalar()) {
            Fail(Line(path, v[i].Mark()), kv.first.as<std::string>(),
                 "expected a plain value or a list of them");
          }
          text += (i ? ", " : "") + v[i].Scalar();
        }
        text += "]";
      } else {
        Fail(Line(path, kv.first.Mark()), kv.first.as<std::string>(),
             "expected a plain value or a list of them");
      }
      out.push_back({kv.first.as<std::string>() + "=" + text, Line(path, kv.first.Mark())});
    }
    return out;
  }
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar() || item.Scalar().find('=') == std::string::npos) {
        Fail(Line(path, item.Mark()), key, "expected section.key=value strings");
      }
      out.push_back({item.Scalar(), Line(path, item.Mark())});
    }
    return out;
  }
  Fail(Line(path, node.Mark()), key,
       "expected a map of section.key: value or a list of section.key=value");
}

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<StudyCell> StudyFile::Cells() const {
  std::vector<StudyCell> cells;
  for (size_t v = 0; v < variants.size(); ++v) {
    for (int64_t seed : seeds) {
      cells.push_back({variants[v].name + "-s" + std::to_string(seed), static_cast<int>(v), seed});
    }
  }
  return cells;
}

int StudyFile::VariantIndex(const std::string& variant) const {
  for (size_t i = 0; i < variants.size(); ++i) {
    if (variants[i].name == variant) return static_cast<int>(i);
  }
  return -1;
}

Config StudyFile::CellConfig(const StudyCell& cell) const {
  const StudyVariant& v = variants[static_cast<size_t>(cell.variant)];
  Config c = Config::Load(v.base.empty() ? base : v.base);
  for (const auto& o : overrides) c.Override(o.assignment, o.where);
  // The study's budget before the variant's overrides, so that a variant may set its own.
  if (total_frames > 0) {
    c.Override("total_frames=" + std::to_string(total_frames), total_frames_where);
  }
  if (updates > 0) c.Override("train.updates=" + std::to_string(updates), updates_where);
  for (const auto& o : v.overrides) c.Override(o.assignment, o.where);
  c.Override("seed=" + std::to_string(cell.seed), seeds_where);
  c.Override("name=" + cell.id, path);
  return c;
}

StudyFile LoadStudyFile(const std::string& path) {
  if (!fs::is_regular_file(path)) throw ConfigError(path + ": no such study file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap())
    throw ConfigError(path + ":1: expected a mapping (study, base, variants, ...)");
  CheckKeys(path, root, kTopKeys, "the study");

  StudyFile s;
  s.path = path;
  s.name = root["study"] ? root["study"].as<std::string>() : fs::path(path).stem().string();
  if (!ValidName(s.name)) {
    Fail(Line(path, root["study"].Mark()), "study",
         "expected a name of letters, digits, '_' and '.', got '" + s.name + "'");
  }

  if (!root["base"] || !root["base"].IsScalar()) {
    throw ConfigError(path +
                      ":1: key 'base': missing: the training config the variants start from");
  }
  s.base_where = Line(path, root["base"].Mark());
  {
    fs::path b = root["base"].Scalar();
    if (b.is_relative()) b = fs::path(path).parent_path() / b;
    s.base = b.lexically_normal().string();
    if (!fs::is_regular_file(s.base)) {
      Fail(s.base_where, "base", "no such config file '" + s.base + "'");
    }
  }

  if (const YAML::Node seeds = root["seeds"]) {
    s.seeds_where = Line(path, seeds.Mark());
    if (seeds.IsSequence()) {
      std::set<int64_t> seen;
      for (const auto& item : seeds) {
        const int64_t v = ReadInt(path, item, "seeds", 0, 2147483647);
        if (!seen.insert(v).second) {
          Fail(Line(path, item.Mark()), "seeds", "seed " + std::to_string(v) + " appears twice");
        }
        s.seeds.push_back(v);
      }
      if (s.seeds.empty()) Fail(s.seeds_where, "seeds", "expected at least one seed");
    } else {
      const int64_t n = ReadInt(path, seeds, "seeds", 1, 1000);
      for (int64_t i = 1; i <= n; ++i) s.seeds.push_back(i);
    }
  } else {
    s.seeds_where = path;
    for (int64_t i = 1; i <= 5; ++i) s.seeds.push_back(i);
  }

  if (const YAML::Node tf = root["total_frames"]) {
    s.total_frames_where = Line(path, tf.Mark());
    s.total_frames = ReadInt(path, tf, "total_frames", 1, int64_t{1} << 50);
  }
  if (const YAML::Node u = root["updates"]) {
    s.updates_where = Line(path, u.Mark());
    s.updates = ReadInt(path, u, "updates", 1, int64_t{1} << 40);
  }
  if (s.total_frames > 0 && s.updates > 0) {
    Fail(s.updates_where, "updates",
         "give either total_frames (an RL study's budget) or updates (a prediction study's)");
  }
  if (const YAML::Node d = root["datasets"]) {
    if (!d.IsSequence()) {
      Fail(Line(path, d.Mark()), "datasets",
           "expected a list of {file, variant, sequences, test, ...} maps");
    }
    for (const auto& item : d) {
      if (!item.IsMap()) Fail(Line(path, item.Mark()), "datasets", "expected a map per file");
      CheckKeys(path, item, kDatasetKeys, "a dataset");
      StudyDataset ds;
      ds.where = Line(path, item.Mark());
      if (!item["file"] || !item["file"].IsScalar() || item["file"].Scalar().empty()) {
        Fail(ds.where, "file", "every dataset needs a file (the path its configs name)");
      }
      ds.file = item["file"].Scalar();
      if (item["variant"]) ds.variant = item["variant"].Scalar();
      if (item["sequences"])
        ds.sequences = ReadInt(path, item["sequences"], "sequences", 1, 1 << 30);
      if (item["validation"]) {
        ds.validation = ReadInt(path, item["validation"], "validation", 0, 1 << 30);
      }
      if (item["test"]) ds.test = ReadInt(path, item["test"], "test", 0, 1 << 30);
      if (item["frames"]) {
        ds.frames = static_cast<int>(ReadInt(path, item["frames"], "frames", 2, 100000));
      }
      if (item["seed"]) ds.seed = ReadInt(path, item["seed"], "seed", 0, int64_t{1} << 40);
      s.datasets.push_back(ds);
    }
  }
  if (const YAML::Node o = root["overrides"]) s.overrides = ReadOverrides(path, o, "overrides");

  const YAML::Node variants = root["variants"];
  if (!variants || !variants.IsSequence() || variants.size() == 0) {
    throw ConfigError((variants ? Line(path, variants.Mark()) : path + ":1") +
                      ": key 'variants': expected a list of variants, each with a name and "
                      "overrides");
  }
  std::set<std::string> names;
  for (const auto& v : variants) {
    if (!v.IsMap()) Fail(Line(path, v.Mark()), "variants", "expected a map with name, overrides");
    CheckKeys(path, v, kVariantKeys, "a variant");
    StudyVariant sv;
    sv.where = Line(path, v.Mark());
    if (!v["name"] || !v["name"].IsScalar()) Fail(sv.where, "name", "every variant needs a name");
    sv.name = v["name"].Scalar();
    if (!ValidName(sv.name)) {
      Fail(Line(path, v["name"].Mark()), "name",
           "expected a name of letters, digits, '_' and '.', got '" + sv.name + "'");
    }
    if (!names.insert(sv.name).second) {
      Fail(Line(path, v["name"].Mark()), "name", "variant '" + sv.name + "' is named twice");
    }
    if (const YAML::Node b = v["base"]) {
      fs::path p = b.Scalar();
      if (p.is_relative()) p = fs::path(path).parent_path() / p;
      sv.base = p.lexically_normal().string();
      if (!fs::is_regular_file(sv.base)) {
        Fail(Line(path, b.Mark()), "base", "no such config file '" + sv.base + "'");
      }
    }
    if (v["overrides"]) sv.overrides = ReadOverrides(path, v["overrides"], "overrides");
    s.variants.push_back(sv);
  }

  if (const YAML::Node b = root["baseline"]) {
    s.baseline = b.as<std::string>();
    if (s.VariantIndex(s.baseline) < 0) {
      Fail(Line(path, b.Mark()), "baseline", "no variant is named '" + s.baseline + "'");
    }
  } else {
    s.baseline = s.variants.back().name;
  }

  if (const YAML::Node e = root["eval"]) {
    if (!e.IsMap()) Fail(Line(path, e.Mark()), "eval", "expected a map");
    CheckKeys(path, e, kEvalKeys, "section 'eval'");
    if (const YAML::Node sp = e["splits"]) {
      if (sp.IsScalar()) {
        s.splits.push_back(sp.Scalar());
      } else if (sp.IsSequence()) {
        for (const auto& item : sp) s.splits.push_back(item.as<std::string>());
      } else {
        Fail(Line(path, sp.Mark()), "splits", "expected a list of split names");
      }
    }
    if (e["episodes"]) {
      s.episodes = static_cast<int>(ReadInt(path, e["episodes"], "episodes", 1, 100000000));
    }
    if (e["random_episodes"]) {
      s.random_episodes =
          static_cast<int>(ReadInt(path, e["random_episodes"], "random_episodes", 0, 100000000));
    }
    if (e["greedy"]) {
      try {
        s.greedy = e["greedy"].as<bool>();
      } catch (const YAML::Exception&) {
        Fail(Line(path, e["greedy"].Mark()), "greedy", "expected true or false");
      }
    }
    if (e["unit_episodes"]) {
      s.unit_episodes =
          static_cast<int>(ReadInt(path, e["unit_episodes"], "unit_episodes", 0, 1000000));
    }
    if (e["bootstrap_resamples"]) {
      s.bootstrap_resamples = static_cast<int>(
          ReadInt(path, e["bootstrap_resamples"], "bootstrap_resamples", 100, 10000000));
    }
  }
  return s;
}

}  // namespace rimlab
