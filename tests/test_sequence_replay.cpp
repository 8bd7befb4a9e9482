// The R2D2 sequence replay against a plain model of the env streams: which sequences exist
// (episode boundaries, period offsets, early closing, eviction), what Gather copies, proportional
// draws and importance weights, the memory figure, snapshots and bad input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "agents/sequence_replay.h"

using namespace rimlab;
using rimlab::agents::ReplayOptions;
using rimlab::agents::SequenceReplay;
using Batch = SequenceReplay::Batch;

namespace {

// States are kept as bfloat16: x rounded to 8 significant bits, ties to even (nearbyint's
// default mode), computed here through frexp rather than bit tricks.
float Bfloat16(float x) {
  if (x == 0.0f) return x;
  int e = 0;
  const double m = std::frexp(static_cast<double>(x), &e);  // |m| in [0.5, 1)
  return static_cast<float>(std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8));
}

// Field 0 of every observation, so that a gathered timestep names where it came from.
struct Stamp {
  int32_t env, episode, offset, index;
};
constexpr size_t kFiller = 3;  // field 1: bytes derived from the stamp, to check a second field

struct Step {
  StepType type;
  Stamp stamp;
  float reward, discount;
  int32_t action;
};

// A sequence as (env, index of its first timestep in the env's stream, timesteps).
using Key = std::tuple<int, int64_t, int>;

ReplayOptions Options(int envs, int64_t capacity, int length, int period) {
  ReplayOptions o;
  o.num_envs = envs;
  o.capacity = capacity;
  o.sequence_length = length;
  o.period = period;
  o.field_bytes = {sizeof(Stamp), kFiller};
  o.state_floats = 3;
  return o;
}

std::vector<uint8_t> Filler(const Stamp& s) {
  return {static_cast<uint8_t>(s.index), static_cast<uint8_t>(s.env),
          static_cast<uint8_t>(s.episode * 7)};
}

// Scripted episodes per env, fed to the replay in lock step, and a record of every timestep.
class Streams {
 public:
  Streams(SequenceReplay* replay, int envs)
      : replay_(replay), script_(envs), steps_(envs), next_(envs, 0) {}

  // `transitions` transitions ending in termination ('t', discount 0) or truncation ('u'); 'c'
  // gives no LAST at all, as when the next FIRST (or the end of the feed) cuts the episode off.
  void Episode(int env, int transitions, char end) {
    const int episode = episodes_++;
    auto& script = script_[static_cast<size_t>(env)];
    for (int k = 0; k <= transitions; ++k) {
      Step s{};
      s.type = k == 0 ? StepType::kFirst
                      : (k == transitions && end != 'c' ? StepType::kLast : StepType::kMid);
      s.stamp = {env, episode, k, 0};
      s.discount = s.type == StepType::kLast && end == 't' ? 0.0f : 1.0f;
      script.push_back(s);
    }
  }

  // Adds the env's next scripted timestep; false when its script is done.
  bool AddNext(int env) {
    const auto e = static_cast<size_t>(env);
    if (next_[e] >= script_[e].size()) return false;
    Step s = script_[e][next_[e]++];
    s.stamp.index = static_cast<int32_t>(steps_[e].size());
    s.reward = s.type == StepType::kFirst ? 0.0f : 0.25f * static_cast<float>(s.stamp.index) + env;
    s.action = (s.stamp.index * 3 + env) % 5 + 1;
    const std::vector<uint8_t> filler = Filler(s.stamp);
    const void* obs[2] = {&s.stamp, filler.data()};
    const float state[3] = {static_cast<float>(env), static_cast<float>(s.stamp.index),
                            static_cast<float>(s.stamp.episode)};
    replay_->Add(env, obs, s.type, s.reward, s.discount, s.action, state);
    steps_[e].push_back(s);
    return true;
  }

  void Run() {
    for (bool more = true; more;) {
      more = false;
      for (int env = 0; env < static_cast<int>(script_.size()); ++env) more = AddNext(env) || more;
    }
  }

  const std::vector<Step>& steps(int env) const { return steps_[static_cast<size_t>(env)]; }

