// Live play: an env under a trained policy (a run directory or checkpoint), a random policy or
// the keyboard. The policy's decision on the current observation is made before it is applied,
// so the panel shows the next action, its probability and the units that chose it.
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "common/rng.h"
#include "runners/config/config.h"
#include "runners/config/env_config.h"
#include "runners/train/policy.h"
#include "runners/train/policy_player.h"
#include "viewer/source.h"

namespace rimlab::viewer {

namespace {

// Maps a key to a gridworld action id (MiniGrid numbering), or -1.
int KeyAction(SDL_Keycode key) {
  switch (key) {
    case SDLK_LEFT:
      return 0;
    case SDLK_RIGHT:
      return 1;
    case SDLK_UP:
      return 2;
    case SDLK_p:
      return 3;
    case SDLK_d:
      return 4;
    case SDLK_t:
      return 5;
    default:
      return -1;
  }
}

std::string FirstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// A checkpoint that does not load is the user's input, not our failure: exit 2 with one line.
TrainedPolicy LoadPolicy(const std::string& path) {
  try {
    return LoadTrainedPolicy(path);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(FirstLine(e.what()));
  } catch (const std::exception& e) {
    throw std::invalid_argument(FirstLine(e.what()));
  }
}

std::string Describe(const TrainedPolicy& p) {
  const auto& core = p.model->options().core;
  std::string algo = "ppo";
  if (const Param* a = p.config.Section("").Find("algo");
      a != nullptr && std::holds_alternative<std::string>(a->value)) {
    algo = std::get<std::string>(a->value);
  }
  std::string s = algo + " " + core.type;
  if (core.type == "rim") {
    s += "(" + std::to_string(core.rim.num_units()) + " units, top " +
         std::to_string(core.rim.top_k()) + ")";
  } else {
    s += "(" + std::to_string(core.hidden_size) + ")";
  }
  std::string run = std::filesystem::path(p.run_dir).filename().string();
  if (run.empty()) run = std::filesystem::path(p.run_dir).parent_path().filename().string();
  return s + " · " + run + " · " + std::filesystem::path(p.checkpoint).filename().string();
}

class LiveSource : public Source {
 public:
  explicit LiveSource(const LiveOptions& o) : greedy_(o.greedy) {
    Config config;
    if (IsRunOrCheckpoint(o.target)) {
      if (!o.overrides.empty()) {
        throw std::invalid_argument("overrides ('" + o.overrides.front() +
                                    "') do not apply to a trained run; its config is fixed");
      }
      if (!o.policy.empty()) {
        throw std::invalid_argument("--policy is for configs; " + o.target +
                                    " plays its own trained policy");
      }
      policy_ = std::make_unique<TrainedPolicy>(LoadPolicy(o.target));
      config = policy_->config;
      title_ = Describe(*policy_);
      mode_ = greedy_ ? "greedy" : "sampling";
    } else {
      config = Config::Load(o.target);
      for (const auto& ov : o.overrides) config.Override(ov);
      keys_ = o.policy == "keys";
      mode_ = keys_ ? "keyboard" : "random";
      title_ = std::string(keys_ ? "keyboard" : "random") + " play · " + o.target;
      if (!o.policy.empty() && o.policy != "random" && o.policy != "keys") {
        throw std::invalid_argument("--policy expects random or keys, got '" + o.policy + "'");
      }
    }
    base_env_ = EnvConfigFrom(config);
    splits_ = base_env_.Splits();
    split_ = o.split;
    seed_ = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : SeedFrom(config);
    rng_ = Rng(seed_ + 1);
    MakePlayer();
    Restart();
  }

  void Fill(Scene* s) const override {
    const Environment& env = Env();
    s->title = title_;
    s->status = base_env_.name + (split_.empty() ? "" : " · split " + split_) + " · seed " +
                std::to_string(seed_) + " · episode " + std::to_string(episode_);
    s->mission = MissionOf(env.Describe());
    s->action_names = env.Spec().action.names;
    s->num_units = player_ ? player_->num_units() : 0;
    s->steps = steps_;
    s->step = static_cast<int>(applied_);
    s->length = -1;
    s->ended = ts_.last();
    s->success = ts_.success;
    s->return_so_far = return_;
    env.Render(&s->world);
    if (!env.RenderView(Obs(), 16, &s->view, &s->view_rows, &s->view_cols)) {
      s->view = Frame{};
      s->view_rows = s->view_cols = 0;
    }
    s->input_attention = attention_;
    s->set_size = set_size_;
    s->mode = mode_;
  }

  bool Advance() override {
    if (ts_.last()) {
      ++seed_;
      Restart();
      return true;
    }
    if (keys_) return false;
    Apply(steps_.back().action);
    return true;
  }

