// Replays recordings (runs/NAME/episodes/*.json) by re-simulating them: every decision is known
// in advance, so the panel shows the whole episode's units and the viewer can step back.
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "runners/run/recording.h"
#include "viewer/source.h"

namespace rimlab::viewer {

namespace {

class ReplaySource : public Source {
 public:
  explicit ReplaySource(const std::string& path) : files_(ListRecordings(path)), path_(path) {
    OpenFrom(0, 1);
  }

  void Fill(Scene* s) const override {
    const EpisodeRecording& r = replay_->recording();
    s->title = r.policy.empty() ? "recorded episode" : r.policy;
    if (r.frames > 0) s->title += " · " + std::to_string(r.frames) + " frames";
    s->status = replay_->origin() + " · seed " + std::to_string(r.seed);
    if (files_.size() > 1) {
      s->status +=
          " · episode " + std::to_string(index_ + 1) + " of " + std::to_string(files_.size());
    }
    s->mission = MissionOf(replay_->env().Describe());
    s->action_names = replay_->env().Spec().action.names;
    s->num_units = r.num_units;
    s->steps.assign(static_cast<size_t>(r.length), SceneStep{});
    for (size_t t = 0; t < s->steps.size(); ++t) {
      SceneStep& st = s->steps[t];
      st.action = r.actions[t];
      st.reward = r.rewards[t];
      if (!r.action_probs.empty()) st.action_probs = r.action_probs[t];
      if (!r.values.empty()) st.value = r.values[t];
      if (!r.unit_mask.empty()) st.unit_mask = r.unit_mask[t];
      if (!r.unit_null_attention.empty()) st.unit_null_attention = r.unit_null_attention[t];
    }
    s->step = replay_->step();
    s->length = r.length;
    s->ended = replay_->done();
    s->success = r.success;
    s->return_so_far = replay_->return_so_far();
    replay_->Render(&s->world);
    if (!replay_->env().RenderView(replay_->observation(), 16, &s->view, &s->view_rows,
                                   &s->view_cols)) {
      s->view = Frame{};
      s->view_rows = s->view_cols = 0;
    }
    s->input_attention.clear();
    s->set_size = 0;
    s->mode = "replay";
  }

  bool Advance() override {
    if (!replay_->done()) {
      replay_->Next();
      return true;
    }
    if (index_ + 1 >= static_cast<int>(files_.size())) return false;
    OpenFrom(index_ + 1, 1);
    return true;
  }

  bool AtEpisodeEnd() const override { return replay_->done(); }

  bool Key(SDL_Keycode key, std::string*) override {
    switch (key) {
      case SDLK_RIGHT:
        if (replay_->done()) return false;
        replay_->Next();
        return true;
      case SDLK_LEFT:
        if (replay_->step() == 0) return false;
        replay_->Seek(replay_->step() - 1);
        return true;
      case SDLK_r:
        replay_->Seek(0);
        return true;
      case SDLK_n:
      case SDLK_p:
        if (files_.size() < 2) return false;
        OpenFrom(index_ + (key == SDLK_n ? 1 : -1), key == SDLK_n ? 1 : -1);
        return true;
      default:
        return false;
    }
  }

  std::vector<std::string> Keys() const override {
    return {"→ / ←: one step forward / back", "r: restart the episode",
            "n / p: next / previous recording"};
  }

  int episode() const override { return index_ + 1; }

 private:
  // Every recording opened is replayed once to its end first, so that one the current env no
  // longer reproduces fails here, with its message, and never halfway through playing. In a
  // directory such a recording is reported and skipped, so one stale file hides nothing else.
  void OpenFrom(int first, int direction) {
    const int n = static_cast<int>(files_.size());
    for (int tries = 0; tries < n; ++tries) {
      const int i = ((first + direction * tries) % n + n) % n;
      try {
        auto replay = std::make_unique<Replayer>(LoadRecording(files_[static_cast<size_t>(i)]),
                                                 files_[static_cast<size_t>(i)]);
        replay->Seek(replay->recording().length);
        replay->Seek(0);
        replay_ = std::move(replay);
        index_ = i;
        return;
      } catch (const std::invalid_argument& e) {
        if (n == 1) throw;
        std::fprintf(stderr, "rimlab_viewer: skipping: %s\n", e.what());
      }
    }
    throw std::invalid_argument(path_ + ": none of the recordings replays");
  }

  std::vector<std::string> files_;
  std::string path_;
  std::unique_ptr<Replayer> replay_;
  int index_ = 0;
};

}  // namespace

std::string MissionOf(const std::string& description) {
  const std::string first = description.substr(0, description.find('\n'));
  const auto at = first.find("mission: ");
  if (at == std::string::npos) return "";
  const std::string rest = first.substr(at + 9);
  return rest.substr(0, rest.find("  "));
}

std::unique_ptr<Source> MakeReplaySource(const std::string& path) {
  return std::make_unique<ReplaySource>(path);
}

}  // namespace rimlab::viewer
