#include "viewer/panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace rimlab::viewer {

namespace {

constexpr Rgb kText{228, 228, 232};
constexpr Rgb kDim{150, 150, 160};
constexpr Rgb kBar{95, 95, 110};
constexpr Rgb kMarker{255, 70, 70};
constexpr Rgb kGood{80, 220, 100};
constexpr Rgb kBad{240, 80, 80};
constexpr Rgb kOverlay{12, 12, 16};
constexpr Rgb kAttention{255, 230, 80};
constexpr int kMargin = 14;
constexpr int kMaxHiddenRows = 64;

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

void Outline(Frame* f, int x0, int y0, int x1, int y1, Rgb c) {
  f->FillRect(x0, y0, x1, y0 + 1, c);
  f->FillRect(x0, y1 - 1, x1, y1, c);
  f->FillRect(x0, y0, x0 + 1, y1, c);
  f->FillRect(x1 - 1, y0, x1, y1, c);
}

// Mixes `c` over the rectangle with opacity `alpha` in [0, 1].
void Tint(Frame* f, int x0, int y0, int x1, int y1, Rgb c, float alpha) {
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, f->width);
  y1 = std::min(y1, f->height);
  const int a = static_cast<int>(std::lround(std::clamp(alpha, 0.0f, 1.0f) * 256.0f));
  const int col[3] = {c.r, c.g, c.b};
  for (int y = y0; y < y1; ++y) {
    uint8_t* p = f->Pixel(x0, y);
    for (int x = x0; x < x1; ++x, p += 3) {
      for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>((col[k] * a + p[k] * (256 - a)) >> 8);
    }
  }
}

// Nearest-neighbour copy of `in` into `r`, which has `in`'s aspect ratio.
void Blit(const Frame& in, const Rect& r, Frame* out) {
  for (int y = 0; y < r.h; ++y) {
    const int sy = std::min(in.height - 1, y * in.height / r.h);
    for (int x = 0; x < r.w; ++x) {
      const int sx = std::min(in.width - 1, x * in.width / r.w);
      const uint8_t* p = in.Pixel(sx, sy);
      uint8_t* q = out->Pixel(r.x + x, r.y + y);
      q[0] = p[0];
      q[1] = p[1];
      q[2] = p[2];
    }
  }
}

// Blue for negative, orange for positive, the background for zero: a hidden unit's sign and size.
Rgb Diverging(float v) {
  const float m = std::clamp(std::fabs(v), 0.0f, 1.0f);
  const Rgb end = v < 0 ? Rgb{70, 140, 255} : Rgb{255, 150, 40};
  auto mix = [m](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(
        std::lround(static_cast<float>(a) * (1 - m) + static_cast<float>(b) * m));
  };
  return {mix(kUnitIdle.r, end.r), mix(kUnitIdle.g, end.g), mix(kUnitIdle.b, end.b)};
}

std::string ActionName(const Scene& s, int32_t a) {
  if (a >= 0 && static_cast<size_t>(a) < s.action_names.size()) {
    return s.action_names[static_cast<size_t>(a)];
  }
  return std::to_string(a);
}

}  // namespace

Composer::Composer() = default;