  // The sampleable sequences, from the rules stated plainly over each env's whole stream.
  std::set<Key> Expected(int length, int period, int64_t ring) const {
    std::set<Key> keys;
    for (size_t e = 0; e < steps_.size(); ++e) {
      const auto& s = steps_[e];
      const int64_t n = static_cast<int64_t>(s.size());
      for (int64_t i = std::max<int64_t>(0, n - ring); i < n; ++i) {
        if (s[i].type == StepType::kLast || s[i].stamp.offset % period != 0) continue;
        int64_t len = 1;
        while (len < length + 1 && i + len < n && s[i + len].type != StepType::kFirst &&
               s[i + len - 1].type != StepType::kLast) {
          ++len;
        }
        const bool closed = len == length + 1 || s[i + len - 1].type == StepType::kLast ||
                            (i + len < n && s[i + len].type == StepType::kFirst);
        if (closed && len >= 2) keys.emplace(static_cast<int>(e), i, static_cast<int>(len));
      }
    }
    return keys;
  }

 private:
  SequenceReplay* replay_;
  std::vector<std::vector<Step>> script_;
  std::vector<std::vector<Step>> steps_;
  std::vector<size_t> next_;
  int episodes_ = 0;
};

// Every sampleable id, found by drawing (uniform priorities make a miss vanishingly unlikely).
std::vector<int64_t> AllIds(const SequenceReplay& replay, uint64_t seed) {
  std::set<int64_t> ids;
  Rng rng(seed);
  for (int round = 0; round < 64 && static_cast<int64_t>(ids.size()) < replay.size(); ++round) {
    for (int64_t id : replay.Draw(256, &rng).ids) ids.insert(id);
  }
  return {ids.begin(), ids.end()};
}

Stamp StampAt(const Batch& batch, int t, int b) {
  Stamp s;
  std::memcpy(&s, batch.obs[0].data() + (t * batch.size + b) * sizeof(Stamp), sizeof(Stamp));
  return s;
}

// Checks each gathered sequence against the streams and returns what the batch holds.
std::set<Key> CheckBatch(const Batch& batch, const Streams& streams, int length, int period) {
  std::set<Key> keys;
  const int n = batch.size;
  int longest = 0;
  for (int b = 0; b < n; ++b) {
    const Stamp first = StampAt(batch, 0, b);
    const auto& steps = streams.steps(first.env);
    int len = 0;
    while (len < batch.steps && batch.valid[static_cast<size_t>(len * n + b)] == 1) ++len;
    INFO("env " << first.env << " index " << first.index << " timesteps " << len);
    REQUIRE(len >= 2);
    REQUIRE(len <= length + 1);
    REQUIRE(first.offset % period == 0);
    longest = std::max(longest, len);
    for (int t = 0; t < batch.steps; ++t) {
      const auto cell = static_cast<size_t>(t * n + b);
      const Stamp s = StampAt(batch, t, b);
      if (t >= len) {
        const Stamp end = StampAt(batch, len - 1, b);
        REQUIRE(std::memcmp(&s, &end, sizeof(Stamp)) == 0);
        REQUIRE(std::equal(batch.obs[1].begin() + static_cast<long>(cell * kFiller),
                           batch.obs[1].begin() + static_cast<long>((cell + 1) * kFiller),
                           Filler(end).begin()));
        REQUIRE((batch.valid[cell] == 0 && batch.actions[cell] == 0 && batch.last[cell] == 0));
        continue;
      }
      // One env, one episode, consecutive timesteps.
      REQUIRE((s.env == first.env && s.episode == first.episode));
      REQUIRE((s.index == first.index + t && s.offset == first.offset + t));
      const Step& ref = steps[static_cast<size_t>(s.index)];
      REQUIRE(ref.stamp.episode == s.episode);
      REQUIRE(std::equal(batch.obs[1].begin() + static_cast<long>(cell * kFiller),
                         batch.obs[1].begin() + static_cast<long>((cell + 1) * kFiller),
                         Filler(s).begin()));
      REQUIRE(batch.last[cell] == (ref.type == StepType::kLast ? 1 : 0));
      REQUIRE(batch.rewards[cell] == ref.reward);
      REQUIRE(batch.discounts[cell] == ref.discount);
      REQUIRE(batch.actions[cell] == (ref.type == StepType::kLast ? 0 : ref.action));
    }
    // Full length, or closed by its episode's LAST or the next episode's FIRST.
    const auto after = static_cast<size_t>(first.index + len);
    REQUIRE((len == length + 1 || batch.last[static_cast<size_t>((len - 1) * n + b)] == 1 ||
             (after < steps.size() && steps[after].type == StepType::kFirst)));
    const float* state = batch.start_state.data() + 3 * b;
    REQUIRE(state[0] == Bfloat16(static_cast<float>(first.env)));
    REQUIRE(state[1] == Bfloat16(static_cast<float>(first.index)));
    REQUIRE(state[2] == Bfloat16(static_cast<float>(first.episode)));
    keys.emplace(first.env, first.index, len);
  }
  REQUIRE(batch.steps == longest);
  return keys;
}

