// The bouncing-balls figures: physics frames/s of balls_touch's world stepped by bare Box2D
// (b2World::Step, the floor), by BallWorld (our adapter: touch tracking included) and by the env
// (observation drawing, actions and resets included), measured in interleaved slices so that the
// ratios compare the configurations rather than the moments; then balls-data's sequences/s
// (simulated and drawn, and written to HDF5), and prediction training sequences/s for the RIM
// and LSTM models of configs/balls_predict_*.yaml. The pool on 64 balls envs:
// `rimlab bench pool env=balls_touch`.
//
// Arguments: threads=1 (torch threads for training)  updates=3 (per model and round)  rounds=2
#include <box2d/box2d.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "common/rng.h"
#include "envs/balls/ball_world.h"
#include "envs/balls/sequences.h"
#include "envs/registry.h"
#include "predict/frame_predictor.h"
#include "predict/prediction_trainer.h"
#include "predict/sequence_store.h"
#include "runners/cli/balls_data.h"

namespace rimlab::bench {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// balls_touch's train world: the agent and three balls, as BallSpecs from a seed.
std::vector<balls::BallSpec> TouchBalls() {
  Rng rng(7);
  std::vector<balls::BallSpec> specs;
  while (specs.size() < 4) {
    balls::BallSpec b;
    b.radius = specs.empty() ? 0.6f : 0.7f;
    b.x = static_cast<float>(rng.Uniform(b.radius, 10.0 - b.radius));
    b.y = static_cast<float>(rng.Uniform(b.radius, 10.0 - b.radius));
    bool free = true;
    for (const auto& o : specs) {
      const float dx = b.x - o.x, dy = b.y - o.y, gap = b.radius + o.radius + 0.1f;
      free = free && dx * dx + dy * dy > gap * gap;
    }
    if (!free) continue;
    b.vx = static_cast<float>(rng.Uniform(-1.5, 1.5));
    b.vy = static_cast<float>(rng.Uniform(-1.5, 1.5));
    specs.push_back(b);
  }
  return specs;
}

/// The same world written against Box2D directly: what any adapter costs on top of.
class BareWorld {
 public:
  explicit BareWorld(const std::vector<balls::BallSpec>& specs) : world_(b2Vec2(0.0f, 0.0f)) {
    b2BodyDef wall_def;
    b2Body* walls = world_.CreateBody(&wall_def);
    const b2Vec2 c[4] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
    for (int i = 0; i < 4; ++i) {
      b2EdgeShape edge;
      edge.SetTwoSided(c[i], c[(i + 1) % 4]);
      b2FixtureDef def;
      def.shape = &edge;
      def.friction = 0.0f;
      def.restitution = 1.0f;
      def.restitutionThreshold = 0.0f;
      walls->CreateFixture(&def);
    }
    for (const auto& s : specs) {
      b2BodyDef def;
      def.type = b2_dynamicBody;
      def.position.Set(s.x, s.y);
      def.linearVelocity.Set(s.vx, s.vy);
      def.fixedRotation = true;
      b2Body* body = world_.CreateBody(&def);
      b2CircleShape circle;
      circle.m_radius = s.radius;
      b2FixtureDef f;
      f.shape = &circle;
      f.density = s.density;
      f.friction = 0.0f;
      f.restitution = 1.0f;
      f.restitutionThreshold = 0.0f;
      body->CreateFixture(&f);
    }
  }
  void Frame() {
    for (int i = 0; i < 8; ++i) world_.Step(0.1f / 8.0f, 8, 3);
  }

 private:
  b2World world_;
};

struct Meter {
  const char* name;
  std::function<void()> step;  // one frame
  int64_t frames = 0;
  double seconds = 0;
  void Slice(double slice) {
    const auto t = Clock::now();
    double s = 0;
    while (s < slice) {
      for (int i = 0; i < 64; ++i) step();
      frames += 64;
      s = Since(t);
    }
    seconds += s;
  }
  double rate() const { return static_cast<double>(frames) / seconds; }
};

predict::FramePredictorOptions ModelOptions(const std::string& type) {
  predict::FramePredictorOptions o;
  o.core.type = type;
  o.core.hidden_size = 256;
  o.core.rim.num_units(6).top_k(4).unit_size(50).init("authors").input_dropout(0.0).comm_dropout(
      0.0);
  return o;
}

}  // namespace

