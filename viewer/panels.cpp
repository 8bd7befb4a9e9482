#include "viewer/panels.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace rimlab::viewer {

namespace {

// --- text ----------------------------------------------------------------------------------

// 3x5 glyphs, five rows of three pixels each ('X' lit). A hand-made font keeps the viewer free
// of font files and SDL_ttf, and small enough to draw into Frames for headless snapshots.
struct GlyphDef {
  char c;
  const char* rows;
};
const GlyphDef kGlyphs[] = {
    {'0', "XXX X.X X.X X.X XXX"}, {'1', ".X. XX. .X. .X. XXX"},  {'2', "XXX ..X XXX X.. XXX"},
    {'3', "XXX ..X .XX ..X XXX"}, {'4', "X.X X.X XXX ..X ..X"},  {'5', "XXX X.. XXX ..X XXX"},
    {'6', "XXX X.. XXX X.X XXX"}, {'7', "XXX ..X ..X .X. .X."},  {'8', "XXX X.X XXX X.X XXX"},
    {'9', "XXX X.X XXX ..X XXX"}, {'A', ".X. X.X XXX X.X X.X"},  {'B', "XX. X.X XX. X.X XX."},
    {'C', ".XX X.. X.. X.. .XX"}, {'D', "XX. X.X X.X X.X XX."},  {'E', "XXX X.. XX. X.. XXX"},
    {'F', "XXX X.. XX. X.. X.."}, {'G', ".XX X.. X.X X.X .XX"},  {'H', "X.X X.X XXX X.X X.X"},
    {'I', "XXX .X. .X. .X. XXX"}, {'J', "..X ..X ..X X.X .X."},  {'K', "X.X X.X XX. X.X X.X"},
    {'L', "X.. X.. X.. X.. XXX"}, {'M', "X.X XXX XXX X.X X.X"},  {'N', "XX. X.X X.X X.X X.X"},
    {'O', ".X. X.X X.X X.X .X."}, {'P', "XX. X.X XX. X.. X.."},  {'Q', ".X. X.X X.X XX. .XX"},
    {'R', "XX. X.X XX. X.X X.X"}, {'S', ".XX X.. .X. ..X XX."},  {'T', "XXX .X. .X. .X. .X."},
    {'U', "X.X X.X X.X X.X XXX"}, {'V', "X.X X.X X.X X.X .X."},  {'W', "X.X X.X XXX XXX X.X"},
    {'X', "X.X X.X .X. X.X X.X"}, {'Y', "X.X X.X .X. .X. .X."},  {'Z', "XXX ..X .X. X.. XXX"},
    {' ', "... ... ... ... ..."}, {'.', "... ... ... ... .X."},  {',', "... ... ... .X. X.."},
    {':', "... .X. ... .X. ..."}, {'-', "... ... XXX ... ..."},  {'+', "... .X. XXX .X. ..."},
    {'/', "..X ..X .X. X.. X.."}, {'=', "... XXX ... XXX ..."},  {'(', ".X. X.. X.. X.. .X."},
    {')', ".X. ..X ..X ..X .X."}, {'[', "XX. X.. X.. X.. XX."},  {']', ".XX ..X ..X ..X .XX"},
    {'%', "X.X ..X .X. X.. X.X"}, {'_', "... ... ... ... XXX"},  {'#', "X.X XXX X.X XXX X.X"},
    {'>', "X.. .X. ..X .X. X.."}, {'<', "..X .X. X.. .X. ..X"},  {'?', "XXX ..X .X. ... .X."},
    {'!', ".X. .X. .X. ... .X."}, {'\'', ".X. .X. ... ... ..."}, {'|', ".X. .X. .X. .X. .X."},
    {'*', "... X.X .X. X.X ..."},
};

// 15 bits per glyph, row-major from the top-left pixel.
const std::array<uint16_t, 128>& GlyphTable() {
  static const std::array<uint16_t, 128> table = [] {
    std::array<uint16_t, 128> t{};
    for (const GlyphDef& g : kGlyphs) {
      uint16_t bits = 0;
      int bit = 0;
      for (const char* p = g.rows; *p != '\0'; ++p) {
        if (*p == ' ') continue;
        if (*p == 'X') bits = static_cast<uint16_t>(bits | (1u << bit));
        ++bit;
      }
      t[static_cast<unsigned char>(g.c)] = bits;
    }
    return t;
  }();
  return table;
}

constexpr int kAdvance = 4;  // glyph width plus one column of spacing, before scaling

// --- panel ---------------------------------------------------------------------------------

constexpr Rgb kBackground{24, 24, 28};
constexpr Rgb kText{225, 225, 225};
constexpr Rgb kDim{140, 140, 150};
constexpr Rgb kActive{255, 190, 40};
constexpr Rgb kActiveLater{120, 92, 30};  // active at a step not reached yet
constexpr Rgb kIdle{52, 52, 60};
constexpr Rgb kMarker{255, 70, 70};
constexpr Rgb kGood{80, 220, 100};
constexpr Rgb kBad{240, 80, 80};
constexpr int kMargin = 8;
constexpr int kMinWidth = 360;
constexpr int kEnvMinSize = 320;

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string Fit(const std::string& s, int width, int scale) {
  const auto max_chars = static_cast<size_t>(std::max(0, width / (kAdvance * scale)));
  if (s.size() <= max_chars) return s;
  return max_chars < 3 ? s.substr(0, max_chars) : s.substr(0, max_chars - 3) + "...";
}

void Outline(Frame* f, int x0, int y0, int x1, int y1, Rgb c) {
  f->FillRect(x0, y0, x1, y0 + 1, c);
  f->FillRect(x0, y1 - 1, x1, y1, c);
  f->FillRect(x0, y0, x0 + 1, y1, c);
  f->FillRect(x1 - 1, y0, x1, y1, c);
}

// Nearest-neighbour upscaling by the largest whole factor that keeps within `min_size`, so that
// a 5x5 grid is not a thumbnail next to the panel.
void ScaleUp(const Frame& in, int min_size, Frame* out) {
  const int s = std::max(1, min_size / std::max(1, std::max(in.width, in.height)));
  out->Reset(in.width * s, in.height * s);
  for (int y = 0; y < out->height; ++y) {
    for (int x = 0; x < out->width; ++x) {
      const uint8_t* p = in.Pixel(x / s, y / s);
      out->Set(x, y, {p[0], p[1], p[2]});
    }
  }
}

std::string ActionName(const ReplayView& v, int32_t a) {
  if (a >= 0 && static_cast<size_t>(a) < v.action_names.size()) {
    return v.action_names[static_cast<size_t>(a)];
  }
  return std::to_string(a);
}

// The unit boxes: lit when the unit is active for the decision on the frame shown; with null
// attention, a bar under each box shows how much the unit attends to the input.
int DrawUnits(Frame* f, int y, const ReplayView& v) {
  const EpisodeRecording& r = *v.recording;
  const int n = r.num_units;
  const int t = v.step;
  const bool deciding = t < r.length;
  const bool attention = !r.unit_null_attention.empty();
  DrawText(f, kMargin, y,
           attention ? "RIM UNITS ACTIVE AT THIS STEP  (BAR: ATTENTION ON THE INPUT)"
                     : "RIM UNITS ACTIVE AT THIS STEP",
           1, kDim);
  y += 9;
  const int avail = f->width - 2 * kMargin;
  const int box = std::clamp(avail / n - 4, 3, 28);
  const int gap = box >= 8 ? 4 : 1;
  for (int u = 0; u < n; ++u) {
    const int x = kMargin + u * (box + gap);
    const bool on = deciding && r.unit_mask[static_cast<size_t>(t)][static_cast<size_t>(u)] > 0.5f;
    f->FillRect(x, y, x + box, y + box, on ? kActive : kIdle);
    if (box >= 12) {
      const std::string label = std::to_string(u);
      DrawText(f, x + (box - TextWidth(label, 1)) / 2, y + (box - 5) / 2, label, 1,
               on ? kBackground : kDim);
    }
    if (attention && deciding) {
      const float a = 1.0f - r.unit_null_attention[static_cast<size_t>(t)][static_cast<size_t>(u)];
      const int w =
          static_cast<int>(std::lround(std::clamp(a, 0.0f, 1.0f) * static_cast<float>(box)));
      f->FillRect(x, y + box + 2, x + w, y + box + 5, kText);
    }
  }
  return y + box + (attention ? 9 : 6);
}

// Units x steps: a cell is filled when that unit was active at that step. Steps beyond the frame
// shown are dimmer; a strip under the grid marks the rewards; the current step is outlined.
int DrawTimeline(Frame* f, int y, const ReplayView& v) {
  const EpisodeRecording& r = *v.recording;
  const int n = r.num_units;
  const int len = r.length;
  const int t = v.step;
  const int avail = f->width - 2 * kMargin;
  const int cw = std::clamp(avail / len, 1, 12);
  const int cols = std::min(len, avail / cw);
  const int start = len <= cols ? 0 : std::clamp(t - cols / 2, 0, len - cols);
  std::string label = n > 0 ? "TIMELINE: UNITS X STEPS" : "TIMELINE: STEPS (NO RIM UNITS)";
  if (cols < len) {
    label += "  (STEPS " + std::to_string(start + 1) + "-" + std::to_string(start + cols) + ")";
  }
  DrawText(f, kMargin, y, label, 1, kDim);
  y += 9;
  const int marker_y = y;
  y += 6;  // room for the marker above the grid
  const int ch = n > 0 ? std::clamp(72 / n, 2, 10) : 0;
  const int inner_w = cw >= 4 ? cw - 1 : cw;
  const int inner_h = ch >= 4 ? ch - 1 : ch;
  const int grid_top = y;
  for (int c = 0; c < cols; ++c) {
    const int s = start + c;
    const int x = kMargin + c * cw;
    for (int u = 0; u < n; ++u) {
      const bool on = r.unit_mask[static_cast<size_t>(s)][static_cast<size_t>(u)] > 0.5f;
      const Rgb color = on ? (s <= t ? kActive : kActiveLater) : kIdle;
      f->FillRect(x, y + u * ch, x + inner_w, y + u * ch + inner_h, color);
    }
    const float reward = r.rewards[static_cast<size_t>(s)];
    const Rgb rc = reward > 0.0f ? kGood : (reward < 0.0f ? kBad : kIdle);
    f->FillRect(x, y + n * ch + 1, x + inner_w, y + n * ch + 5, rc);
  }
  const int grid_bottom = y + n * ch + 5;
  // The marker points at the decision on the frame shown (after the last step: past the end).
  const int mc = std::clamp(t - start, 0, cols);
  const float mx = static_cast<float>(kMargin + mc * cw) + static_cast<float>(cw) * 0.5f;
  f->FillTriangle(mx - 3.5f, static_cast<float>(marker_y), mx + 3.5f, static_cast<float>(marker_y),
                  mx, static_cast<float>(marker_y + 5), kMarker);
  if (t < len && mc < cols) {
    const int x = kMargin + mc * cw;
    Outline(f, x - 1, grid_top - 1, x + inner_w + 1, grid_bottom + 1, kMarker);
  }
  return grid_bottom + 6;
}

// The policy's distribution for the decision on the frame shown, the chosen action highlighted.
int DrawPolicy(Frame* f, int y, const ReplayView& v) {
  const EpisodeRecording& r = *v.recording;
  const int t = v.step;
  const int num_actions = static_cast<int>(r.action_probs[0].size());
  DrawText(f, kMargin, y, "ACTION PROBABILITIES AT THIS STEP", 1, kDim);
  y += 9;
  const int avail = f->width - 2 * kMargin;
  const int bw = std::clamp(avail / num_actions - 4, 2, 40);
  const int bh = 30;
  for (int a = 0; a < num_actions; ++a) {
    const int x = kMargin + a * (bw + 4);
    f->FillRect(x, y, x + bw, y + bh, kIdle);
    if (t < r.length) {
      const float p = r.action_probs[static_cast<size_t>(t)][static_cast<size_t>(a)];
      const int h = static_cast<int>(std::lround(std::clamp(p, 0.0f, 1.0f) * bh));
      const bool chosen = r.actions[static_cast<size_t>(t)] == a;
      f->FillRect(x, y + bh - h, x + bw, y + bh, chosen ? kActive : kDim);
    }
    DrawText(f, x, y + bh + 2, ActionName(v, a).substr(0, static_cast<size_t>(bw / 4)), 1, kText);
  }
  return y + bh + 10;
}

// Draws the panel from the top of `f` and returns the height used.
int DrawPanel(Frame* f, const ReplayView& v) {
  const EpisodeRecording& r = *v.recording;
  const int t = v.step;
  const int width = f->width - 2 * kMargin;
  int y = 6;
  std::string head = "STEP " + std::to_string(t) + "/" + std::to_string(r.length);
  if (v.num_episodes > 1) {
    head += "   EPISODE " + std::to_string(v.episode + 1) + "/" + std::to_string(v.num_episodes);
  }
  DrawText(f, kMargin, y, head, 2, kText);
  if (v.paused) DrawText(f, f->width - kMargin - TextWidth("PAUSED", 2), y, "PAUSED", 2, kDim);
  y += 14;
  if (t < r.length) {
    const int32_t a = r.actions[static_cast<size_t>(t)];
    std::string line = "NEXT ACTION: " + ActionName(v, a);
    if (!r.action_probs.empty()) {
      line +=
          " (P " + Fixed(r.action_probs[static_cast<size_t>(t)][static_cast<size_t>(a)], 2) + ")";
    }
    DrawText(f, kMargin, y, Fit(line, width, 2), 2, kText);
  } else {
    DrawText(f, kMargin, y, r.success ? "DONE: SUCCESS" : "DONE: FAILED", 2,
             r.success ? kGood : kBad);
  }
  y += 14;
  std::string line = "REWARD " +
                     (t > 0 ? Fixed(r.rewards[static_cast<size_t>(t - 1)], 3) : std::string("-")) +
                     "  RETURN " + Fixed(v.return_so_far, 3);
  if (!r.values.empty() && t < r.length) {
    line += "  VALUE " + Fixed(r.values[static_cast<size_t>(t)], 2);
  }
  DrawText(f, kMargin, y, Fit(line, width, 2), 2, kText);
  y += 16;
  std::string policy = r.policy.empty() ? "POLICY NOT NAMED" : r.policy;
  policy += "   FRAMES " + std::to_string(r.frames) + "   SEED " + std::to_string(r.seed);
  DrawText(f, kMargin, y, Fit(policy, width, 1), 1, kDim);
  y += 8;
  DrawText(f, kMargin, y, Fit(v.name, width, 1), 1, kDim);
  y += 12;
  if (r.num_units > 0) y = DrawUnits(f, y, v);
  y = DrawTimeline(f, y, v);
  if (!r.action_probs.empty()) y = DrawPolicy(f, y, v);
  return y;
}

}  // namespace