// Short, exact, long, single-transition; terminated, truncated and cut off; the last episode of
// env 1 still running when the feed ends.
void Script(Streams* s) {
  for (auto [n, end] : std::vector<std::pair<int, char>>{
           {2, 't'}, {6, 'u'}, {7, 't'}, {13, 'u'}, {1, 't'}, {3, 't'}}) {
    s->Episode(0, n, end);
  }
  for (auto [n, end] : std::vector<std::pair<int, char>>{
           {6, 't'}, {12, 't'}, {4, 'u'}, {4, 'c'}, {9, 't'}, {7, 'c'}}) {
    s->Episode(1, n, end);
  }
  for (auto [n, end] : std::vector<std::pair<int, char>>{
           {1, 'u'}, {1, 't'}, {18, 't'}, {5, 't'}, {3, 'c'}, {3, 't'}}) {
    s->Episode(2, n, end);
  }
}

bool SameBatch(const Batch& a, const Batch& b) {
  return a.steps == b.steps && a.size == b.size && a.obs == b.obs && a.actions == b.actions &&
         a.rewards == b.rewards && a.discounts == b.discounts && a.valid == b.valid &&
         a.last == b.last && a.start_state == b.start_state;
}

}  // namespace

TEST_CASE("sequences follow the episodes of every env", "[replay]") {
  for (auto [length, period] : std::vector<std::pair<int, int>>{{6, 3}, {6, 6}, {4, 1}, {1, 1}}) {
    INFO("L " << length << ", period " << period);
    SequenceReplay replay(Options(3, 3 * 400, length, period));
    Streams streams(&replay, 3);
    Script(&streams);
    streams.Run();
    const auto expected = streams.Expected(length, period, replay.steps_per_env());
    REQUIRE(replay.size() == static_cast<int64_t>(expected.size()));
    REQUIRE(replay.stored_steps() ==
            static_cast<int64_t>(streams.steps(0).size() + streams.steps(1).size() +
                                 streams.steps(2).size()));
    const auto ids = AllIds(replay, 1);
    REQUIRE(ids.size() == expected.size());
    Batch batch;
    replay.Gather(ids, &batch);
    REQUIRE(CheckBatch(batch, streams, length, period) == expected);

    if (length == 6 && period == 3) {
      // The reference itself, by hand for env 0: episodes of 2, 6, 7, 13, 1 and 3 transitions
      // start sequences at offsets 0, 3, 6... short of the LAST, L + 1 = 7 timesteps at most.
      std::multiset<int> lengths;
      for (const auto& [env, start, len] : expected) {
        if (env == 0) lengths.insert(len);
      }
      REQUIRE(lengths == std::multiset<int>{3, 7, 4, 7, 5, 2, 7, 7, 7, 5, 2, 2, 4});
    }

    // Determinism: the same feed and the same seed give the same draws.
    SequenceReplay twin(Options(3, 3 * 400, length, period));
    Streams twin_streams(&twin, 3);
    Script(&twin_streams);
    twin_streams.Run();
    Rng a(9), b(9);
    const auto da = replay.Draw(64, &a);
    const auto db = twin.Draw(64, &b);
    REQUIRE(da.ids == db.ids);
    REQUIRE(da.weights == db.weights);
  }
}

