// Episodes in Minari's layout (data/minari_dataset.h): the dataset Minari itself wrote
// (tests/fixtures/minari, copied from the project's shared fixtures) read back value by value,
// our spaces serialised to Minari's exact text, our files walked with h5py the way Minari's
// loader walks them, appending, and every malformed dataset giving an error that names the file
// and the object.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/hdf5_file.h"
#include "data/minari_dataset.h"
#include "envs/core/env.h"
#include "envs/registry.h"
#include "tests/file_test_util.h"

namespace fs = std::filesystem;
using namespace rimlab;
using rimlab::minari::Episode;
using rimlab::minari::Reader;
using rimlab::minari::Writer;

namespace {

const char kFixture[] = "tests/fixtures/minari/pickup-random-v0";

using file_test::RunPython;
using file_test::TempDir;

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const h5::Error& e) {
    return e.what();
  }
  return "";
}

/// The observation space the fixture declares: MiniGrid's image, direction and a 3-token
/// mission over 32 tokens.
ObservationSpec FixtureSpec() {
  ObservationSpec s;
  s.fields.push_back({"image", {7, 7, 3}, DType::kUInt8, 0, 10});
  s.fields.push_back({"direction", {1}, DType::kInt32, 0, 3});
  s.fields.push_back({"mission", {3}, DType::kInt32, 0, 31});
  return s;
}

nlohmann::json FixtureMetadata() {
  std::ifstream in(std::string(kFixture) + "/data/metadata.json");
  return nlohmann::json::parse(in);
}

/// Plays `episodes` episodes of `env` with actions cycling through a fixed list, recording them
/// as a collector would.
std::vector<Episode> Play(Environment* env, int episodes, uint64_t seed) {
  const EnvSpec& spec = env->Spec();
  const int actions[] = {2, 2, 3, 0, 2, 3, 1, 2, 3};
  std::vector<Episode> out;
  Observation obs(spec.observation);
  for (int e = 0; e < episodes; ++e) {
    Episode ep;
    ep.seed = static_cast<int64_t>(seed) + e;
    env->Seed(static_cast<uint64_t>(ep.seed));
    ep.observations.resize(spec.observation.fields.size());
    const auto record = [&] {
      for (int f = 0; f < obs.num_fields(); ++f) {
        const auto* p = static_cast<const uint8_t*>(obs.data(f));
        ep.observations[f].insert(ep.observations[f].end(), p, p + obs.num_bytes(f));
      }
    };
    TimeStep ts = env->Reset(obs.Ref());
    record();
    for (int t = 0; !ts.last(); ++t) {
      const int a = actions[(t + e) % 9];
      ts = env->Step(Action{a, nullptr}, obs.Ref());
      record();
      ep.actions.push_back(a);
      ep.rewards.push_back(ts.reward);
      ep.terminations.push_back(ts.terminated() ? 1 : 0);
      ep.truncations.push_back(ts.truncated() ? 1 : 0);
      for (int k = 0; k < spec.action.num_actions; ++k) {
        ep.action_probs.push_back(k == a ? 0.5f : 0.5f / (spec.action.num_actions - 1));
      }
    }
    out.push_back(std::move(ep));
  }
  return out;
}

minari::Provenance Source(const std::string& env) {
  minari::Provenance p;
  p.env_name = env;
  p.algorithm_name = "scripted";
  p.env_options = {{"size", 6}};
  p.seed = 7;
  return p;
}

}  // namespace

TEST_CASE("our spaces serialise to the text Minari wrote", "[minari]") {
  const auto meta = FixtureMetadata();
  CHECK(minari::SerializeObservationSpace(FixtureSpec()) ==
        meta["observation_space"].get<std::string>());
  CHECK(minari::SerializeActionSpace(ActionSpec::Discrete(7)) ==
        meta["action_space"].get<std::string>());
}

