#pragma once
/// The gridworld's cells, grid and constants, encoded exactly as MiniGrid encodes them.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace rimlab::grid {

/// MiniGrid's OBJECT_TO_IDX.
enum class Obj : uint8_t {
  kUnseen = 0,
  kEmpty = 1,
  kWall = 2,
  kFloor = 3,
  kDoor = 4,
  kKey = 5,
  kBall = 6,
  kBox = 7,
  kGoal = 8,
  kLava = 9,
  kAgent = 10,
};
constexpr int kNumObj = 11;

/// MiniGrid's COLOR_TO_IDX.
enum class Color : uint8_t { kRed = 0, kGreen = 1, kBlue = 2, kPurple = 3, kYellow = 4, kGrey = 5 };
constexpr int kNumColors = 6;

/// MiniGrid's door states.
enum DoorState : uint8_t { kDoorOpen = 0, kDoorClosed = 1, kDoorLocked = 2 };

/// MiniGrid's actions.
enum Act : int32_t {
  kLeft = 0,
  kRight = 1,
  kForward = 2,
  kPickup = 3,
  kDrop = 4,
  kToggle = 5,
  kDone = 6,
};
constexpr int kNumActions = 7;

/// Directions as MiniGrid numbers them: 0 right (+x), 1 down (+y), 2 left, 3 up.
constexpr std::array<int, 4> kDirX = {1, 0, -1, 0};
constexpr std::array<int, 4> kDirY = {0, 1, 0, -1};

const char* ObjName(Obj o);
const char* ColorName(Color c);
const char* ActionName(int32_t a);
/// Parses "key", "ball", ... / "red", "green", ...; returns false when unknown.
bool ParseObj(const std::string& s, Obj* out);
bool ParseColor(const std::string& s, Color* out);

/// One cell: what MiniGrid's WorldObj.encode() returns, plus what a box holds.
struct Cell {
  Obj type = Obj::kEmpty;
  Color color = Color::kRed;
  uint8_t state = 0;     ///< door state; 0 for everything else
  uint8_t contents = 0;  ///< a box's contents as PackContents(type, color); 0 for none

  static Cell Empty() { return Cell{}; }
  static Cell Make(Obj t, Color c, uint8_t s = 0) { return Cell{t, c, s, 0}; }
  static Cell Wall() { return Make(Obj::kWall, Color::kGrey); }

  bool empty() const { return type == Obj::kEmpty; }
  bool CanOverlap() const {
    return type == Obj::kEmpty || type == Obj::kFloor || type == Obj::kGoal || type == Obj::kLava ||
           (type == Obj::kDoor && state == kDoorOpen);
  }
  bool CanPickup() const { return type == Obj::kKey || type == Obj::kBall || type == Obj::kBox; }
  bool SeeBehind() const {
    return !(type == Obj::kWall || (type == Obj::kDoor && state != kDoorOpen));
  }
  bool operator==(const Cell& o) const {
    return type == o.type && color == o.color && state == o.state && contents == o.contents;
  }
  bool operator!=(const Cell& o) const { return !(*this == o); }
};

inline uint8_t PackContents(Obj t, Color c) {
  return static_cast<uint8_t>(static_cast<int>(t) * 8 + static_cast<int>(c));
}
inline Cell UnpackContents(uint8_t packed) {
  if (packed == 0) return Cell::Empty();
  return Cell::Make(static_cast<Obj>(packed / 8), static_cast<Color>(packed % 8));
}

/// A width x height grid of cells; (x, y) with x to the right and y down, as in MiniGrid.
class Grid {
 public:
  Grid() = default;
  Grid(int width, int height) { Resize(width, height); }

  /// Resizes (reusing storage) and clears every cell to empty.
  void Resize(int width, int height);
  int width() const { return width_; }
  int height() const { return height_; }
  bool InBounds(int x, int y) const {
    return static_cast<unsigned>(x) < static_cast<unsigned>(width_) &&
           static_cast<unsigned>(y) < static_cast<unsigned>(height_);
  }
  const Cell& at(int x, int y) const { return cells_[static_cast<size_t>(y * width_ + x)]; }
  Cell& at(int x, int y) { return cells_[static_cast<size_t>(y * width_ + x)]; }
  void Set(int x, int y, Cell c) { at(x, y) = c; }

  void HorzWall(int x, int y, int length);
  void VertWall(int x, int y, int length);
  /// The outer wall of a w x h rectangle whose top-left corner is (x, y).
  void WallRect(int x, int y, int w, int h);
  int CountEmpty() const;
  /// Row-major cell storage (index y * width + x), for snapshots.
  const std::vector<Cell>& cells() const { return cells_; }
  /// Replaces size and cells at once; `cells` must hold width * height cells.
  void Assign(int width, int height, std::vector<Cell> cells);
  bool operator==(const Grid& o) const {
    return width_ == o.width_ && height_ == o.height_ && cells_ == o.cells_;
  }

 private:
  int width_ = 0;
  int height_ = 0;
  std::vector<Cell> cells_;
};

/// The mission vocabulary: token 0 pads; missions are [verb, colour, object] token triples.
struct Vocab {
  static constexpr int kPad = 0;
  static constexpr int kGet = 1;                      ///< "get a <colour> <object>"
  static constexpr int kGoTo = 2;                     ///< "go to the <colour> <object>"
  static constexpr int kColor0 = 3;                   ///< colours occupy kColor0 .. kColor0 + 5
  static constexpr int kObj0 = kColor0 + kNumColors;  ///< object types occupy kObj0 + Obj index
  static constexpr int kSize = kObj0 + kNumObj;
  static constexpr int kMissionLength = 3;

  static int ColorToken(Color c) { return kColor0 + static_cast<int>(c); }
  static int ObjToken(Obj o) { return kObj0 + static_cast<int>(o); }
  /// "get", "red", "ball", ... for printing missions.
  static std::string Word(int token);
};

}  // namespace rimlab::grid
