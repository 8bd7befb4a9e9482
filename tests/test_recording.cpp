// Episode recordings: JSON round trips, the errors a broken file gives, and replay by
// re-simulation, which must reproduce a real env's rewards and frames and catch tampering.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/rng.h"
#include "runners/run/recording.h"

using namespace rimlab;
namespace fs = std::filesystem;

namespace {

const char* kFixture = "tests/fixtures/recordings/pickup5_rim4.json";

std::string PickupYaml(int size = 5) {
  Params env;
  env.Set("name", std::string("pickup"));
  env.Set("size", static_cast<int64_t>(size));
  return EnvSectionYaml(env);
}

// A directory of its own per process, removed at exit.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("rimlab_test_recording_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string File(const std::string& name) const { return (path / name).string(); }
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Fake RIM outputs, as a policy would give them: top-2 of `num_units` active, null attention low
// for the active units, a distribution peaked on the action taken, and a value.
RecordingBuilder::Extras FakeExtras(Rng* rng, int num_units, int num_actions, int32_t action,
                                    int step) {
  RecordingBuilder::Extras x;
  x.unit_mask.assign(static_cast<size_t>(num_units), 0.0f);
  const uint32_t first = rng->Below(static_cast<uint32_t>(num_units));
  const uint32_t second = (first + 1 + rng->Below(static_cast<uint32_t>(num_units - 1))) %
                          static_cast<uint32_t>(num_units);
  x.unit_mask[first] = 1.0f;
  x.unit_mask[second] = 1.0f;
  for (int u = 0; u < num_units; ++u) {
    const float jitter = static_cast<float>(rng->Below(100)) / 400.0f;
    x.unit_null_attention.push_back(x.unit_mask[static_cast<size_t>(u)] > 0 ? 0.1f + jitter
                                                                            : 0.7f + jitter);
  }
  float sum = 0.0f;
  for (int a = 0; a < num_actions; ++a) {
    x.action_probs.push_back(a == action ? 4.0f : 0.5f + static_cast<float>(rng->Below(10)) / 10);
    sum += x.action_probs.back();
  }
  for (float& p : x.action_probs) p /= sum;
  x.value = 0.5f + 0.01f * static_cast<float>(step);
  return x;
}

struct Played {
  EpisodeRecording recording;
  Frame last_frame;
};

// Steps a real pickup env with random actions from `seed` until the episode ends, recording it
// (with fake RIM outputs and observation checksums when num_units > 0).
Played PlayRandom(uint64_t seed, int num_units, int size = 5) {
  const std::string yaml = PickupYaml(size);
  auto env = EnvConfigFromYaml(yaml, "test").Make();
  const int num_actions = env->Spec().action.num_actions;
  env->Seed(seed);
  Observation obs(env->Spec().observation);
  TimeStep ts = env->Reset(obs.Ref());
  Rng rng(seed * 7 + 3);
  RecordingBuilder builder(yaml, seed, num_units);
  builder.SetPolicy(num_units > 0 ? "fake rim (4 units, top 2)" : "random", 1234);
  while (!ts.last()) {
    Action a;
    a.index = static_cast<int32_t>(rng.Below(static_cast<uint32_t>(num_actions)));
    RecordingBuilder::Extras extras;
    if (num_units > 0) extras = FakeExtras(&rng, num_units, num_actions, a.index, builder.length());
    ts = env->Step(a, obs.Ref());
    if (num_units > 0) extras.obs_checksum = ObservationChecksum(obs);
    builder.Add(a.index, ts.reward, extras);
  }
  Played out;
  out.recording = builder.Finish(ts.success);
  env->Render(&out.last_frame);
  return out;
}

// The first seed at or after `from` whose random episode ends as `success` says, within
// `max_length` steps and after at least `min_length`.
Played PlayUntil(bool success, int max_length, int num_units, uint64_t from = 1,
                 int min_length = 1) {
  for (uint64_t seed = from; seed < from + 500; ++seed) {
    Played p = PlayRandom(seed, num_units);
    if (p.recording.success == success && p.recording.length <= max_length &&
        p.recording.length >= min_length) {
      return p;
    }
  }
  FAIL("no random episode of that kind in 500 seeds");
  return {};
}

nlohmann::json AsJson(const EpisodeRecording& r) {
  return nlohmann::json::parse(RecordingToJson(r));
}

}  // namespace