TEST_CASE("the dataset Minari wrote reads back value by value", "[minari][fixtures]") {
  Reader r(kFixture);
  CHECK(r.total_episodes() == 3);
  CHECK(r.total_steps() == 18);
  CHECK(r.num_actions() == 7);
  REQUIRE(r.fields().size() == 3);
  CHECK(r.fields()[0].name == "direction");
  CHECK(r.fields()[0].discrete);
  CHECK(r.fields()[1].shape == std::vector<int64_t>{7, 7, 3});
  r.Validate(FixtureSpec());
  EnvSpec spec;
  spec.name = "fixture";
  spec.observation = FixtureSpec();
  spec.action = ActionSpec::Discrete(7);
  r.CheckMatches(spec);

  const Episode e0 = r.Read(0, FixtureSpec());
  CHECK(e0.seed == 100);
  CHECK(e0.actions == std::vector<int64_t>{2, 1, 3, 6});
  CHECK(e0.rewards == std::vector<double>{0.0, 0.0, 0.0, 0.9});
  CHECK(e0.terminations == std::vector<uint8_t>{0, 0, 0, 1});
  CHECK(e0.truncations == std::vector<uint8_t>{0, 0, 0, 0});
  // direction, Discrete int64 on disk, arrives as the env's int32 {1} field.
  const auto* dir = reinterpret_cast<const int32_t*>(e0.observations[1].data());
  CHECK(std::vector<int32_t>(dir, dir + 5) == std::vector<int32_t>{3, 0, 3, 3, 3});
  const auto* mission = reinterpret_cast<const int32_t*>(e0.observations[2].data());
  for (int row = 0; row < 5; ++row) {
    CHECK(mission[row * 3] == 1);
    CHECK(mission[row * 3 + 2] == 3);
  }
  CHECK(e0.observations[0].size() == 5u * 7 * 7 * 3);
  CHECK(e0.action_probs.empty());
  const Episode e2 = r.Read(2, FixtureSpec());
  CHECK(e2.steps() == 8);
  CHECK(e2.truncations.back() == 1);
  CHECK(e2.terminations.back() == 0);
  CHECK(ErrorOf([&] { r.Read(3, FixtureSpec()); }).find("episode_3: no such episode") !=
        std::string::npos);
}

TEST_CASE("a recorded pickup dataset round-trips and has the fixture's structure", "[minari]") {
  TempDir tmp;
  auto env = MakeEnv("pickup", {});
  const auto episodes = Play(env.get(), 3, 40);
  {
    auto w = Writer::Create(tmp / "ds", env->Spec(), Source("pickup"));
    for (const auto& e : episodes) w.Add(e);
    CHECK(w.total_episodes() == 3);
  }
  Reader r(tmp / "ds");
  r.CheckMatches(env->Spec());
  r.Validate(env->Spec().observation);
  int64_t steps = 0;
  for (int i = 0; i < 3; ++i) {
    const Episode back = r.Read(i, env->Spec().observation);
    CHECK(back.id == i);
    CHECK(back.seed == 40 + i);
    CHECK(back.actions == episodes[static_cast<size_t>(i)].actions);
    CHECK(back.rewards.size() == episodes[static_cast<size_t>(i)].rewards.size());
    CHECK(back.observations == episodes[static_cast<size_t>(i)].observations);
    CHECK(back.terminations == episodes[static_cast<size_t>(i)].terminations);
    CHECK(back.truncations == episodes[static_cast<size_t>(i)].truncations);
    CHECK(back.action_probs == episodes[static_cast<size_t>(i)].action_probs);
    steps += back.steps();
  }
  CHECK(r.total_steps() == steps);
  CHECK(r.metadata()["dataset_id"] == "ds");
  CHECK(r.metadata()["env_name"] == "pickup");
  CHECK(r.metadata()["collections"][0]["env_options"]["size"] == 6);

  // Every dataset of the fixture's episode exists in ours with the same type class and size.
  const h5::Group fixture = h5::OpenFile(std::string(kFixture) + "/data/main_data.hdf5");
  const h5::Group ours = h5::OpenFile(tmp / "ds/data/main_data.hdf5");
  const auto fe = fixture.OpenGroup("episode_0");
  const auto oe = ours.OpenGroup("episode_0");
  for (const std::string name : {"actions", "rewards", "terminations", "truncations"}) {
    INFO(name);
    CHECK(fe.OpenDataset(name).Info().type_class == oe.OpenDataset(name).Info().type_class);
    CHECK(fe.OpenDataset(name).Info().type_size == oe.OpenDataset(name).Info().type_size);
  }
  for (const std::string name : {"direction", "image", "mission"}) {
    INFO(name);
    const auto f = fe.OpenGroup("observations").OpenDataset(name).Info();
    const auto o = oe.OpenGroup("observations").OpenDataset(name).Info();
    CHECK(f.type_class == o.type_class);
    CHECK(f.type_size == o.type_size);
    CHECK(f.dims.size() == o.dims.size());
  }
  CHECK(oe.Has("infos"));
  for (const std::string attr : {"id", "seed", "total_steps"}) CHECK(oe.HasAttribute(attr));
}

