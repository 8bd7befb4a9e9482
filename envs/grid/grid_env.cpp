#include "envs/grid/grid_env.h"

#include <stdexcept>
#include <utility>
#include <vector>

#include "envs/grid/ascii_map.h"

namespace rimlab::grid {

namespace {

struct Offset {
  int8_t dx, dy;
};

// For each direction, the world offset of every view cell from the agent. A view cell at row r,
// column c lies (6 - r) cells ahead and (c - 3) cells to the right: the inverse of MiniGrid's
// get_view_coords, and the same cells its slice-then-rotate_left produces.
struct ViewTable {
  Offset at[4][kViewSize * kViewSize];
  ViewTable() : at() {
    for (int d = 0; d < 4; ++d) {
      const int fx = kDirX[static_cast<size_t>(d)];
      const int fy = kDirY[static_cast<size_t>(d)];
      const int rx = -fy;
      const int ry = fx;
      for (int r = 0; r < kViewSize; ++r) {
        for (int c = 0; c < kViewSize; ++c) {
          const int ahead = kViewSize - 1 - r;
          const int right = c - kViewSize / 2;
          at[d][r * kViewSize + c] = Offset{static_cast<int8_t>(ahead * fx + right * rx),
                                            static_cast<int8_t>(ahead * fy + right * ry)};
        }
      }
    }
  }
};

const ViewTable& Table() {
  static const ViewTable table;
  return table;
}

constexpr int kAgentView = (kViewSize - 1) * kViewSize + kViewSize / 2;

// The layout of GridEnv snapshots, the tasks' parts included.
constexpr uint32_t kGridStateVersion = 1;

}  // namespace

ObservationSpec GridObservationSpec() {
  ObservationSpec s;
  s.fields.push_back({"image", {kViewSize, kViewSize, 3}, DType::kUInt8, 0, kNumObj - 1});
  s.fields.push_back({"direction", {1}, DType::kInt32, 0, 3});
  s.fields.push_back({"mission", {Vocab::kMissionLength}, DType::kInt32, 0, Vocab::kSize - 1});
  return s;
}

GridEnv::GridEnv(std::string name, int max_steps, bool see_through_walls)
    : max_steps_(max_steps), see_through_walls_(see_through_walls) {
  spec_.name = std::move(name);
  spec_.observation = GridObservationSpec();
  spec_.action = ActionSpec::Discrete(
      kNumActions, {"left", "right", "forward", "pickup", "drop", "toggle", "done"});
  spec_.max_episode_steps = max_steps;
}

TimeStep GridEnv::Reset(const ObsRef& obs) {
  agent_x_ = -1;
  agent_y_ = -1;
  agent_dir_ = 0;
  carrying_ = Cell::Empty();
  mission_.fill(Vocab::kPad);
  GenGrid();
  if (!grid_.InBounds(agent_x_, agent_y_) || !grid_.at(agent_x_, agent_y_).CanOverlap()) {
    throw std::logic_error(spec_.name + ": GenGrid left the agent off the grid or on an object");
  }
  step_count_ = 0;
  needs_reset_ = false;
  WriteObs(obs);
  return TimeStep{StepType::kFirst, 0.0f, 1.0f, false};
}

Cell GridEnv::FrontCell(int* fx, int* fy) const {
  *fx = agent_x_ + kDirX[static_cast<size_t>(agent_dir_)];
  *fy = agent_y_ + kDirY[static_cast<size_t>(agent_dir_)];
  // Outside the grid behaves as a wall, as MiniGrid's slice() treats it.
  return grid_.InBounds(*fx, *fy) ? grid_.at(*fx, *fy) : Cell::Wall();
}

TimeStep GridEnv::Step(const Action& action, const ObsRef& obs) {
  if (needs_reset_) throw std::logic_error(spec_.name + ": Step called before Reset or after LAST");
  const int32_t a = action.index;
  if (a < 0 || a >= kNumActions) {
    throw std::invalid_argument(spec_.name + ": action " + std::to_string(a) + " is outside [0, " +
                                std::to_string(kNumActions) + ")");
  }
  BeforeStep(a);
  ++step_count_;
  float reward = 0.0f;
  bool terminated = false;
  bool success = false;
  int fx = 0;
  int fy = 0;
  const Cell front = FrontCell(&fx, &fy);

  switch (a) {
    case kLeft:
      agent_dir_ = (agent_dir_ + 3) % 4;
      break;
    case kRight:
      agent_dir_ = (agent_dir_ + 1) % 4;
      break;
    case kForward:
      if (front.CanOverlap()) {
        agent_x_ = fx;
        agent_y_ = fy;
      }
      if (front.type == Obj::kGoal) {
        terminated = true;
        success = true;
        reward = SuccessReward();
      } else if (front.type == Obj::kLava) {
        terminated = true;
      }
      break;
    case kPickup:
      if (front.CanPickup() && carrying_.empty()) {
        carrying_ = front;
        grid_.Set(fx, fy, Cell::Empty());
      }
      break;
    case kDrop:
      if (front.empty() && grid_.InBounds(fx, fy) && !carrying_.empty()) {
        grid_.Set(fx, fy, carrying_);
        carrying_ = Cell::Empty();
      }
      break;
    case kToggle:
      if (front.type == Obj::kDoor) {
        Cell& door = grid_.at(fx, fy);
        if (door.state == kDoorLocked) {
          if (carrying_.type == Obj::kKey && carrying_.color == door.color) door.state = kDoorOpen;
        } else {
          door.state = door.state == kDoorOpen ? kDoorClosed : kDoorOpen;
        }
      } else if (front.type == Obj::kBox) {
        grid_.Set(fx, fy, UnpackContents(front.contents));
      }
      break;
    default:  // done: MiniGrid does nothing
      break;
  }

  AfterStep(a, &reward, &terminated, &success);
  const bool truncated = step_count_ >= max_steps_;
  WriteObs(obs);
  if (terminated) {
    needs_reset_ = true;
    return TimeStep{StepType::kLast, reward, 0.0f, success};
  }
  if (truncated) {
    needs_reset_ = true;
    return TimeStep{StepType::kLast, reward, 1.0f, false};
  }
  return TimeStep{StepType::kMid, reward, 1.0f, false};
}

std::string GridEnv::SaveState() const {
  StateWriter w(spec_.name, kGridStateVersion);
  w.Pod<int32_t>(max_steps_);
  w.Bool(see_through_walls_);
  w.Pod<int32_t>(grid_.width());
  w.Pod<int32_t>(grid_.height());
  w.Vector(grid_.cells());
  w.Pod<int32_t>(agent_x_);
  w.Pod<int32_t>(agent_y_);
  w.Pod<int32_t>(agent_dir_);
  w.Pod(carrying_);
  w.Pod<int32_t>(step_count_);
  w.Pod(mission_);
  w.Bool(needs_reset_);
  w.Pod(rng_.State());
  SaveTaskState(&w);
  return w.Take();
}

void GridEnv::LoadState(const std::string& bytes) {
  // Unpack writes members as it goes (tasks read straight into theirs), so a failure part way
  // would leave a mix of two states: restore the current one instead.
  const std::string backup = SaveState();
  try {
    Unpack(bytes);
  } catch (...) {
    Unpack(backup);
    throw;
  }
}

void GridEnv::CheckCell(const StateReader& r, const Cell& c, const char* what) {
  const auto type = static_cast<int>(c.type);
  const auto color = static_cast<int>(c.color);
  const Cell inside = UnpackContents(c.contents);
  if (type >= kNumObj || color >= kNumColors || c.state > kDoorLocked ||
      static_cast<int>(inside.type) >= kNumObj || static_cast<int>(inside.color) >= kNumColors) {
    r.Fail(std::string(what) + " holds an invalid cell (object " + std::to_string(type) +
           ", colour " + std::to_string(color) + ", state " + std::to_string(c.state) +
           ", contents " + std::to_string(c.contents) + ")");
  }
}

void GridEnv::Unpack(const std::string& bytes) {
  StateReader r(bytes, spec_.name, kGridStateVersion);
  const auto max_steps = r.Pod<int32_t>();
  const bool see_through_walls = r.Bool();
  if (max_steps != max_steps_ || see_through_walls != see_through_walls_) {
    r.Fail("saved by an env with max_steps " + std::to_string(max_steps) +
           " and see_through_walls " + (see_through_walls ? "true" : "false") +
           ", but this one has " + std::to_string(max_steps_) + " and " +
           (see_through_walls_ ? "true" : "false") +
           " (load into an env made with the same options)");
  }
  const auto width = r.Pod<int32_t>();
  const auto height = r.Pod<int32_t>();
  std::vector<Cell> cells = r.Vector<Cell>();
  if (width < 0 || height < 0 ||
      cells.size() != static_cast<size_t>(width) * static_cast<size_t>(height)) {
    r.Fail(std::to_string(cells.size()) + " cells for a grid of " + std::to_string(width) + "x" +
           std::to_string(height));
  }
  for (const Cell& c : cells) CheckCell(r, c, "the grid");
  const auto x = r.Pod<int32_t>();
  const auto y = r.Pod<int32_t>();
  const auto dir = r.Pod<int32_t>();
  const auto carrying = r.Pod<Cell>();
  CheckCell(r, carrying, "the carried object");
  const auto step_count = r.Pod<int32_t>();
  const auto mission = r.Pod<std::array<int32_t, Vocab::kMissionLength>>();
  const bool needs_reset = r.Bool();
  const auto rng_state = r.Pod<std::array<uint64_t, 4>>();

  // Step indexes the grid around the agent; between episodes (or before the first) the agent's
  // position is only drawn, which clips, and a failed GenGrid may leave it at -1.
  const bool in_grid = x >= 0 && y >= 0 && x < width && y < height;
  if (!needs_reset && !in_grid) {
    r.Fail("the agent at (" + std::to_string(x) + ", " + std::to_string(y) +
           ") is off its grid of " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (dir < 0 || dir > 3) r.Fail("agent direction " + std::to_string(dir));
  if (step_count < 0 || step_count > max_steps_ || (!needs_reset && step_count == max_steps_)) {
    r.Fail("step count " + std::to_string(step_count) + " with max_steps " +
           std::to_string(max_steps_));
  }
  for (int32_t token : mission) {
    if (token < 0 || token >= Vocab::kSize) r.Fail("mission token " + std::to_string(token));
  }
  if ((rng_state[0] | rng_state[1] | rng_state[2] | rng_state[3]) == 0) {
    r.Fail("an all-zero RNG state");
  }

  grid_.Assign(width, height, std::move(cells));
  agent_x_ = x;
  agent_y_ = y;
  agent_dir_ = dir;
  carrying_ = carrying;
  step_count_ = step_count;
  mission_ = mission;
  needs_reset_ = needs_reset;
  rng_.SetState(rng_state);
  LoadTaskState(&r);
  r.Finish();
}

void GridEnv::EndOnPickup(Obj target_type, Color target_color, float* reward, bool* terminated,
                          bool* success) const {
  if (carrying_.empty()) return;
  *terminated = true;
  *success = carrying_.type == target_type && carrying_.color == target_color;
  *reward = *success ? SuccessReward() : 0.0f;
}

void GridEnv::PlaceAgent() {
  agent_x_ = -1;
  agent_y_ = -1;
  int x = 0;
  int y = 0;
  // MiniGrid places "None", which leaves the cell empty: place a marker and clear it again.
  PlaceObj(Cell::Wall(), &x, &y);
  grid_.Set(x, y, Cell::Empty());
  agent_x_ = x;
  agent_y_ = y;
  agent_dir_ = rng_.UniformInt(0, 4);
}

void GridEnv::SliceView(std::array<Cell, kViewSize * kViewSize>* view) const {
  const Offset* off = Table().at[agent_dir_];
  for (int i = 0; i < kViewSize * kViewSize; ++i) {
    const int x = agent_x_ + off[i].dx;
    const int y = agent_y_ + off[i].dy;
    (*view)[static_cast<size_t>(i)] = grid_.InBounds(x, y) ? grid_.at(x, y) : Cell::Wall();
  }
}

void GridEnv::ProcessVis(const std::array<Cell, kViewSize * kViewSize>& view,
                         std::array<bool, kViewSize * kViewSize>* mask) {
  // A transcription of MiniGrid's Grid.process_vis with i the column and j the row: light spreads
  // from the agent row by row, upwards, sideways and diagonally, stopping at opaque cells.
  auto& m = *mask;
  m.fill(false);
  auto idx = [](int i, int j) { return static_cast<size_t>(j * kViewSize + i); };
  m[idx(kViewSize / 2, kViewSize - 1)] = true;
  for (int j = kViewSize - 1; j >= 0; --j) {
    for (int i = 0; i < kViewSize - 1; ++i) {
      if (!m[idx(i, j)] || !view[idx(i, j)].SeeBehind()) continue;
      m[idx(i + 1, j)] = true;
      if (j > 0) {
        m[idx(i + 1, j - 1)] = true;
        m[idx(i, j - 1)] = true;
      }
    }
    for (int i = kViewSize - 1; i > 0; --i) {
      if (!m[idx(i, j)] || !view[idx(i, j)].SeeBehind()) continue;
      m[idx(i - 1, j)] = true;
      if (j > 0) {
        m[idx(i - 1, j - 1)] = true;
        m[idx(i, j - 1)] = true;
      }
    }
  }
}

void GridEnv::WriteObs(const ObsRef& obs) const {
  std::array<Cell, kViewSize * kViewSize> view;
  SliceView(&view);
  uint8_t* img = obs.Field<uint8_t>(kImageField);
  if (see_through_walls_) {
    view[kAgentView] = carrying_;
    for (int i = 0; i < kViewSize * kViewSize; ++i) {
      const Cell& c = view[static_cast<size_t>(i)];
      img[3 * i] = static_cast<uint8_t>(c.type);
      img[3 * i + 1] = static_cast<uint8_t>(c.color);
      img[3 * i + 2] = c.state;
    }
  } else {
    std::array<bool, kViewSize * kViewSize> visible;
    ProcessVis(view, &visible);
    view[kAgentView] = carrying_;
    for (int i = 0; i < kViewSize * kViewSize; ++i) {
      const Cell& c = view[static_cast<size_t>(i)];
      const bool v = visible[static_cast<size_t>(i)];
      img[3 * i] = v ? static_cast<uint8_t>(c.type) : 0;
      img[3 * i + 1] = v ? static_cast<uint8_t>(c.color) : 0;
      img[3 * i + 2] = v ? c.state : 0;
    }
  }
  obs.Field<int32_t>(kDirectionField)[0] = agent_dir_;
  int32_t* mission = obs.Field<int32_t>(kMissionField);
  for (int i = 0; i < Vocab::kMissionLength; ++i) mission[i] = mission_[static_cast<size_t>(i)];
}

std::vector<bool> GridEnv::VisibleCells() const {
  std::vector<bool> out(static_cast<size_t>(grid_.width() * grid_.height()), false);
  std::array<Cell, kViewSize * kViewSize> view;
  SliceView(&view);
  std::array<bool, kViewSize * kViewSize> visible;
  if (see_through_walls_) {
    visible.fill(true);
  } else {
    ProcessVis(view, &visible);
  }
  const Offset* off = Table().at[agent_dir_];
  for (int i = 0; i < kViewSize * kViewSize; ++i) {
    const int x = agent_x_ + off[i].dx;
    const int y = agent_y_ + off[i].dy;
    if (visible[static_cast<size_t>(i)] && grid_.InBounds(x, y)) {
      out[static_cast<size_t>(y * grid_.width() + x)] = true;
    }
  }
  return out;
}

std::string GridEnv::MissionText() const {
  std::string s;
  for (int32_t t : mission_) {
    if (t == Vocab::kPad) continue;
    s += (s.empty() ? "" : " ") + Vocab::Word(t);
  }
  return s;
}

std::string GridEnv::AsciiMap() const {
  return FormatAsciiMap(grid_, agent_x_, agent_y_, agent_dir_);
}

std::string GridEnv::Describe() const {
  std::string s =
      spec_.name + "  step " + std::to_string(step_count_) + "/" + std::to_string(max_steps_);
  if (!mission_.empty() && mission_[0] != Vocab::kPad) s += "  mission: " + MissionText();
  if (!carrying_.empty()) {
    s += std::string("  carrying: ") + ColorName(carrying_.color) + " " + ObjName(carrying_.type);
  }
  return s + "\n" + AsciiMap();
}

}  // namespace rimlab::grid
