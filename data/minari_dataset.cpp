#include "data/minari_dataset.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rimlab::minari {

namespace fs = std::filesystem;

namespace {

constexpr char kFileName[] = "main_data.hdf5";
constexpr char kMetadataName[] = "metadata.json";

/// Python's json.dumps layout (", " and ": "), which Minari's strings use; the spaces are JSON
/// inside JSON, so keeping Python's spelling makes ours compare equal as text, not only as values.
template <typename Json>
std::string PyDump(const Json& j) {
  if (j.is_object()) {
    std::string s = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      s += (first ? "" : ", ") + Json(it.key()).dump() + ": " + PyDump(it.value());
      first = false;
    }
    return s + "}";
  }
  if (j.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < j.size(); ++i) s += (i ? ", " : "") + PyDump(j[i]);
    return s + "]";
  }
  return j.dump();
}

/// Insertion order, which the Box keys need (type, dtype, shape, low, high, as Minari writes);
/// plain json sorts keys.
using Ordered = nlohmann::ordered_json;

bool IsDiscreteField(const ArraySpec& f) {
  return f.shape.size() == 1 && f.shape[0] == 1 && f.dtype != DType::kFloat32;
}

Ordered Filled(const std::vector<int64_t>& shape, size_t axis, const Ordered& value) {
  if (axis == shape.size()) return value;
  Ordered a = Ordered::array();
  for (int64_t i = 0; i < shape[axis]; ++i) a.push_back(Filled(shape, axis + 1, value));
  return a;
}

Ordered FieldSpace(const ArraySpec& f) {
  Ordered s;
  if (IsDiscreteField(f)) {
    s["type"] = "Discrete";
    s["dtype"] = "int64";
    s["start"] = static_cast<int64_t>(f.minimum);
    s["n"] = static_cast<int64_t>(f.maximum - f.minimum) + 1;
    return s;
  }
  s["type"] = "Box";
  s["dtype"] = DTypeName(f.dtype);
  s["shape"] = f.shape;
  if (f.dtype == DType::kFloat32) {
    s["low"] = Filled(f.shape, 0, f.minimum);
    s["high"] = Filled(f.shape, 0, f.maximum);
  } else if (f.dtype == DType::kUInt8) {
    s["low"] = Filled(f.shape, 0, 0);
    s["high"] = Filled(f.shape, 0, 255);
  } else {
    s["low"] = Filled(f.shape, 0, static_cast<int64_t>(f.minimum));
    s["high"] = Filled(f.shape, 0, static_cast<int64_t>(f.maximum));
  }
  return s;
}

h5::Type StoredType(DType d) {
  switch (d) {
    case DType::kUInt8:
      return h5::Type::kUInt8;
    case DType::kInt32:
      return h5::Type::kInt32;
    case DType::kFloat32:
      return h5::Type::kFloat32;
  }
  return h5::Type::kUInt8;
}

std::vector<hsize_t> RowsShape(hsize_t rows, const std::vector<int64_t>& per_row) {
  std::vector<hsize_t> d = {rows};
  for (int64_t x : per_row) d.push_back(static_cast<hsize_t>(x));
  return d;
}

/// DIR/data, where a dataset lives (and where a new one goes), or DIR itself when it is already
/// a dataset's data directory (it holds metadata.json). The name alone decides nothing: a dataset
/// written to a directory called "data" lives in data/data.
std::string DataDir(const std::string& dir) {
  const fs::path p(dir);
  if (!fs::exists(p / "data" / kMetadataName) && fs::exists(p / kMetadataName)) return p.string();
  return (p / "data").string();
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw h5::Error(path + ": missing or unreadable (not a Minari dataset directory?)");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw h5::Error(path + ": not valid JSON (" + e.what() + ")");
  }
}

int64_t RequireInt(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<int64_t>() < 0) {
    throw h5::Error(where + ": key '" + key + "' must be a non-negative integer");
  }
  return j[key].get<int64_t>();
}