TEST_CASE("h5py walks our dataset the way Minari's loader does", "[minari][h5py]") {
  TempDir tmp;
  auto env = MakeEnv("pickup", {});
  {
    auto w = Writer::Create(tmp / "ds", env->Spec(), Source("pickup"));
    for (const auto& e : Play(env.get(), 4, 3)) w.Add(e);
  }
  // Minari's HDF5Storage.get_episodes: metadata.json beside the file, spaces as JSON strings,
  // episode_{i} groups, a dict observation as a group with one dataset per subspace, bool flags.
  const std::string script =
      "import h5py, json, numpy as np\n"
      "m = json.load(open(\"" +
      tmp / "ds/data/metadata.json" +
      "\"))\n"
      "obs = json.loads(m[\"observation_space\"])\n"
      "assert obs[\"type\"] == \"Dict\"\n"
      "assert json.loads(m[\"action_space\"]) == {\"type\": \"Discrete\", \"dtype\": \"int64\", "
      "\"start\": 0, \"n\": 7}\n"
      "steps = 0\n"
      "with h5py.File(\"" +
      tmp / "ds/data/main_data.hdf5" +
      "\", \"r\") as f:\n"
      "  assert len(f.keys()) == m[\"total_episodes\"] == 4\n"
      "  for i in range(m[\"total_episodes\"]):\n"
      "    g = f[f\"episode_{i}\"]\n"
      "    n = int(g.attrs[\"total_steps\"])\n"
      "    assert int(g.attrs[\"id\"]) == i and int(g.attrs[\"seed\"]) == 3 + i\n"
      "    assert sorted(g[\"observations\"].keys()) == sorted(obs[\"subspaces\"].keys())\n"
      "    assert g[\"observations/image\"].dtype == np.uint8\n"
      "    assert g[\"observations/image\"].shape == (n + 1, 7, 7, 3)\n"
      "    assert g[\"observations/direction\"].dtype == np.int64\n"
      "    assert g[\"observations/direction\"].shape == (n + 1,)\n"
      "    assert g[\"observations/mission\"].dtype == np.int32\n"
      "    assert g[\"actions\"][()].shape == (n,) and g[\"rewards\"].dtype == np.float64\n"
      "    t = g[\"terminations\"][:]\n"
      "    assert t.dtype == np.bool_ and g[\"truncations\"][:].dtype == np.bool_\n"
      "    assert bool(t[-1] or g[\"truncations\"][-1]) and not t[:-1].any()\n"
      "    assert isinstance(g[\"infos\"], h5py.Group)\n"
      "    assert np.allclose(g[\"action_probs\"][:].sum(axis=1), 1.0)\n"
      "    steps += n\n"
      "assert steps == m[\"total_steps\"]\n";
  CHECK(RunPython(script) == 0);
}