TEST_CASE("A recording survives save and load unchanged", "[recording]") {
  TempDir dir;
  const Played p = PlayUntil(true, 1000, 4);
  const std::string path = dir.File(RecordingFileName(1234, 0));
  SaveRecording(p.recording, path);
  CHECK(LoadRecording(path) == p.recording);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  const auto j = nlohmann::json::parse(std::ifstream(path));
  CHECK(j["format"] == "rimlab-episode");
  CHECK(j["version"] == 1);

  // Without the optional arrays (an LSTM policy) too.
  const Played lstm = PlayUntil(false, 1000, 0);
  CHECK(lstm.recording.unit_mask.empty());
  CHECK(lstm.recording.values.empty());
  SaveRecording(lstm.recording, path);
  CHECK(LoadRecording(path) == lstm.recording);
  CHECK(RecordingFileName(1234, 2) == "frames-000000001234-ep02.json");
}

TEST_CASE("Broken recordings give errors that name the file and the key", "[recording]") {
  TempDir dir;
  const std::string path = dir.File("bad.json");
  const EpisodeRecording good = PlayUntil(true, 1000, 4).recording;
  const auto load_error = [&](const nlohmann::json& j) {
    WriteText(path, j.dump());
    try {
      LoadRecording(path);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using Catch::Matchers::Contains;

  CHECK_THROWS_WITH(LoadRecording(dir.File("absent.json")),
                    Contains("absent.json") && Contains("cannot open"));
  WriteText(path, "{\"format\": \"rimlab-episode\", ");
  CHECK_THROWS_WITH(LoadRecording(path), Contains(path) && Contains("not valid JSON"));
  WriteText(path, "[1, 2]");
  CHECK_THROWS_WITH(LoadRecording(path), Contains("expected a JSON object"));

  nlohmann::json j = AsJson(good);
  j["format"] = "minigrid-episode";
  CHECK_THAT(load_error(j),
             Contains(path) && Contains("key 'format'") && Contains("expected \"rimlab-episode\""));
  j = AsJson(good);
  j["version"] = 2;
  CHECK_THAT(load_error(j), Contains("key 'version'") && Contains("newer"));
  j = AsJson(good);
  j.erase("rewards");
  CHECK_THAT(load_error(j), Contains(path) && Contains("key 'rewards': missing"));
  j = AsJson(good);
  j["seed"] = "seven";
  CHECK_THAT(load_error(j), Contains("key 'seed'") && Contains("non-negative integer"));
  j = AsJson(good);
  j["actions"][1] = 2.5;
  CHECK_THAT(load_error(j), Contains("key 'actions'") && Contains("step 1"));
  j = AsJson(good);
  j["colour"] = "red";
  CHECK_THAT(load_error(j), Contains("key 'colour'") && Contains("unknown key"));

  // Inconsistent lengths.
  j = AsJson(good);
  j["rewards"].erase(j["rewards"].size() - 1);
  CHECK_THAT(load_error(j), Contains("key 'rewards'") && Contains("one item per step"));
  j = AsJson(good);
  j["unit_mask"][0].erase(0);
  CHECK_THAT(load_error(j),
             Contains("key 'unit_mask'") && Contains("step 0") && Contains("num_units"));
  j = AsJson(good);
  j["action_probs"].erase(0);
  CHECK_THAT(load_error(j), Contains("key 'action_probs'") && Contains("one row per step"));
  j = AsJson(good);
  j["num_units"] = 0;
  CHECK_THAT(load_error(j), Contains("key 'unit_mask'") && Contains("num_units is 0"));
  j = AsJson(good);
  j["obs_checksums"][0] = -1;
  CHECK_THAT(load_error(j), Contains("key 'obs_checksums'") && Contains("step 0"));
  j = AsJson(good);
  j["episode_return"] = good.episode_return + 1.0f;
  CHECK_THAT(load_error(j), Contains("key 'episode_return'") && Contains("sum of the rewards"));

  // Saving refuses what loading would refuse.
  EpisodeRecording r = good;
  r.values.pop_back();
  CHECK_THROWS_WITH(SaveRecording(r, path), Contains("key 'values'"));
}

TEST_CASE("Replay re-simulates a real env: same rewards, same frames", "[recording]") {
  for (const bool success : {true, false}) {
    const Played p = PlayUntil(success, 1000, 4);
    const std::vector<Frame> frames = ReplayFrames(p.recording, "mem");
    REQUIRE(frames.size() == static_cast<size_t>(p.recording.length) + 1);
    CHECK(frames.back().width == p.last_frame.width);
    CHECK(frames.back().rgb == p.last_frame.rgb);
    CHECK(frames.front().rgb != frames.back().rgb);

    Replayer replay(p.recording, "mem");
    double sum = 0.0;
    while (!replay.done()) sum += replay.Next().reward;
    CHECK(replay.timestep().last());
    CHECK(replay.timestep().success == success);
    CHECK(sum == Approx(p.recording.episode_return));
    CHECK(replay.return_so_far() == Approx(sum));
    CHECK_THROWS_AS(replay.Next(), std::logic_error);
    // Stepping back re-simulates from the reset.
    replay.Seek(1);
    Frame f;
    replay.Render(&f);
    CHECK(f.rgb == frames[1].rgb);
  }
  // A bare section (no `env:` key) names the env as well.
  EpisodeRecording r = PlayUntil(true, 1000, 0).recording;
  r.env_yaml = "name: pickup\nsize: 5\n";
  CHECK_NOTHROW(ReplayFrames(r));
}

TEST_CASE("Replay catches recordings the env no longer reproduces", "[recording]") {
  using Catch::Matchers::Contains;
  const EpisodeRecording good = PlayUntil(false, 1000, 4).recording;
  const int last = good.length;

  EpisodeRecording r = good;
  r.rewards.back() = 0.25f;  // a failed episode's last reward is 0
  r.episode_return += 0.25f;
  CHECK_THROWS_WITH(ReplayFrames(r, "ep.json"),
                    Contains("ep.json: recording does not replay: reward mismatch at step " +
                             std::to_string(last)) &&
                        Contains("env changed?"));
  r = good;
  r.obs_checksums[1] ^= 1u;
  CHECK_THROWS_WITH(ReplayFrames(r), Contains("observation mismatch at step 2"));
  // Another seed's layout: a failed random walk may earn the same rewards, but not the same views.
  r = good;
  r.seed += 1000;
  CHECK_THROWS_WITH(ReplayFrames(r), Contains("observation mismatch at step 1"));
  r = good;
  r.success = true;
  CHECK_THROWS_WITH(ReplayFrames(r), Contains("recorded success"));
  r = good;
  r.actions.push_back(2);
  r.rewards.push_back(0.0f);
  r.unit_mask.push_back(r.unit_mask.back());
  r.unit_null_attention.push_back(r.unit_null_attention.back());
  r.action_probs.push_back(r.action_probs.back());
  r.values.push_back(0.0f);
  r.obs_checksums.push_back(0);
  r.length += 1;
  CHECK_THROWS_WITH(ReplayFrames(r),
                    Contains("the episode ended after step " + std::to_string(last) + " of " +
                             std::to_string(last + 1)));
  r = good;
  r.actions[0] = 9;
  CHECK_THROWS_WITH(ReplayFrames(r), Contains("key 'actions'") && Contains("not in [0, 7)"));
  r = good;
  r.env_yaml = "env:\n  name: pickup\n  size: 2\n";
  CHECK_THROWS_WITH(ReplayFrames(r), Contains("key 'env_yaml'") && Contains("size"));
}

TEST_CASE("Recordings in a directory are listed in name order", "[recording]") {
  TempDir dir;
  const EpisodeRecording r = PlayUntil(true, 1000, 0).recording;
  SaveRecording(r, dir.File(RecordingFileName(200, 1)));
  SaveRecording(r, dir.File(RecordingFileName(200, 0)));
  SaveRecording(r, dir.File(RecordingFileName(30, 0)));
  WriteText(dir.File("notes.txt"), "not a recording");
  const auto files = ListRecordings(dir.path.string());
  REQUIRE(files.size() == 3);
  CHECK(fs::path(files[0]).filename() == RecordingFileName(30, 0));
  CHECK(fs::path(files[2]).filename() == RecordingFileName(200, 1));
  CHECK(ListRecordings(files[1]) == std::vector<std::string>{files[1]});
  CHECK_THROWS_AS(ListRecordings(dir.File("absent")), std::invalid_argument);
  fs::create_directories(dir.path / "empty");
  CHECK_THROWS_AS(ListRecordings(dir.File("empty")), std::invalid_argument);
}

// The committed fixture that the viewer's replay test plays. Regenerate it (after an env change
// that alters its episode) with: test_recording "[.regenerate]"
TEST_CASE("Write the viewer's recording fixture", "[.regenerate]") {
  Played p = PlayUntil(true, 16, 4, 1, 6);
  p.recording.policy = "fixture: random actions, fake 4-unit rim mask (tests/test_recording.cpp)";
  p.recording.frames = 0;
  SaveRecording(p.recording, kFixture);
}

TEST_CASE("The committed fixture still replays", "[recording]") {
  const EpisodeRecording r = LoadRecording(kFixture);
  CHECK(r.num_units == 4);
  CHECK(r.length >= 6);  // the viewer test snapshots step 5
  CHECK_NOTHROW(ReplayFrames(r, kFixture));
}