TEST_CASE("ring overwrites evict the sequences they touch", "[replay]") {
  const int length = 4, period = 2;
  SequenceReplay replay(Options(2, 25, length, period));  // 12 timesteps per env, one unused
  REQUIRE(replay.steps_per_env() == 12);
  Streams streams(&replay, 2);
  Rng script(5);
  for (int k = 0; k < 40; ++k) {
    for (int env = 0; env < 2; ++env) {
      const char end = script.Below(5) == 0 ? 'c' : (script.Below(2) == 0 ? 't' : 'u');
      streams.Episode(env, 1 + static_cast<int>(script.Below(14)), end);
    }
  }
  int64_t first_id = -1;
  int adds = 0;
  for (bool more = true; more;) {
    more = false;
    for (int env = 0; env < 2; ++env) {
      if (!streams.AddNext(env)) continue;
      more = true;
      const auto expected = streams.Expected(length, period, replay.steps_per_env());
      REQUIRE(replay.size() == static_cast<int64_t>(expected.size()));
      REQUIRE(replay.stored_steps() == std::min<int64_t>(12, streams.steps(0).size()) +
                                           std::min<int64_t>(12, streams.steps(1).size()));
      if (replay.size() == 0 || ++adds % 7 != 0) continue;
      const auto ids = AllIds(replay, static_cast<uint64_t>(adds));
      REQUIRE(ids.size() == expected.size());
      if (first_id < 0) first_id = ids.front();
      Batch batch;
      replay.Gather(ids, &batch);
      REQUIRE(CheckBatch(batch, streams, length, period) == expected);
    }
  }
  REQUIRE(streams.steps(0).size() > 10 * 12);  // the rings wrapped many times

  // An evicted id is gone for Gather and ignored by UpdatePriorities: had its priority of 100
  // counted, new sequences would enter with it and the weights would differ.
  REQUIRE(first_id >= 0);
  REQUIRE_FALSE(replay.Contains(first_id));
  Batch batch;
  REQUIRE_THROWS_AS(replay.Gather({first_id}, &batch), std::invalid_argument);
  replay.UpdatePriorities({first_id}, {100.0f});
  streams.Episode(0, 3, 't');
  while (streams.AddNext(0)) {
  }
  Rng rng(3);
  for (float w : replay.Draw(512, &rng).weights) REQUIRE(w == 1.0f);
}

