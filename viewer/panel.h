#pragma once
/// Draws a Scene into a Frame of any size: the env's top-down view on the left, scaled to fit,
/// and on the right a panel with the mission, the step, the policy's next action and its
/// distribution, reward, return and value, the agent's own view (with the core's attention over
/// its cells when the encoder hands the core a set of cells), the RIM units active now, and a
/// units-by-steps timeline (a hidden-state heat strip for LSTM and GRU). The same pixels go to
/// the window, to screenshots and to headless output.

#include <memory>

#include "envs/core/frame.h"
#include "viewer/font.h"
#include "viewer/scene.h"

namespace rimlab::viewer {

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
};

/// Where Compose put things, for tests and for mapping clicks.
struct Layout {
  Rect world;                ///< the scaled env frame
  double world_scale = 1.0;  ///< screen pixels per env-frame pixel
  Rect view;                 ///< the agent's view, empty when not drawn
  int view_tile = 0;
  Rect units;  ///< the row of unit boxes (RIM)
  int unit_box = 0, unit_gap = 0;
  Rect timeline;  ///< the units-by-steps grid or the hidden-state strip (without the rewards)
  int timeline_first_step = 0;  ///< the step in the timeline's first column
  int timeline_cols = 0;
  int cell_w = 0, cell_h = 0;  ///< one timeline cell; rows are units or hidden dimensions
};

// Colours a test can look for.
inline constexpr Rgb kPanelBackground{24, 24, 28};
inline constexpr Rgb kUnitActive{255, 190, 40};
inline constexpr Rgb kUnitActiveLater{120, 92, 30};  ///< active at a step not reached yet
inline constexpr Rgb kUnitIdle{52, 52, 60};

/// Smallest size the layout is made for; smaller sizes are drawn at this size.
inline constexpr int kMinWidth = 800;
inline constexpr int kMinHeight = 560;

class Composer {
 public:
  /// Opens the fonts. Throws std::runtime_error when the font file is missing.
  Composer();
  /// Draws `scene` into `out`, resized to width x height (at least kMinWidth x kMinHeight).
  Layout Compose(const Scene& scene, int width, int height, Frame* out) const;

 private:
  Font title_{18, true};
  Font text_{15};
  Font small_{13};
};

}  // namespace rimlab::viewer
