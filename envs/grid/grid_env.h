#pragma once
/// The shared base of every gridworld task, after MiniGridEnv: it owns Step, the egocentric view
/// and the episode bookkeeping; a task only builds its grid (GenGrid) and adds its own rules.

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "envs/core/env.h"
#include "common/rng.h"
#include "common/state_io.h"
#include "envs/grid/world.h"

namespace rimlab::grid {

constexpr int kViewSize = 7;  ///< MiniGrid's agent_view_size; the agent sits at row 6, column 3

/// Observation fields, in spec order.
enum ObsField : int { kImageField = 0, kDirectionField = 1, kMissionField = 2 };

/// The observation spec every grid task shares: image uint8 [7,7,3] (row, column, channel; our
/// image[r][c] is MiniGrid's obs["image"][c][r]), direction int32 [1], mission int32 [3].
ObservationSpec GridObservationSpec();

class GridEnv : public Environment {
 public:
  const EnvSpec& Spec() const override { return spec_; }
  void Seed(uint64_t seed) override { rng_.Seed(seed); }
  TimeStep Reset(const ObsRef& obs) override;
  TimeStep Step(const Action& action, const ObsRef& obs) override;
  void Render(Frame* frame) const override;
  bool RenderView(const Observation& obs, int tile, Frame* frame, int* rows,
                  int* cols) const override;
  std::string Describe() const override;
  /// Snapshots hold the episode state (grid, agent, carried object, step counter, mission,
  /// whether a reset is due), the RNG and the task's own state (SaveTaskState); not the options,
  /// which the loading env must share (max_steps and see_through_walls are checked). A failed
  /// LoadState leaves the env as it was.
  std::string SaveState() const final;
  void LoadState(const std::string& bytes) final;

  // Read access for tests, recordings and the viewer.
  const Grid& grid() const { return grid_; }
  int agent_x() const { return agent_x_; }
  int agent_y() const { return agent_y_; }
  int agent_dir() const { return agent_dir_; }
  bool carrying_anything() const { return !carrying_.empty(); }
  const Cell& carrying() const { return carrying_; }
  int step_count() const { return step_count_; }
  int max_steps() const { return max_steps_; }
  bool see_through_walls() const { return see_through_walls_; }
  const std::array<int32_t, Vocab::kMissionLength>& mission() const { return mission_; }
  std::string MissionText() const;
  /// The map as ASCII (two characters per cell, agent included), the format levels are written in.
  std::string AsciiMap() const;
  /// Which world cells the agent sees this step (visibility after occlusion), row-major.
  std::vector<bool> VisibleCells() const;

 protected:
  GridEnv(std::string name, int max_steps, bool see_through_walls);

  /// Builds a new episode: fills grid_, agent_x_/agent_y_/agent_dir_ and mission_.
  virtual void GenGrid() = 0;
  /// Runs before the agent acts (moving obstacles, for instance).
  virtual void BeforeStep(int32_t /*action*/) {}
  /// Task rules after MiniGrid's base step; may change reward, termination and success.
  virtual void AfterStep(int32_t /*action*/, float* /*reward*/, bool* /*terminated*/,
                         bool* /*success*/) {}

  /// A task whose future depends on more than the base's state (a target, moving objects)
  /// appends that here, and reads it back in the same order in LoadTaskState, which runs after
  /// the base state is in place and must validate what it reads (through r->Fail): the bytes may
  /// be corrupt. Changing either layout means bumping the version in grid_env.cpp.
  virtual void SaveTaskState(StateWriter* /*w*/) const {}
  virtual void LoadTaskState(StateReader* /*r*/) {}
  /// Fails the load unless `c` is a cell the gridworld can hold (an index in range).
  static void CheckCell(const StateReader& r, const Cell& c, const char* what);

  /// MiniGrid's place_obj: a random empty cell, not the agent's, inside [top, top + size), with
  /// `reject` able to veto cells. Throws std::runtime_error after `max_tries` failed draws.
  template <typename Reject>
  void PlaceObj(Cell cell, int top_x, int top_y, int size_x, int size_y, Reject reject, int* out_x,
                int* out_y, int max_tries = 100000);
  void PlaceObj(Cell cell, int* out_x = nullptr, int* out_y = nullptr) {
    PlaceObj(
        cell, 0, 0, grid_.width(), grid_.height(), [](int, int) { return false; }, out_x, out_y);
  }
  /// MiniGrid's place_agent: a random empty cell anywhere and a random direction.
  void PlaceAgent();
  /// Fetch's rule, for AfterStep: any pickup ends the episode, with the success reward when the
  /// carried object is the target and 0 otherwise.
  void EndOnPickup(Obj target_type, Color target_color, float* reward, bool* terminated,
                   bool* success) const;
  /// 1 - 0.9 * step_count / max_steps, MiniGrid's success reward.
  float SuccessReward() const {
    return 1.0f - 0.9f * static_cast<float>(step_count_) / static_cast<float>(max_steps_);
  }
  /// The view's cells (row-major, agent at row 6 column 3) before the carried object is drawn.
  void SliceView(std::array<Cell, kViewSize * kViewSize>* view) const;
  /// MiniGrid's process_vis on the sliced view.
  static void ProcessVis(const std::array<Cell, kViewSize * kViewSize>& view,
                         std::array<bool, kViewSize * kViewSize>* mask);

  EnvSpec spec_;
  Rng rng_;
  Grid grid_;
  int agent_x_ = 0;
  int agent_y_ = 0;
  int agent_dir_ = 0;
  Cell carrying_;  ///< empty when the agent carries nothing
  int step_count_ = 0;
  int max_steps_;
  bool see_through_walls_;
  std::array<int32_t, Vocab::kMissionLength> mission_{};

 private:
  void WriteObs(const ObsRef& obs) const;
  Cell FrontCell(int* fx, int* fy) const;
  void Unpack(const std::string& bytes);
  bool needs_reset_ = true;
};

template <typename Reject>
void GridEnv::PlaceObj(Cell cell, int top_x, int top_y, int size_x, int size_y, Reject reject,
                       int* out_x, int* out_y, int max_tries) {
  top_x = top_x < 0 ? 0 : top_x;
  top_y = top_y < 0 ? 0 : top_y;
  const int end_x = top_x + size_x < grid_.width() ? top_x + size_x : grid_.width();
  const int end_y = top_y + size_y < grid_.height() ? top_y + size_y : grid_.height();
  if (end_x <= top_x || end_y <= top_y) {
    throw std::runtime_error(spec_.name + ": PlaceObj given an empty rectangle");
  }
  for (int tries = 0; tries < max_tries; ++tries) {
    const int x = rng_.UniformInt(top_x, end_x);
    const int y = rng_.UniformInt(top_y, end_y);
    if (!grid_.at(x, y).empty()) continue;
    if (x == agent_x_ && y == agent_y_) continue;
    if (reject(x, y)) continue;
    grid_.Set(x, y, cell);
    if (out_x != nullptr) *out_x = x;
    if (out_y != nullptr) *out_y = y;
    return;
  }
  throw std::runtime_error(spec_.name + ": PlaceObj found no free cell in " +
                           std::to_string(max_tries) + " tries");
}

}  // namespace rimlab::grid
