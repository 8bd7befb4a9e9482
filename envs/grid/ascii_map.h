#pragma once
/// Levels written as ASCII: two characters per cell, object then colour, top row first.
/// Objects: W wall, F floor, K key, A ball, B box, D closed door, L locked door, O open door,
/// G goal, V lava, two spaces for empty. Colours: R red, G green, B blue, P purple, Y yellow,
/// E grey (MiniGrid's pprint_grid writes grey as G, like green; we use E to keep them apart).
/// The agent is >>, VV, << or ^^ (facing right, down, left, up) and stands on an empty cell.
/// Goals are always green and lava red, as in MiniGrid; their colour letter is ignored.

#include <stdexcept>
#include <string>
#include <vector>

#include "envs/grid/world.h"

namespace rimlab::grid {

struct AsciiLevel {
  Grid grid;
  int agent_x = -1;
  int agent_y = -1;
  int agent_dir = 0;
};

/// Parses a map; throws std::invalid_argument naming the row, column and bad cell.
AsciiLevel ParseAsciiMap(const std::vector<std::string>& rows);

/// One row per line, two characters per cell; ParseAsciiMap(FormatAsciiRows(...)) round-trips.
std::vector<std::string> FormatAsciiRows(const Grid& grid, int agent_x, int agent_y, int agent_dir);
std::string FormatAsciiMap(const Grid& grid, int agent_x, int agent_y, int agent_dir);

}  // namespace rimlab::grid
