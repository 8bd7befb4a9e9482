#include "envs/grid/world.h"

#include <stdexcept>
#include <utility>

namespace rimlab::grid {

namespace {
constexpr const char* kObjNames[kNumObj] = {"unseen", "empty", "wall", "floor", "door", "key",
                                            "ball",   "box",   "goal", "lava",  "agent"};
constexpr const char* kColorNames[kNumColors] = {"red",    "green",  "blue",
                                                 "purple", "yellow", "grey"};
constexpr const char* kActionNames[kNumActions] = {"left", "right",  "forward", "pickup",
                                                   "drop", "toggle", "done"};
}  // namespace

const char* ObjName(Obj o) {
  const int i = static_cast<int>(o);
  return i >= 0 && i < kNumObj ? kObjNames[i] : "?";
}

const char* ColorName(Color c) {
  const int i = static_cast<int>(c);
  return i >= 0 && i < kNumColors ? kColorNames[i] : "?";
}

const char* ActionName(int32_t a) {
  return a >= 0 && a < kNumActions ? kActionNames[a] : "?";
}

bool ParseObj(const std::string& s, Obj* out) {
  for (int i = 0; i < kNumObj; ++i) {
    if (s == kObjNames[i]) {
      *out = static_cast<Obj>(i);
      return true;
    }
  }
  return false;
}

bool ParseColor(const std::string& s, Color* out) {
  for (int i = 0; i < kNumColors; ++i) {
    if (s == kColorNames[i]) {
      *out = static_cast<Color>(i);
      return true;
    }
  }
  return false;
}

void Grid::Resize(int width, int height) {
  width_ = width;
  height_ = height;
  cells_.assign(static_cast<size_t>(width) * static_cast<size_t>(height), Cell::Empty());
}

void Grid::Assign(int width, int height, std::vector<Cell> cells) {
  if (width < 0 || height < 0 ||
      cells.size() != static_cast<size_t>(width) * static_cast<size_t>(height)) {
    throw std::invalid_argument("Grid::Assign: " + std::to_string(cells.size()) +
                                " cells for a grid of " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
  width_ = width;
  height_ = height;
  cells_ = std::move(cells);
}

void Grid::HorzWall(int x, int y, int length) {
  for (int i = 0; i < length; ++i) Set(x + i, y, Cell::Wall());
}

void Grid::VertWall(int x, int y, int length) {
  for (int j = 0; j < length; ++j) Set(x, y + j, Cell::Wall());
}

void Grid::WallRect(int x, int y, int w, int h) {
  HorzWall(x, y, w);
  HorzWall(x, y + h - 1, w);
  VertWall(x, y, h);
  VertWall(x + w - 1, y, h);
}

int Grid::CountEmpty() const {
  int n = 0;
  for (const auto& c : cells_) n += c.empty() ? 1 : 0;
  return n;
}

std::string Vocab::Word(int token) {
  if (token == kPad) return "";
  if (token == kGet) return "get";
  if (token == kGoTo) return "go to";
  if (token >= kColor0 && token < kColor0 + kNumColors) {
    return ColorName(static_cast<Color>(token - kColor0));
  }
  if (token >= kObj0 && token < kObj0 + kNumObj) return ObjName(static_cast<Obj>(token - kObj0));
  return "?";
}

}  // namespace rimlab::grid
