#include "viewer/gif_palette.h"

#include <algorithm>

namespace rimlab::viewer {
namespace {

struct ColourCount {
  uint32_t colour;  // 0xRRGGBB
  uint32_t count;
};

int Channel(uint32_t colour, int axis) {
  return static_cast<int>((colour >> (16 - 8 * axis)) & 0xff);
}

/// Median cut down to `max_colours` packed colours, each the pixel-weighted mean of its box. The
/// box split next is the one with most pixels times widest channel range, which roughly minimises
/// the mean error: a flat background stays one entry and the shades of antialiased edges share
/// the rest.
std::vector<uint32_t> MedianCut(std::vector<ColourCount> colours, size_t max_colours) {
  struct Box {
    size_t begin, end;
    uint64_t pixels;
    int axis, extent;
  };
  const auto measure = [&colours](size_t begin, size_t end) {
    int lo[3] = {255, 255, 255}, hi[3] = {0, 0, 0};
    Box box{begin, end, 0, 0, 0};
    for (size_t i = begin; i < end; ++i) {
      box.pixels += colours[i].count;
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::min(lo[a], Channel(colours[i].colour, a));
        hi[a] = std::max(hi[a], Channel(colours[i].colour, a));
      }
    }
    for (int a = 0; a < 3; ++a) {
      if (hi[a] - lo[a] > box.extent) {
        box.extent = hi[a] - lo[a];
        box.axis = a;
      }
    }
    return box;
  };
  std::vector<Box> boxes = {measure(0, colours.size())};
  while (boxes.size() < max_colours) {
    Box* pick = nullptr;
    for (Box& box : boxes) {
      if (box.end - box.begin < 2) continue;
      if (!pick || box.pixels * box.extent > pick->pixels * pick->extent) pick = &box;
    }
    if (!pick) break;
    const Box box = *pick;
    // Split at the pixel-weighted median of the widest channel; a histogram and a partition
    // rather than a sort. Both sides keep a colour: the box spans lo < hi on that channel.
    uint64_t histogram[256] = {};
    int lo = 255;
    for (size_t i = box.begin; i < box.end; ++i) {
      const int v = Channel(colours[i].colour, box.axis);
      histogram[v] += colours[i].count;
      lo = std::min(lo, v);
    }
    int split = lo;  // the left side takes values <= split
    for (uint64_t seen = histogram[lo]; seen * 2 < box.pixels && split < lo + box.extent - 1;) {
      seen += histogram[++split];
    }
    const auto middle =
        std::partition(colours.begin() + box.begin, colours.begin() + box.end,
                       [&](const ColourCount& c) { return Channel(c.colour, box.axis) <= split; });
    const size_t mid = static_cast<size_t>(middle - colours.begin());
    *pick = measure(box.begin, mid);
    boxes.push_back(measure(mid, box.end));
  }
  std::vector<uint32_t> palette;
  for (const Box& box : boxes) {
    uint32_t mean = 0;
    for (int a = 0; a < 3; ++a) {
      uint64_t sum = 0;
      for (size_t i = box.begin; i < box.end; ++i) {
        sum += uint64_t(Channel(colours[i].colour, a)) * colours[i].count;
      }
      mean = mean << 8 | static_cast<uint32_t>((sum + box.pixels / 2) / box.pixels);
    }
    palette.push_back(mean);
  }
  return palette;
}

/// Each colour's nearest palette entry. The palette is scanned outwards from the colour's red
/// value, each side stopping once red alone is as far as the best match, so that frames with
/// many thousand colours need far fewer distances than a full scan.
std::vector<uint8_t> Nearest(const std::vector<ColourCount>& colours,
                             const std::vector<uint32_t>& palette) {
  std::vector<uint32_t> by_red = palette;
  std::sort(by_red.begin(), by_red.end());  // packed 0xRRGGBB: sorted by red first
  std::vector<uint8_t> entry_of(by_red.size());
  for (size_t j = 0; j < by_red.size(); ++j) {
    entry_of[j] = static_cast<uint8_t>(std::find(palette.begin(), palette.end(), by_red[j]) -
                                       palette.begin());
  }
  std::vector<uint8_t> nearest(colours.size());
  for (size_t i = 0; i < colours.size(); ++i) {
    const uint32_t colour = colours[i].colour;
    const int red = Channel(colour, 0);
    int best_distance = 1 << 30;
    const auto consider = [&](size_t j) {
      int distance = 0;
      for (int a = 0; a < 3; ++a) {
        const int d = Channel(colour, a) - Channel(by_red[j], a);
        distance += d * d;
      }
      if (distance < best_distance) best_distance = distance, nearest[i] = entry_of[j];
      const int dr = Channel(by_red[j], 0) - red;
      return dr * dr < best_distance;
    };
    const size_t start = static_cast<size_t>(
        std::lower_bound(by_red.begin(), by_red.end(), colour & 0xff0000) - by_red.begin());
    for (size_t j = start; j < by_red.size(); ++j) {
      if (!consider(j)) break;
    }
    for (size_t j = start; j > 0; --j) {
      if (!consider(j - 1)) break;
    }
  }
  return nearest;
}

}  // namespace

GifPalette BuildGifPalette(const Frame& frame) {
  const size_t n = frame.rgb.size() / 3;
  std::vector<uint32_t> packed(n);
  for (size_t i = 0; i < n; ++i) {
    packed[i] = uint32_t(frame.rgb[3 * i]) << 16 | uint32_t(frame.rgb[3 * i + 1]) << 8 |
                frame.rgb[3 * i + 2];
  }
  std::vector<uint32_t> sorted = packed;
  std::sort(sorted.begin(), sorted.end());
  std::vector<ColourCount> distinct;
  for (uint32_t c : sorted) {
    if (distinct.empty() || distinct.back().colour != c) distinct.push_back({c, 0});
    ++distinct.back().count;
  }

  std::vector<uint32_t> palette;
  std::vector<uint8_t> entry(distinct.size());  // palette index of each distinct colour
  if (distinct.size() <= 256) {
    for (size_t i = 0; i < distinct.size(); ++i) {
      palette.push_back(distinct[i].colour);
      entry[i] = static_cast<uint8_t>(i);
    }
  } else {
    palette = MedianCut(distinct, 256);
    entry = Nearest(distinct, palette);
  }

  GifPalette result;
  result.indices.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto it =
        std::lower_bound(distinct.begin(), distinct.end(), packed[i],
                         [](const ColourCount& a, uint32_t colour) { return a.colour < colour; });
    result.indices[i] = entry[static_cast<size_t>(it - distinct.begin())];
  }
  size_t size = 2;
  while (size < palette.size()) size *= 2;
  result.colours.assign(3 * size, 0);
  for (size_t k = 0; k < palette.size(); ++k) {
    for (int a = 0; a < 3; ++a)
      result.colours[3 * k + a] = static_cast<uint8_t>(Channel(palette[k], a));
  }
  return result;
}

}  // namespace rimlab::viewer