int DrawText(Frame* frame, int x, int y, const std::string& text, int scale, Rgb color) {
  const auto& table = GlyphTable();
  const uint16_t unknown = table['?'];
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(ch)));
    const uint16_t bits = c < 128 && (table[c] != 0 || c == ' ') ? table[c] : unknown;
    for (int i = 0; i < 15; ++i) {
      if ((bits >> i) & 1u) {
        const int px = x + (i % 3) * scale;
        const int py = y + (i / 3) * scale;
        frame->FillRect(px, py, px + scale, py + scale, color);
      }
    }
    x += kAdvance * scale;
  }
  return x;
}

int TextWidth(const std::string& text, int scale) {
  return text.empty() ? 0 : static_cast<int>(text.size()) * kAdvance * scale - scale;
}

void ComposeReplay(const Frame& env_frame, const ReplayView& view, Frame* out) {
  Frame scaled;
  ScaleUp(env_frame, kEnvMinSize, &scaled);
  const int width = std::max(scaled.width, kMinWidth);
  // Drawn into a frame that is surely tall enough, then cropped to what was used.
  Frame panel;
  panel.Reset(width, 400 + 12 * view.recording->num_units, kBackground);
  const int used = std::min(DrawPanel(&panel, view), panel.height);
  out->Reset(width, scaled.height + used, kBackground);
  const int x0 = (width - scaled.width) / 2;
  for (int y = 0; y < scaled.height; ++y) {
    const uint8_t* row = scaled.Pixel(0, y);
    std::copy(row, row + static_cast<std::ptrdiff_t>(scaled.width) * 3, out->Pixel(x0, y));
  }
  std::copy(panel.rgb.begin(), panel.rgb.begin() + static_cast<std::ptrdiff_t>(used) * width * 3,
            out->Pixel(0, scaled.height));
}

}  // namespace rimlab::viewer