nlohmann::json ParseSpace(const nlohmann::json& metadata, const std::string& key,
                          const std::string& where) {
  if (!metadata.contains(key) || !metadata[key].is_string()) {
    throw h5::Error(where + ": key '" + key + "' must be a serialised space (a string)");
  }
  try {
    return nlohmann::json::parse(metadata[key].get<std::string>());
  } catch (const nlohmann::json::exception&) {
    throw h5::Error(where + ": key '" + key + "' is not a serialised space");
  }
}

/// The provenance keys as metadata.json carries them.
nlohmann::json CollectionEntry(const Provenance& p) {
  nlohmann::json c = {{"env_name", p.env_name},
                      {"split", p.split},
                      {"algorithm_name", p.algorithm_name},
                      {"epsilon", p.epsilon},
                      {"seed", p.seed}};
  c["env_options"] = p.env_options.is_null() ? nlohmann::json::object() : p.env_options;
  if (!p.policy.empty()) c["policy"] = p.policy;
  return c;
}

void CheckEpisodeShapes(const Episode& e, const EnvSpec& spec, const std::string& where) {
  const size_t steps = e.actions.size();
  if (steps == 0) throw h5::Error(where + ": an episode needs at least one step");
  if (e.rewards.size() != steps || e.terminations.size() != steps ||
      e.truncations.size() != steps) {
    throw h5::Error(where + ": actions, rewards, terminations and truncations differ in length");
  }
  if (e.observations.size() != spec.observation.fields.size()) {
    throw h5::Error(where + ": the episode has " + std::to_string(e.observations.size()) +
                    " observation fields, the env " +
                    std::to_string(spec.observation.fields.size()));
  }
  for (size_t f = 0; f < e.observations.size(); ++f) {
    if (e.observations[f].size() != (steps + 1) * spec.observation.fields[f].NumBytes()) {
      throw h5::Error(where + ": observations/" + spec.observation.fields[f].name +
                      " does not hold steps + 1 rows");
    }
  }
  if (!e.action_probs.empty() &&
      e.action_probs.size() != steps * static_cast<size_t>(spec.action.num_actions)) {
    throw h5::Error(where + ": action_probs must hold steps x actions values");
  }
}

}  // namespace

std::string SerializeObservationSpace(const ObservationSpec& spec) {
  std::vector<const ArraySpec*> fields;
  for (const auto& f : spec.fields) fields.push_back(&f);
  std::sort(fields.begin(), fields.end(),
            [](const ArraySpec* a, const ArraySpec* b) { return a->name < b->name; });
  Ordered sub = Ordered::object();
  for (const ArraySpec* f : fields) sub[f->name] = FieldSpace(*f);
  Ordered s;
  s["type"] = "Dict";
  s["subspaces"] = sub;
  return PyDump(s);
}

std::string SerializeActionSpace(const ActionSpec& spec) {
  if (spec.discrete()) {
    return "{\"type\": \"Discrete\", \"dtype\": \"int64\", \"start\": 0, \"n\": " +
           std::to_string(spec.num_actions) + "}";
  }
  return PyDump(FieldSpace({"action", {spec.dim}, DType::kFloat32, spec.low, spec.high}));
}

Writer::Writer(std::string dir, const EnvSpec& spec, nlohmann::json metadata, h5::Group root)
    : dir_(std::move(dir)),
      file_((fs::path(dir_) / kFileName).string()),
      spec_(spec),
      metadata_(std::move(metadata)),
      root_(std::make_unique<h5::Group>(std::move(root))) {
  total_episodes_ = metadata_.value("total_episodes", int64_t{0});
  total_steps_ = metadata_.value("total_steps", int64_t{0});
}