TEST_CASE("draws follow priority^alpha and weights (N P)^-beta / max", "[replay]") {
  ReplayOptions o = Options(1, 100, 2, 2);
  o.priority_exponent = 0.7;
  o.importance_exponent = 0.5;
  SequenceReplay replay(o);
  Streams streams(&replay, 1);
  for (int k = 0; k < 5; ++k) streams.Episode(0, 2, 't');  // one sequence each
  streams.Run();
  REQUIRE(replay.size() == 5);
  const auto ids = AllIds(replay, 1);
  Batch batch;
  replay.Gather(ids, &batch);
  std::map<int64_t, int> episode_of;
  for (int b = 0; b < batch.size; ++b)
    episode_of[ids[static_cast<size_t>(b)]] = StampAt(batch, 0, b).episode;
  const std::vector<double> p = {0.5, 1, 2, 3, 4};
  std::vector<float> priorities;
  for (int64_t id : ids) priorities.push_back(static_cast<float>(p[episode_of[id]]));
  replay.UpdatePriorities(ids, priorities);
  double sum = 0;
  for (double v : p) sum += std::pow(v, 0.7);
  auto probability = [&](int64_t id) { return std::pow(p[episode_of.at(id)], 0.7) / sum; };

  Rng rng(11);
  std::vector<int64_t> counts(5, 0);
  const int draws = 200000;
  for (int k = 0; k < draws / 1000; ++k) {
    for (int64_t id : replay.Draw(1000, &rng).ids) ++counts[episode_of.at(id)];
  }
  double chi2 = 0;
  for (int i = 0; i < 5; ++i) {
    const double expected = draws * std::pow(p[i], 0.7) / sum;
    const double sigma = std::sqrt(expected * (1 - expected / draws));
    INFO("priority " << p[i] << ": " << counts[i] << " draws, expected " << expected);
    CHECK(std::abs(counts[i] - expected) < 4 * sigma);
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  CHECK(chi2 < 18.47);  // 4 degrees of freedom, p = 0.001

  const auto sample = replay.Draw(32, &rng);
  double largest = 0;
  for (int64_t id : sample.ids) largest = std::max(largest, std::pow(5 * probability(id), -0.5));
  for (size_t b = 0; b < sample.ids.size(); ++b) {
    const double by_hand = std::pow(5 * probability(sample.ids[b]), -0.5) / largest;
    REQUIRE(sample.weights[b] == Approx(by_hand).epsilon(1e-6));
  }

  // A new sequence enters with the largest priority given so far (4).
  streams.Episode(0, 2, 't');
  streams.Run();
  REQUIRE(replay.size() == 6);
  const auto many = replay.Draw(4096, &rng);
  float new_weight = -1, top_weight = -1;
  for (size_t b = 0; b < many.ids.size(); ++b) {
    if (episode_of.count(many.ids[b]) == 0) new_weight = many.weights[b];
    if (episode_of.count(many.ids[b]) == 1 && episode_of[many.ids[b]] == 4) {
      top_weight = many.weights[b];
    }
  }
  REQUIRE(new_weight > 0);
  REQUIRE(new_weight == top_weight);

  REQUIRE_THROWS_AS(replay.UpdatePriorities(ids, {1.0f}), std::invalid_argument);
  REQUIRE_THROWS_AS(replay.UpdatePriorities({ids[0]}, {-1.0f}), std::invalid_argument);
  REQUIRE_THROWS_AS(replay.UpdatePriorities({ids[0]}, {std::nanf("")}), std::invalid_argument);
}

TEST_CASE("the replay keeps near the raw observation size per timestep", "[replay]") {
  // The target: 163-byte observations, period 20 and a 2 x 64-float state cost < 1.5 x 163 B.
  ReplayOptions o;
  o.num_envs = 16;
  o.field_bytes = {163};
  o.state_floats = 128;
  SequenceReplay replay(o);
  const double empty = replay.BytesPerStep();
  std::vector<uint8_t> obs(163, 1);
  const void* fields[1] = {obs.data()};
  std::vector<float> state(128, 0.5f);
  for (int t = 0; t < 2 * 6250; ++t) {
    const StepType type =
        t % 101 == 0 ? StepType::kFirst : (t % 101 == 100 ? StepType::kLast : StepType::kMid);
    for (int env = 0; env < 16; ++env) replay.Add(env, fields, type, 1, 1, 0, state.data());
  }
  const double full = replay.BytesPerStep();
  INFO("bytes per timestep: " << empty << " empty, " << full << " full");
  REQUIRE(replay.stored_steps() == 100000);
  REQUIRE(full >= 163);
  REQUIRE(full < 1.5 * 163);
  REQUIRE(empty < 1.5 * 163);
}

TEST_CASE("a snapshot restores the replay exactly", "[replay]") {
  SequenceReplay replay(Options(3, 3 * 40, 6, 3));  // small enough to have wrapped
  Streams streams(&replay, 3);
  Script(&streams);
  Script(&streams);
  streams.Run();
  const auto ids = AllIds(replay, 1);
  std::vector<float> priorities;
  for (size_t i = 0; i < ids.size(); ++i) priorities.push_back(0.1f + static_cast<float>(i % 7));
  replay.UpdatePriorities(ids, priorities);
  const std::string bytes = replay.Save();

  SequenceReplay restored(Options(3, 3 * 40, 6, 3));
  restored.Load(bytes);
  REQUIRE(restored.size() == replay.size());
  REQUIRE(restored.stored_steps() == replay.stored_steps());
  REQUIRE(restored.Save() == bytes);
  Rng a(21), b(21);
  const auto da = replay.Draw(128, &a);
  const auto db = restored.Draw(128, &b);
  REQUIRE(da.ids == db.ids);
  REQUIRE(da.weights == db.weights);
  Batch ga, gb;
  replay.Gather(da.ids, &ga);
  restored.Gather(db.ids, &gb);
  REQUIRE(SameBatch(ga, gb));

  // Counters, open sequences and free slots came back too: both go on alike.
  Streams more_a(&replay, 3), more_b(&restored, 3);
  for (Streams* s : {&more_a, &more_b}) {
    for (int env = 0; env < 3; ++env) s->Episode(env, 11, 't');
    s->Run();
  }
  REQUIRE(replay.Save() == restored.Save());

  // A refused snapshot leaves the replay as it was.
  const std::string before = restored.Save();
  for (size_t cut : {size_t{0}, size_t{3}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    INFO("truncated to " << cut << " of " << bytes.size() << " bytes");
    REQUIRE_THROWS_AS(restored.Load(bytes.substr(0, cut)), std::invalid_argument);
  }
  REQUIRE_THROWS_AS(restored.Load(bytes + "x"), std::invalid_argument);
  REQUIRE(restored.Save() == before);

  // Any one byte changed: refused, or a replay that draws and gathers within its arrays (the
  // sanitizer build checks the latter).
  int refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string corrupt = bytes;
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5A);
    SequenceReplay target(Options(3, 3 * 40, 6, 3));
    try {
      target.Load(corrupt);
    } catch (const std::invalid_argument&) {
      ++refused;
      continue;
    }
    Rng rng(1);
    Batch gathered;
    target.Gather(target.Draw(64, &rng).ids, &gathered);
  }
  REQUIRE(refused > 0);
  SequenceReplay other(Options(3, 3 * 40, 6, 2));
  REQUIRE_THROWS_AS(other.Load(bytes), std::invalid_argument);
}

