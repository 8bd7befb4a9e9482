#pragma once
/// What the viewer shows at one moment, whatever plays it: a replayed recording or a policy
/// playing live fill the same Scene, and one function draws it (viewer/panel.h).

#include <optional>
#include <string>
#include <vector>

#include "envs/core/frame.h"

namespace rimlab::viewer {

/// One decision of the episode: step t is the decision taken on the observation after t actions.
struct SceneStep {
  int32_t action = -1;
  float reward = 0.0f;              ///< what followed the action; meaningful once it is applied
  std::vector<float> action_probs;  ///< empty when not known (random or keyboard play)
  std::optional<float> value;
  std::vector<float> unit_mask;            ///< RIM: 1 = active; empty otherwise
  std::vector<float> unit_null_attention;  ///< RIM, optional
  std::vector<float> hidden;               ///< LSTM/GRU output state, optional
};

struct Scene {
  std::string title;   ///< the policy: "ppo rim(6 units, top 4) · runs/x, 3,000,000 frames"
  std::string status;  ///< where: "distractors · split train · seed 7 · episode 3"
  std::string mission;
  std::vector<std::string> action_names;
  int num_units = 0;  ///< RIM units; 0 for other policies

  std::vector<SceneStep> steps;  ///< the decisions known so far (a replay knows them all)
  int step = 0;                  ///< actions applied so far
  int length = -1;               ///< the episode's length when known in advance (replays)
  bool ended = false;            ///< the episode is over at `step`
  bool success = false;
  double return_so_far = 0.0;

  Frame world;        ///< the env's own top-down frame
  Frame view;         ///< the agent's view (Environment::RenderView), may be empty
  int view_rows = 0;  ///< tiles of `view`
  int view_cols = 0;
  /// The current decision's input attention [num_units][set_size + 1] (column 0 null), drawn
  /// over `view` when set_size == view_rows * view_cols.
  std::vector<float> input_attention;
  int set_size = 0;

  // How it plays.
  bool paused = false;
  double fps = 0.0;
  std::string mode;               ///< "sampling", "greedy", "replay", "random", "keyboard"
  bool help = false;              ///< the key overlay is up
  std::vector<std::string> keys;  ///< "key: what it does", shown by the overlay
  std::string message;            ///< a transient line: "saved shot-0003.png"
};

}  // namespace rimlab::viewer
