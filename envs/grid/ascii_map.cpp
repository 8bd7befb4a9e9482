#include "envs/grid/ascii_map.h"

namespace rimlab::grid {

namespace {

constexpr char kColorLetters[kNumColors] = {'R', 'G', 'B', 'P', 'Y', 'E'};
constexpr char kAgentChars[4] = {'>', 'V', '<', '^'};

std::string Where(size_t row, size_t col) {
  return "map row " + std::to_string(row + 1) + ", column " + std::to_string(col + 1);
}

bool ColorFromLetter(char ch, Color* out) {
  for (int i = 0; i < kNumColors; ++i) {
    if (kColorLetters[i] == ch) {
      *out = static_cast<Color>(i);
      return true;
    }
  }
  return false;
}

char ObjLetter(const Cell& c) {
  switch (c.type) {
    case Obj::kWall:
      return 'W';
    case Obj::kFloor:
      return 'F';
    case Obj::kKey:
      return 'K';
    case Obj::kBall:
      return 'A';
    case Obj::kBox:
      return 'B';
    case Obj::kDoor:
      return c.state == kDoorOpen ? 'O' : (c.state == kDoorLocked ? 'L' : 'D');
    case Obj::kGoal:
      return 'G';
    case Obj::kLava:
      return 'V';
    default:
      return ' ';
  }
}

}  // namespace

AsciiLevel ParseAsciiMap(const std::vector<std::string>& rows) {
  if (rows.empty()) throw std::invalid_argument("map has no rows");
  const size_t chars = rows[0].size();
  if (chars == 0 || chars % 2 != 0) {
    throw std::invalid_argument("map row 1 has " + std::to_string(chars) +
                                " characters; expected two per cell (an even, non-zero count)");
  }
  const int width = static_cast<int>(chars / 2);
  const int height = static_cast<int>(rows.size());
  if (width < 3 || height < 3 || width > 64 || height > 64) {
    throw std::invalid_argument("map is " + std::to_string(width) + "x" + std::to_string(height) +
                                "; expected between 3x3 and 64x64 cells");
  }
  AsciiLevel level;
  level.grid.Resize(width, height);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != chars) {
      throw std::invalid_argument("map row " + std::to_string(r + 1) + " has " +
                                  std::to_string(rows[r].size()) + " characters; expected " +
                                  std::to_string(chars) + " like row 1");
    }
    for (size_t col = 0; col < static_cast<size_t>(width); ++col) {
      const char o = rows[r][2 * col];
      const char k = rows[r][2 * col + 1];
      const std::string cell = std::string(1, o) + k;
      const int x = static_cast<int>(col);
      const int y = static_cast<int>(r);
      if (o == ' ' && k == ' ') continue;
      bool is_agent = false;
      for (int d = 0; d < 4; ++d) {
        if (o == kAgentChars[d] && k == kAgentChars[d]) {
          if (level.agent_x >= 0) {
            throw std::invalid_argument(Where(r, col) + ": a second agent \"" + cell +
                                        "\"; a map has exactly one");
          }
          level.agent_x = x;
          level.agent_y = y;
          level.agent_dir = d;
          is_agent = true;
        }
      }
      if (is_agent) continue;
      Color color = Color::kRed;
      if (!ColorFromLetter(k, &color)) {
        throw std::invalid_argument(Where(r, col) + ": unknown colour '" + std::string(1, k) +
                                    "' in cell \"" + cell + "\" (expected R, G, B, P, Y or E)");
      }
      Cell c;
      switch (o) {
        case 'W':
          c = Cell::Make(Obj::kWall, color);
          break;
        case 'F':
          c = Cell::Make(Obj::kFloor, color);
          break;
        case 'K':
          c = Cell::Make(Obj::kKey, color);
          break;
        case 'A':
          c = Cell::Make(Obj::kBall, color);
          break;
        case 'B':
          c = Cell::Make(Obj::kBox, color);
          break;
        case 'D':
          c = Cell::Make(Obj::kDoor, color, kDoorClosed);
          break;
        case 'L':
          c = Cell::Make(Obj::kDoor, color, kDoorLocked);
          break;
        case 'O':
          c = Cell::Make(Obj::kDoor, color, kDoorOpen);
          break;
        case 'G':
          c = Cell::Make(Obj::kGoal, Color::kGreen);
          break;
        case 'V':
          c = Cell::Make(Obj::kLava, Color::kRed);
          break;
        default:
          throw std::invalid_argument(Where(r, col) + ": unknown object '" + std::string(1, o) +
                                      "' in cell \"" + cell +
                                      "\" (expected W F K A B D L O G V, two spaces, or an "
                                      "agent >> VV << ^^)");
      }
      level.grid.Set(x, y, c);
    }
  }
  if (level.agent_x < 0) {
    throw std::invalid_argument("map has no agent; mark its cell with >>, VV, << or ^^");
  }
  return level;
}

std::vector<std::string> FormatAsciiRows(const Grid& grid, int agent_x, int agent_y,
                                         int agent_dir) {
  std::vector<std::string> rows;
  for (int y = 0; y < grid.height(); ++y) {
    std::string row;
    for (int x = 0; x < grid.width(); ++x) {
      if (x == agent_x && y == agent_y) {
        row.append(2, kAgentChars[agent_dir & 3]);
        continue;
      }
      const Cell& c = grid.at(x, y);
      const char o = ObjLetter(c);
      row.push_back(o);
      row.push_back(o == ' ' ? ' ' : kColorLetters[static_cast<int>(c.color)]);
    }
    rows.push_back(row);
  }
  return rows;
}

std::string FormatAsciiMap(const Grid& grid, int agent_x, int agent_y, int agent_dir) {
  std::string s;
  for (const auto& row : FormatAsciiRows(grid, agent_x, agent_y, agent_dir)) s += row + "\n";
  return s;
}

}  // namespace rimlab::grid