int RunBallsSuite(const BenchArgs& args) {
  int threads = 1, updates = 3, rounds = 2;
  for (const auto& kv : args.extra) {
    const auto eq = kv.find('=');
    const std::string key = kv.substr(0, eq),
                      value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (key == "threads") {
      threads = std::stoi(value);
    } else if (key == "updates") {
      updates = std::stoi(value);
    } else if (key == "rounds") {
      rounds = std::stoi(value);
    } else {
      throw std::invalid_argument("bench balls: unknown argument '" + kv +
                                  "' (known: threads, updates, rounds)");
    }
  }
  if (args.quick) updates = rounds = 1;
  const double seconds = args.quick ? 0.05 : args.seconds;

  // Physics, one thread, interleaved.
  const auto specs = TouchBalls();
  BareWorld bare(specs);
  balls::BallWorldOptions wo;
  wo.min_radius = 0.6f;
  wo.max_radius = 0.7f;
  wo.max_speed = 3.0f;
  balls::BallWorld ours(wo);
  ours.ResetWith(specs);
  auto env = MakeEnv("balls_touch", Params{});
  Observation obs(env->Spec().observation);
  env->Seed(1);
  env->Reset(obs.Ref());
  Rng rng(3);
  Meter m_bare{"box2d", [&] { bare.Frame(); }};
  Meter m_ours{"ball_world", [&] { ours.Step(); }};
  Meter m_env{"env", [&] {
                Action a;
                a.index = static_cast<int32_t>(rng.Below(5));
                if (env->Step(a, obs.Ref()).last()) env->Reset(obs.Ref());
              }};
  std::vector<Meter*> meters = {&m_bare, &m_ours, &m_env};
  for (Meter* m : meters) m->Slice(0.02);  // warm-up
  for (Meter* m : meters) m->frames = 0, m->seconds = 0;
  const int turns = std::max(1, static_cast<int>(seconds / 0.01));
  for (int t = 0; t < turns; ++t) {
    for (Meter* m : meters) m->Slice(0.01);
  }
  Report("balls/physics/box2d_step/frames_per_s", m_bare.rate(), "frames/s");
  Report("balls/physics/ball_world/frames_per_s", m_ours.rate(), "frames/s");
  Report("balls/physics/outside_box2d_fraction", 1.0 - m_bare.rate() / m_ours.rate(), "of time");
  Report("balls/env/balls_touch/steps_per_s", m_env.rate(), "steps/s");
  Report("balls/env/rendering_and_env_fraction", 1.0 - m_env.rate() / m_ours.rate(), "of time");

  // balls-data: simulation and drawing alone, then the command with HDF5 writing.
  {
    const auto v = balls::SequenceVariantByName("4");
    balls::SequenceBatch batch;
    const int n = args.quick ? 2 : 64;
    batch.Resize(n, 51, 64, 4);
    const auto t = Clock::now();
    for (int i = 0; i < n; ++i) balls::GenerateSequence(v, balls::SequenceSeed(1, 0, i), i, &batch);
    Report("balls/data/generate_1_thread/sequences_per_s", n / Since(t), "sequences/s");
    const std::string path =
        (std::filesystem::temp_directory_path() / "rimlab_bench_balls.h5").string();
    for (int th : {1, 2}) {
      BallsDataArgs a;
      a.sequences = args.quick ? 4 : 400;
      a.validation = a.test = 0;
      a.threads = th;
      a.out = path;
      a.force = true;
      a.quiet = true;
      const auto t2 = Clock::now();
      CmdBallsData(a);
      Report("balls/data/balls_data_" + std::to_string(th) + "_threads/sequences_per_s",
             static_cast<double>(a.sequences) / Since(t2), "sequences/s");
    }
    std::filesystem::remove(path);
  }

  // Prediction training on generated sequences, the models alternating round by round.
  {
    torch::set_num_threads(threads);
    const auto v = balls::SequenceVariantByName("4");
    balls::SequenceBatch batch;
    batch.Resize(32, 51, 64, 4);
    for (int i = 0; i < 32; ++i)
      balls::GenerateSequence(v, balls::SequenceSeed(2, 0, i), i, &batch);
    const predict::SequenceStore store(batch.features, 32, 51, 64);
    predict::PredictionTrainOptions to;
    to.batch_size = 16;
    to.updates = 1 << 30;
    std::vector<std::string> types = {"rim", "lstm"};
    std::vector<std::unique_ptr<predict::PredictionTrainer>> trainers;
    for (const auto& type : types) {
      trainers.push_back(std::make_unique<predict::PredictionTrainer>(
          predict::FramePredictor(ModelOptions(type)), &store, to));
      trainers.back()->Update();  // warm-up
    }
    std::vector<double> spent(types.size(), 0.0);
    for (int r = 0; r < rounds; ++r) {
      for (size_t k = 0; k < types.size(); ++k) {
        const auto t = Clock::now();
        for (int u = 0; u < updates; ++u) trainers[k]->Update();
        spent[k] += Since(t);
      }
    }
    const double done = static_cast<double>(rounds * updates * to.batch_size);
    for (size_t k = 0; k < types.size(); ++k) {
      Report("balls/predict_train/" + types[k] + "_threads" + std::to_string(threads) +
                 "/sequences_per_s",
             done / spent[k], "sequences/s");
    }
    Report("balls/predict_train/rim_over_lstm_time", spent[0] / spent[1], "x");
  }
  return 0;
}

}  // namespace rimlab::bench