  bool AtEpisodeEnd() const override { return ts_.last(); }

  bool Key(SDL_Keycode key, std::string* message) override {
    if (keys_ && KeyAction(key) >= 0 && KeyAction(key) < Env().Spec().action.num_actions) {
      if (ts_.last()) {
        ++seed_;
        Restart();
      } else {
        steps_.back().action = KeyAction(key);
        Apply(KeyAction(key));
      }
      return true;
    }
    switch (key) {
      case SDLK_r:
        Restart();
        return true;
      case SDLK_n:
        ++seed_;
        Restart();
        return true;
      case SDLK_s: {
        if (splits_.empty()) {
          *message = base_env_.name + " has no splits";
          return true;
        }
        size_t i = 0;
        while (i < splits_.size() && splits_[i] != split_) ++i;
        split_ = splits_[(i + 1) % splits_.size()];
        MakePlayer();
        Restart();
        *message = "split " + split_;
        return true;
      }
      case SDLK_g:
        if (!player_) return false;
        greedy_ = !greedy_;
        mode_ = greedy_ ? "greedy" : "sampling";
        *message = greedy_ ? "greedy: the most likely action from the next step"
                           : "sampling from the policy from the next step";
        return true;
      default:
        return false;
    }
  }

  std::vector<std::string> Keys() const override {
    std::vector<std::string> k = {
        "r: restart this episode (same seed)", "n: next seed",
        "s: next split" + (splits_.empty() ? std::string(" (none)") : "")};
    if (player_) k.push_back("g: sample actions / take the most likely one");
    if (keys_) {
      k.push_back("← → turn, ↑ forward, p pick up, d drop, t toggle");
    }
    return k;
  }

  bool Autoplay() const override { return !keys_; }
  int episode() const override { return episode_; }

 private:
  const Environment& Env() const { return player_ ? player_->env() : *env_; }
  const Observation& Obs() const { return player_ ? player_->observation() : obs_; }

  void MakePlayer() {
    const EnvConfig ec = split_.empty() ? base_env_ : base_env_.WithSplit(split_);
    if (policy_) {
      player_ = std::make_unique<PolicyPlayer>(policy_->model, ec.Make(), seed_);
    } else {
      env_ = ec.Make();
      if (!env_->Spec().action.discrete()) {
        throw std::invalid_argument("the viewer plays discrete actions only");
      }
      obs_ = Observation(env_->Spec().observation);
    }
  }

  void Restart() {
    ++episode_;
    if (player_) {
      player_->Reset(seed_);
      ts_ = player_->timestep();
    } else {
      env_->Seed(seed_);
      ts_ = env_->Reset(obs_.Ref());
    }
    steps_.clear();
    applied_ = 0;
    return_ = 0.0;
    Decide();
  }

  // The decision on the current observation, shown before it is applied.
  void Decide() {
    SceneStep st;
    attention_.clear();
    set_size_ = 0;
    if (player_) {
      PolicyDecision d = player_->Decide(greedy_);
      st.action = d.action;
      st.action_probs = std::move(d.action_probs);
      st.value = d.value;
      st.unit_mask = std::move(d.unit_mask);
      st.unit_null_attention = d.NullAttention();
      if (player_->num_units() == 0) st.hidden = std::move(d.hidden);
      attention_ = std::move(d.input_attention);
      set_size_ = d.set_size;
    } else if (!keys_) {
      st.action =
          static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(Env().Spec().action.num_actions)));
    }
    steps_.push_back(std::move(st));
  }

  void Apply(int32_t action) {
    if (player_) {
      ts_ = player_->Apply(action);
    } else {
      Action a;
      a.index = action;
      ts_ = env_->Step(a, obs_.Ref());
    }
    steps_.back().reward = ts_.reward;
    return_ += ts_.reward;
    ++applied_;
    if (!ts_.last()) Decide();
  }

  std::unique_ptr<TrainedPolicy> policy_;
  std::unique_ptr<PolicyPlayer> player_;
  std::unique_ptr<Environment> env_;  // without a policy
  Observation obs_;
  EnvConfig base_env_;
  std::vector<std::string> splits_;
  std::string split_;
  uint64_t seed_ = 1;
  Rng rng_{1};
  bool keys_ = false;
  bool greedy_ = false;
  std::string title_;
  std::string mode_;
  TimeStep ts_;
  std::vector<SceneStep> steps_;
  size_t applied_ = 0;
  double return_ = 0.0;
  std::vector<float> attention_;
  int set_size_ = 0;
  int episode_ = 0;
};

}  // namespace

std::unique_ptr<Source> MakeLiveSource(const LiveOptions& options) {
  return std::make_unique<LiveSource>(options);
}

}  // namespace rimlab::viewer