Writer Writer::Create(const std::string& dir, const EnvSpec& spec, const Provenance& p) {
  const std::string data = DataDir(dir);
  if (fs::exists(fs::path(data) / kMetadataName) || fs::exists(fs::path(data) / kFileName)) {
    throw h5::Error(data +
                    ": already holds a dataset; pass --append to add to it, or another "
                    "--out");
  }
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) throw h5::Error(data + ": cannot create the directory (" + ec.message() + ")");
  nlohmann::json m;
  m["total_episodes"] = 0;
  m["total_steps"] = 0;
  m["data_format"] = "hdf5";
  // Images are stored as raw uint8 arrays, not JPEG.
  m["jpeg_encoding"] = false;
  m["observation_space"] = SerializeObservationSpace(spec.observation);
  m["action_space"] = SerializeActionSpace(spec.action);
  std::string id = p.dataset_id;
  if (id.empty()) {
    fs::path d = fs::path(dir).lexically_normal();
    if (d.filename().empty()) d = d.parent_path();
    id = d.filename().string();
  }
  m["dataset_id"] = id;
  m["algorithm_name"] = p.algorithm_name;
  m["env_name"] = p.env_name;
  m["collections"] = nlohmann::json::array({CollectionEntry(p)});
  Writer w(data, spec, m, h5::CreateFile((fs::path(data) / kFileName).string()));
  w.WriteMetadata();
  return w;
}

Writer Writer::Append(const std::string& dir, const EnvSpec& spec, const Provenance& p) {
  const std::string data = DataDir(dir);
  nlohmann::json m;
  std::string file;
  {
    // Closed before the file reopens for writing: HDF5 refuses a second, writable open.
    Reader existing(data);
    existing.CheckMatches(spec);
    existing.Validate(spec.observation);
    m = existing.metadata();
    file = existing.file();
  }
  if (m.value("env_name", p.env_name) != p.env_name) {
    throw h5::Error(file + ": holds episodes of '" + m.value("env_name", "") + "', not of '" +
                    p.env_name + "'");
  }
  if (!m.contains("collections") || !m["collections"].is_array()) {
    m["collections"] = nlohmann::json::array();
  }
  m["collections"].push_back(CollectionEntry(p));
  if (m.value("algorithm_name", "") != p.algorithm_name) m["algorithm_name"] = "mixed";
  return Writer(data, spec, m, h5::OpenFileForUpdate(file));
}

void Writer::Add(const Episode& e) {
  const std::string name = "episode_" + std::to_string(total_episodes_);
  CheckEpisodeShapes(e, spec_, file_ + ": " + name);
  const hsize_t steps = static_cast<hsize_t>(e.steps());
  h5::Group g = root_->CreateGroup(name);
  g.SetAttribute("id", total_episodes_);
  g.SetAttribute("seed", e.seed);
  g.SetAttribute("total_steps", static_cast<int64_t>(steps));
  h5::Group obs = g.CreateGroup("observations");
  for (size_t f = 0; f < spec_.observation.fields.size(); ++f) {
    const ArraySpec& field = spec_.observation.fields[f];
    const bool discrete = IsDiscreteField(field);
    const auto dims =
        discrete ? std::vector<hsize_t>{steps + 1} : RowsShape(steps + 1, field.shape);
    // gzip on the whole episode: gridworld views repeat, and every HDF5 reader decodes it.
    const auto d = obs.CreateDataset(
        field.name, discrete ? h5::Type::kInt64 : StoredType(field.dtype), dims, dims, 4);
    d.WriteAll(e.observations[f].data(), StoredType(field.dtype));
  }
  g.CreateDataset("actions", h5::Type::kInt64, {steps})
      .WriteAll(e.actions.data(), h5::Type::kInt64);
  g.CreateDataset("rewards", h5::Type::kFloat64, {steps})
      .WriteAll(e.rewards.data(), h5::Type::kFloat64);
  g.CreateDataset("terminations", h5::Type::kBool, {steps})
      .WriteAll(e.terminations.data(), h5::Type::kBool);
  g.CreateDataset("truncations", h5::Type::kBool, {steps})
      .WriteAll(e.truncations.data(), h5::Type::kBool);
  g.CreateGroup("infos");
  if (!e.action_probs.empty()) {
    const hsize_t n = static_cast<hsize_t>(spec_.action.num_actions);
    g.CreateDataset("action_probs", h5::Type::kFloat32, {steps, n})
        .WriteAll(e.action_probs.data(), h5::Type::kFloat32);
  }
  H5Fflush(root_->id(), H5F_SCOPE_GLOBAL);
  ++total_episodes_;
  total_steps_ += e.steps();
  WriteMetadata();
}