TEST_CASE("bad options and misuse are refused", "[replay]") {
  auto bad = [](auto change) {
    ReplayOptions o = Options(2, 100, 6, 3);
    change(o);
    REQUIRE_THROWS_AS(SequenceReplay(o), std::invalid_argument);
  };
  bad([](ReplayOptions& o) { o.num_envs = 0; });
  bad([](ReplayOptions& o) { o.sequence_length = 0; });
  bad([](ReplayOptions& o) { o.period = 0; });
  bad([](ReplayOptions& o) { o.period = 7; });     // period > L
  bad([](ReplayOptions& o) { o.capacity = 13; });  // 6 per env < L + 1
  bad([](ReplayOptions& o) { o.capacity = 0; });
  bad([](ReplayOptions& o) { o.priority_exponent = -0.1; });
  bad([](ReplayOptions& o) { o.importance_exponent = std::numeric_limits<double>::quiet_NaN(); });
  bad([](ReplayOptions& o) { o.field_bytes.clear(); });
  bad([](ReplayOptions& o) { o.field_bytes = {4, 0}; });
  REQUIRE_NOTHROW(SequenceReplay(Options(2, 14, 6, 6)));  // 7 per env, period = L

  SequenceReplay replay(Options(2, 100, 6, 3));
  Rng rng(1);
  REQUIRE_THROWS_AS(replay.Draw(4, &rng), std::logic_error);
  const Stamp stamp{};
  const uint8_t filler[kFiller] = {};
  const void* obs[2] = {&stamp, filler};
  const float state[3] = {};
  REQUIRE_THROWS_AS(replay.Add(2, obs, StepType::kFirst, 0, 1, 0, state), std::invalid_argument);
  REQUIRE_THROWS_AS(replay.Add(-1, obs, StepType::kFirst, 0, 1, 0, state), std::invalid_argument);
  REQUIRE_THROWS_AS(replay.Add(0, obs, StepType::kFirst, 0, 1, 0, nullptr), std::invalid_argument);
  // A LAST straight after a FIRST: one transition, one sequence.
  replay.Add(0, obs, StepType::kFirst, 0, 1, 0, state);
  REQUIRE(replay.size() == 0);
  replay.Add(0, obs, StepType::kLast, 1, 0, 0, state);
  REQUIRE(replay.size() == 1);
  REQUIRE_THROWS_AS(replay.Draw(0, &rng), std::invalid_argument);
  Batch batch;
  REQUIRE_THROWS_AS(replay.Gather({12345}, &batch), std::invalid_argument);
}