Layout Composer::Compose(const Scene& s, int width, int height, Frame* out) const {
  width = std::max(width, kMinWidth);
  height = std::max(height, kMinHeight);
  out->Reset(width, height, kPanelBackground);
  Layout L;

  // The world on the left, as large as the panel leaves room for; whole-number scales keep the
  // tiles crisp when it is enlarged.
  const int panel_w = std::clamp(width * 2 / 5, 380, 560);
  const int area_w = width - panel_w - 3 * kMargin;
  const int area_h = height - 2 * kMargin;
  if (s.world.width > 0 && s.world.height > 0) {
    double scale = std::min(static_cast<double>(area_w) / s.world.width,
                            static_cast<double>(area_h) / s.world.height);
    if (scale >= 1.0) scale = std::floor(scale);
    L.world_scale = scale;
    L.world.w = std::max(1, static_cast<int>(s.world.width * scale));
    L.world.h = std::max(1, static_cast<int>(s.world.height * scale));
    L.world.x = kMargin + (area_w - L.world.w) / 2;
    L.world.y = kMargin + (area_h - L.world.h) / 2;
    Blit(s.world, L.world, out);
  }

  const int x0 = width - panel_w - kMargin;
  const int x1 = width - kMargin;
  int y = kMargin;
  title_.DrawClipped(out, x0, y, s.title.empty() ? "rimlab viewer" : s.title, kText, x1);
  y += title_.height();
  small_.DrawClipped(out, x0, y, s.status, kDim, x1);
  y += small_.height() + 6;
  if (!s.mission.empty()) {
    const int after = text_.Draw(out, x0, y, "Mission: ", kDim);
    text_.DrawClipped(out, after, y, s.mission, kText, x1);
    y += text_.height() + 4;
  }

  // Where the episode is, and what happens next.
  std::string where = "Step " + std::to_string(s.step);
  if (s.length >= 0) where += " of " + std::to_string(s.length);
  text_.Draw(out, x0, y, where, kText);
  std::string play = s.paused ? "paused" : Fixed(s.fps, s.fps < 10 ? 1 : 0) + " steps/s";
  if (!s.mode.empty()) play = s.mode + " · " + play;
  text_.Draw(out, x1 - text_.Width(play), y, play, s.paused ? kMarker : kDim);
  y += text_.height();
  const SceneStep* next = static_cast<size_t>(s.step) < s.steps.size() && !s.ended
                              ? &s.steps[static_cast<size_t>(s.step)]
                              : nullptr;
  if (s.ended) {
    text_.Draw(out, x0, y, s.success ? "Episode over: success" : "Episode over: failed",
               s.success ? kGood : kBad);
  } else if (next != nullptr && next->action >= 0) {
    std::string line = "Next action: " + ActionName(s, next->action);
    if (!next->action_probs.empty()) {
      line += "  (p " + Fixed(next->action_probs[static_cast<size_t>(next->action)], 2) + ")";
    }
    text_.DrawClipped(out, x0, y, line, kText, x1);
  }
  y += text_.height();
  std::string scalars = "Reward " +
                        (s.step > 0 && static_cast<size_t>(s.step) <= s.steps.size()
                             ? Fixed(s.steps[static_cast<size_t>(s.step - 1)].reward, 3)
                             : std::string("–")) +
                        "    Return " + Fixed(s.return_so_far, 3);
  if (next != nullptr && next->value) scalars += "    Value " + Fixed(*next->value, 3);
  text_.DrawClipped(out, x0, y, scalars, kText, x1);
  y += text_.height() + 8;

  // The distribution of the next decision, one bar per action.
  if (next != nullptr && !next->action_probs.empty()) {
    small_.Draw(out, x0, y, "Action probabilities", kDim);
    y += small_.height() + 2;
    const int name_w = 96;
    const int bar_x = x0 + name_w;
    const int bar_w = panel_w - name_w - 48;
    const int row = small_.height() + 2;
    for (size_t a = 0; a < next->action_probs.size(); ++a) {
      const float p = std::clamp(next->action_probs[a], 0.0f, 1.0f);
      const bool chosen = static_cast<int32_t>(a) == next->action;
      small_.DrawClipped(out, x0, y, ActionName(s, static_cast<int32_t>(a)), chosen ? kText : kDim,
                         bar_x - 4);
      out->FillRect(bar_x, y + 3, bar_x + bar_w, y + row - 3, kUnitIdle);
      out->FillRect(bar_x, y + 3,
                    bar_x + static_cast<int>(std::lround(p * static_cast<float>(bar_w))),
                    y + row - 3, chosen ? kUnitActive : kBar);
      small_.Draw(out, bar_x + bar_w + 6, y, Fixed(p, 2), chosen ? kText : kDim);
      y += row;
    }
    y += 8;
  }

  // The agent's own view, with the attention of the units active now over its cells.
  int row_x = x0;
  int row_bottom = y;
  if (s.view.width > 0 && s.view_rows > 0 && s.view_cols > 0) {
    const bool cells = s.set_size == s.view_rows * s.view_cols && s.num_units > 0 &&
                       s.input_attention.size() ==
                           static_cast<size_t>(s.num_units) * static_cast<size_t>(s.set_size + 1);
    small_.Draw(out, x0, y, cells ? "Agent's view · attention" : "Agent's view", kDim);
    L.view_tile = std::clamp(168 / std::max(s.view_rows, s.view_cols), 8, 24);
    L.view =
        Rect{x0, y + small_.height() + 2, s.view_cols * L.view_tile, s.view_rows * L.view_tile};
    Blit(s.view, L.view, out);
    if (cells && next != nullptr && next->unit_mask.size() == static_cast<size_t>(s.num_units)) {
      // Each cell's attention averaged over the active units, on an absolute scale: a cell is
      // tinted fully when it gets 8 times a uniform share, so diffuse attention stays faint
      // instead of being stretched to look sharp.
      std::vector<float> weight(static_cast<size_t>(s.set_size), 0.0f);
      int active = 0;
      for (int k = 0; k < s.num_units; ++k) {
        if (next->unit_mask[static_cast<size_t>(k)] < 0.5f) continue;
        ++active;
        for (int m = 0; m < s.set_size; ++m) {
          weight[static_cast<size_t>(m)] +=
              s.input_attention[static_cast<size_t>(k * (s.set_size + 1) + m + 1)];
        }
      }
      const float uniform = 1.0f / static_cast<float>(s.set_size + 1);
      for (int m = 0; m < s.set_size && active > 0; ++m) {
        const float share = weight[static_cast<size_t>(m)] / static_cast<float>(active) / uniform;
        const int cx = L.view.x + (m % s.view_cols) * L.view_tile;
        const int cy = L.view.y + (m / s.view_cols) * L.view_tile;
        Tint(out, cx, cy, cx + L.view_tile, cy + L.view_tile, kAttention,
             0.7f * std::min(1.0f, share / 8.0f));
      }
    }
    row_x = L.view.x + L.view.w + 18;
    row_bottom = L.view.y + L.view.h;
  }

  // The units: lit when active for the next decision; the bar under a box is how much the unit
  // reads the input (one minus its attention on the null element).
  if (s.num_units > 0) {
    small_.Draw(out, row_x, y, "RIM units now", kDim);
    const int avail = x1 - row_x;
    L.unit_gap = 6;
    L.unit_box = std::clamp((avail + L.unit_gap) / s.num_units - L.unit_gap, 6, 34);
    L.units = Rect{row_x, y + small_.height() + 2,
                   s.num_units * (L.unit_box + L.unit_gap) - L.unit_gap, L.unit_box};
    for (int u = 0; u < s.num_units; ++u) {
      const int bx = L.units.x + u * (L.unit_box + L.unit_gap);
      const bool on = next != nullptr &&
                      next->unit_mask.size() == static_cast<size_t>(s.num_units) &&
                      next->unit_mask[static_cast<size_t>(u)] > 0.5f;
      out->FillRect(bx, L.units.y, bx + L.unit_box, L.units.y + L.unit_box,
                    on ? kUnitActive : kUnitIdle);
      if (L.unit_box >= 16) {
        const std::string label = std::to_string(u);
        small_.Draw(out, bx + (L.unit_box - small_.Width(label)) / 2,
                    L.units.y + (L.unit_box - small_.height()) / 2, label,
                    on ? kPanelBackground : kDim);
      }
      if (next != nullptr && next->unit_null_attention.size() == static_cast<size_t>(s.num_units)) {
        const float reads = 1.0f - next->unit_null_attention[static_cast<size_t>(u)];
        const int w = static_cast<int>(std::lround(std::clamp(reads, 0.0f, 1.0f) * L.unit_box));
        out->FillRect(bx, L.units.y + L.unit_box + 3, bx + w, L.units.y + L.unit_box + 7, kText);
      }
    }
    small_.Draw(out, row_x, L.units.y + L.unit_box + 10, "bar: attention on the input", kDim);
    row_bottom = std::max(row_bottom, L.units.y + L.unit_box + 10 + small_.height());
  }
  y = row_bottom + 12;

  // The timeline: units by steps for a RIM, the hidden state by steps otherwise; a reward strip
  // under it, and a marker over the next decision.
  const int known = static_cast<int>(s.steps.size());
  int rows = s.num_units;
  bool hidden = false;
  if (rows == 0 && known > 0 && !s.steps.front().hidden.empty()) {
    rows = std::min(kMaxHiddenRows, static_cast<int>(s.steps.front().hidden.size()));
    hidden = true;
  }
  const int bottom = height - kMargin - small_.height() - 4;
  if (known > 0 && y + small_.height() + 40 < bottom) {
    const int avail = panel_w;
    L.cell_w = std::clamp(avail / std::max(known, 1), 3, 16);
    L.timeline_cols = std::min(known, avail / L.cell_w);
    L.timeline_first_step = known <= L.timeline_cols ? 0
                                                     : std::clamp(s.step - L.timeline_cols / 2, 0,
                                                                  known - L.timeline_cols);
    std::string label = rows == 0 ? "Rewards by step"
                        : hidden  ? "Hidden state h[0.." + std::to_string(rows - 1) + "] by step"
                                  : "Units active by step";
    if (L.timeline_cols < known) {
      label += "  (steps " + std::to_string(L.timeline_first_step + 1) + "–" +
               std::to_string(L.timeline_first_step + L.timeline_cols) + ")";
    }
    small_.Draw(out, x0, y, label, kDim);
    y += small_.height() + 8;  // room for the marker
    const int grid_h = bottom - y - 8;
    L.cell_h = rows > 0 ? std::clamp(grid_h / rows, 2, 16) : 0;
    L.timeline = Rect{x0, y, L.timeline_cols * L.cell_w, rows * L.cell_h};
    const int inner_w = L.cell_w >= 4 ? L.cell_w - 1 : L.cell_w;
    const int inner_h = L.cell_h >= 4 ? L.cell_h - 1 : L.cell_h;
    for (int c = 0; c < L.timeline_cols; ++c) {
      const auto& st = s.steps[static_cast<size_t>(L.timeline_first_step + c)];
      const int cx = x0 + c * L.cell_w;
      const bool reached = L.timeline_first_step + c <= s.step;
      for (int r = 0; r < rows; ++r) {
        Rgb color = kUnitIdle;
        if (hidden && static_cast<size_t>(r) < st.hidden.size()) {
          color = Diverging(st.hidden[static_cast<size_t>(r)]);
        } else if (!hidden && st.unit_mask.size() == static_cast<size_t>(rows) &&
                   st.unit_mask[static_cast<size_t>(r)] > 0.5f) {
          color = reached ? kUnitActive : kUnitActiveLater;
        }
        out->FillRect(cx, y + r * L.cell_h, cx + inner_w, y + r * L.cell_h + inner_h, color);
      }
      const bool applied = L.timeline_first_step + c < s.step;
      const Rgb rc = !applied ? kUnitIdle : st.reward > 0 ? kGood : st.reward < 0 ? kBad : kBar;
      out->FillRect(cx, y + rows * L.cell_h + 2, cx + inner_w, y + rows * L.cell_h + 6, rc);
    }
    const int mc = s.step - L.timeline_first_step;
    if (mc >= 0 && mc <= L.timeline_cols) {
      const float mx = static_cast<float>(x0 + mc * L.cell_w) + static_cast<float>(L.cell_w) * 0.5f;
      const float my = static_cast<float>(y - 7);
      out->FillTriangle(mx - 4.0f, my, mx + 4.0f, my, mx, my + 6.0f, kMarker);
      if (mc < L.timeline_cols && !s.ended) {
        Outline(out, x0 + mc * L.cell_w - 1, y - 1, x0 + mc * L.cell_w + inner_w + 1,
                y + rows * L.cell_h + 7, kMarker);
      }
    }
  }

  // Footer: a transient message and the way to the keys.
  const int fy = height - kMargin - small_.height();
  if (!s.message.empty()) small_.DrawClipped(out, x0, fy, s.message, kText, x1 - 110);
  const std::string hint = "h: keys";
  small_.Draw(out, x1 - small_.Width(hint), fy, hint, kDim);

  if (s.help && !s.keys.empty()) {
    const int line = text_.height() + 2;
    const int box_h = line * static_cast<int>(s.keys.size() + 1) + 2 * kMargin;
    const int box_w = std::min(width - 4 * kMargin, 560);
    const int bx = (width - box_w) / 2;
    const int by = std::max(kMargin, (height - box_h) / 2);
    Tint(out, bx, by, bx + box_w, by + box_h, kOverlay, 0.9f);
    Outline(out, bx, by, bx + box_w, by + box_h, kDim);
    int ky = by + kMargin;
    title_.Draw(out, bx + kMargin, ky, "Keys", kText);
    ky += line;
    for (const auto& k : s.keys) {
      text_.DrawClipped(out, bx + kMargin, ky, k, kText, bx + box_w - kMargin);
      ky += line;
    }
  }
  return L;
}

}  // namespace rimlab::viewer