void Writer::WriteMetadata() const {
  nlohmann::json m = metadata_;
  m["total_episodes"] = total_episodes_;
  m["total_steps"] = total_steps_;
  std::error_code ec;
  const auto bytes = fs::file_size(file_, ec);
  m["dataset_size"] = ec ? 0.0 : static_cast<double>(bytes / 100000) / 10.0;  // MB, as Minari
  const std::string path = (fs::path(dir_) / kMetadataName).string();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << PyDump(m);
    if (!out) throw h5::Error(tmp + ": cannot write (disk full?)");
  }
  fs::rename(tmp, path, ec);
  if (ec) throw h5::Error(path + ": cannot replace (" + ec.message() + ")");
}

Reader::Reader(const std::string& dir) : data_dir_(DataDir(dir)) {
  const std::string meta_path = (fs::path(data_dir_) / kMetadataName).string();
  metadata_ = ReadJson(meta_path);
  if (!metadata_.is_object()) throw h5::Error(meta_path + ": not a JSON object");
  total_episodes_ = RequireInt(metadata_, "total_episodes", meta_path);
  total_steps_ = RequireInt(metadata_, "total_steps", meta_path);
  if (metadata_.value("data_format", "hdf5") != "hdf5") {
    throw h5::Error(meta_path + ": data_format '" + metadata_.value("data_format", "") +
                    "' (only hdf5 is read)");
  }
  const auto obs = ParseSpace(metadata_, "observation_space", meta_path);
  if (obs.value("type", "") != "Dict" || !obs.contains("subspaces")) {
    throw h5::Error(meta_path + ": observation_space must be a Dict");
  }
  for (auto it = obs["subspaces"].begin(); it != obs["subspaces"].end(); ++it) {
    StoredField f;
    f.name = it.key();
    const std::string type = it.value().value("type", "");
    f.dtype = it.value().value("dtype", "");
    if (type == "Discrete") {
      f.discrete = true;
    } else if (type == "Box") {
      f.shape = it.value().value("shape", std::vector<int64_t>{});
    } else {
      throw h5::Error(meta_path + ": observation_space." + f.name + " is a '" + type +
                      "' (rimlab reads Box and Discrete)");
    }
    fields_.push_back(f);
  }
  const auto act = ParseSpace(metadata_, "action_space", meta_path);
  if (act.value("type", "") == "Discrete") num_actions_ = act.value("n", 0);
  file_ = (fs::path(data_dir_) / kFileName).string();
  root_ = std::make_unique<h5::Group>(h5::OpenFile(file_));
}

void Reader::CheckMatches(const EnvSpec& spec) const {
  const std::string meta_path = (fs::path(data_dir_) / kMetadataName).string();
  if (nlohmann::json::parse(SerializeObservationSpace(spec.observation)) !=
      ParseSpace(metadata_, "observation_space", meta_path)) {
    throw h5::Error(meta_path + ": observation_space differs from " + spec.name + "'s");
  }
  if (nlohmann::json::parse(SerializeActionSpace(spec.action)) !=
      ParseSpace(metadata_, "action_space", meta_path)) {
    throw h5::Error(meta_path + ": action_space differs from " + spec.name + "'s");
  }
}