TEST_CASE("collections append to one dataset; a dataset is never overwritten", "[minari]") {
  TempDir tmp;
  auto env = MakeEnv("pickup", {});
  {
    auto w = Writer::Create(tmp / "ds", env->Spec(), Source("pickup"));
    for (const auto& e : Play(env.get(), 2, 0)) w.Add(e);
  }
  const auto before = fs::file_size(tmp / "ds/data/main_data.hdf5");
  CHECK(ErrorOf([&] {
          Writer::Create(tmp / "ds", env->Spec(), Source("pickup"));
        }).find("already holds a dataset") != std::string::npos);
  CHECK(fs::file_size(tmp / "ds/data/main_data.hdf5") == before);

  auto second = Source("pickup");
  second.algorithm_name = "random";
  {
    auto w = Writer::Append(tmp / "ds", env->Spec(), second);
    for (const auto& e : Play(env.get(), 3, 100)) w.Add(e);
  }
  Reader r(tmp / "ds");
  r.Validate(env->Spec().observation);
  CHECK(r.total_episodes() == 5);
  CHECK(r.Read(2, env->Spec().observation).seed == 100);
  CHECK(r.Read(4, env->Spec().observation).seed == 102);
  CHECK(r.metadata()["collections"].size() == 2);
  CHECK(r.metadata()["algorithm_name"] == "mixed");

  // Another env's episodes do not join.
  auto other = MakeEnv("memory", {});
  CHECK(ErrorOf([&] {
          Writer::Append(tmp / "ds", other->Spec(), Source("memory"));
        }).find("differs from") != std::string::npos);
}

TEST_CASE("malformed datasets give errors naming the file and the object", "[minari][h5py]") {
  TempDir tmp;
  auto env = MakeEnv("pickup", {});
  const auto& obs_spec = env->Spec().observation;
  const auto make = [&](const std::string& name) {
    auto w = Writer::Create(tmp / name, env->Spec(), Source("pickup"));
    for (const auto& e : Play(env.get(), 3, 0)) w.Add(e);
    return tmp / (name + "/data/main_data.hdf5");
  };

  SECTION("no metadata") {
    make("a");
    fs::remove(tmp / "a/data/metadata.json");
    CHECK(ErrorOf([&] { Reader r(tmp / "a"); }).find("metadata.json: missing") !=
          std::string::npos);
  }
  SECTION("a truncated file") {
    const auto file = make("b");
    fs::resize_file(file, fs::file_size(file) / 2);
    CHECK(ErrorOf([&] { Reader r(tmp / "b"); }).find(file) != std::string::npos);
  }
  SECTION("a missing dataset") {
    const auto file = make("c");
    REQUIRE(RunPython("import h5py\nwith h5py.File(\"" + file +
                      "\", \"a\") as f:\n  del f[\"episode_1/rewards\"]\n") == 0);
    Reader r(tmp / "c");
    const auto err = ErrorOf([&] { r.Read(1, obs_spec); });
    CHECK(err.find(file + ": episode_1/rewards: no such dataset") != std::string::npos);
  }
  SECTION("a wrong shape") {
    const auto file = make("d");
    REQUIRE(RunPython("import h5py, numpy as np\nwith h5py.File(\"" + file +
                      "\", \"a\") as f:\n  g = f[\"episode_2/observations\"]\n"
                      "  n = g[\"image\"].shape[0]\n  del g[\"image\"]\n"
                      "  g.create_dataset(\"image\", data=np.zeros((n - 1, 7, 7, 3), "
                      "np.uint8))\n") == 0);
    Reader r(tmp / "d");
    const auto err = ErrorOf([&] { r.Validate(obs_spec); });
    CHECK(err.find("episode_2/observations/image: expected shape") != std::string::npos);
  }
  SECTION("counts that disagree with the metadata") {
    make("e");
    std::ifstream in(tmp / "e/data/metadata.json");
    auto m = nlohmann::json::parse(in);
    in.close();
    m["total_steps"] = m["total_steps"].get<int64_t>() + 1;
    std::ofstream(tmp / "e/data/metadata.json") << m.dump();
    Reader r(tmp / "e");
    CHECK(ErrorOf([&] { r.Validate(obs_spec); }).find("metadata.json says") != std::string::npos);
  }
}