Episode Reader::Read(int64_t id, const ObservationSpec& spec) const {
  const std::string name = "episode_" + std::to_string(id);
  if (id < 0 || id >= total_episodes_ || !root_->Has(name)) {
    throw h5::Error(root_->Where(name) + ": no such episode (the dataset has " +
                    std::to_string(total_episodes_) + ")");
  }
  const h5::Group g = root_->OpenGroup(name);
  Episode e;
  e.id = id;
  e.seed = g.HasAttribute("seed") ? g.GetIntAttribute("seed") : 0;
  const auto actions = g.OpenDataset("actions");
  const auto ainfo = actions.Info();
  if (ainfo.dims.size() != 1 || ainfo.dims[0] == 0 || ainfo.type_class != H5T_INTEGER) {
    throw h5::Error(actions.where() + ": expected one integer action per step, found shape " +
                    h5::ShapeString(ainfo.dims));
  }
  const hsize_t steps = ainfo.dims[0];
  if (g.HasAttribute("total_steps") &&
      g.GetIntAttribute("total_steps") != static_cast<int64_t>(steps)) {
    throw h5::Error(g.Where() + ": total_steps says " +
                    std::to_string(g.GetIntAttribute("total_steps")) + ", actions hold " +
                    std::to_string(steps));
  }
  e.actions.resize(steps);
  actions.ReadAll(e.actions.data(), h5::Type::kInt64);
  for (int64_t a : e.actions) {
    if (num_actions_ > 0 && (a < 0 || a >= num_actions_)) {
      throw h5::Error(actions.where() + ": action " + std::to_string(a) + " outside Discrete(" +
                      std::to_string(num_actions_) + ")");
    }
  }
  const auto read_rows = [&](const std::string& key, h5::Type type, void* out, H5T_class_t cls) {
    const auto d = g.OpenDataset(key);
    const auto info = d.Info();
    if (info.dims != std::vector<hsize_t>{steps} || info.type_class != cls) {
      throw h5::Error(d.where() + ": expected shape " + h5::ShapeString({steps}) +
                      (cls == H5T_ENUM ? " of bool" : "") + ", found " +
                      h5::ShapeString(info.dims));
    }
    d.ReadAll(out, type);
  };
  e.rewards.resize(steps);
  read_rows("rewards", h5::Type::kFloat64, e.rewards.data(), H5T_FLOAT);
  e.terminations.resize(steps);
  read_rows("terminations", h5::Type::kBool, e.terminations.data(), H5T_ENUM);
  e.truncations.resize(steps);
  read_rows("truncations", h5::Type::kBool, e.truncations.data(), H5T_ENUM);

  const h5::Group obs = g.OpenGroup("observations");
  for (const ArraySpec& field : spec.fields) {
    const auto d = obs.OpenDataset(field.name);
    const auto info = d.Info();
    const auto want = IsDiscreteField(field) ? std::vector<hsize_t>{steps + 1}
                                             : RowsShape(steps + 1, field.shape);
    if (info.dims != want) {
      throw h5::Error(d.where() + ": expected shape " + h5::ShapeString(want) +
                      " (steps + 1 rows), found " + h5::ShapeString(info.dims));
    }
    std::vector<uint8_t> bytes((steps + 1) * field.NumBytes());
    d.ReadAll(bytes.data(), StoredType(field.dtype));
    e.observations.push_back(std::move(bytes));
  }
  if (g.Has("action_probs") && num_actions_ > 0) {
    const auto d = g.OpenDataset("action_probs");
    const auto n = static_cast<hsize_t>(num_actions_);
    if (d.Info().dims != std::vector<hsize_t>{steps, n}) {
      throw h5::Error(d.where() + ": expected shape " + h5::ShapeString({steps, n}) + ", found " +
                      h5::ShapeString(d.Info().dims));
    }
    e.action_probs.resize(steps * n);
    d.ReadAll(e.action_probs.data(), h5::Type::kFloat32);
  }
  return e;
}

void Reader::Validate(const ObservationSpec& spec) const {
  int64_t groups = 0;
  for (const auto& child : root_->Children()) {
    if (child.rfind("episode_", 0) == 0) ++groups;
  }
  if (groups != total_episodes_) {
    throw h5::Error(file_ + ": holds " + std::to_string(groups) + " episodes, metadata.json says " +
                    std::to_string(total_episodes_));
  }
  int64_t steps = 0;
  for (int64_t i = 0; i < total_episodes_; ++i) steps += Read(i, spec).steps();
  if (steps != total_steps_) {
    throw h5::Error(file_ + ": episodes hold " + std::to_string(steps) +
                    " steps, metadata.json says " + std::to_string(total_steps_));
  }
}

}  // namespace rimlab::minari
