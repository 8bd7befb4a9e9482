// ASCII levels: parsing, printing back identically, and errors that say where the map is wrong.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "envs/grid/ascii_map.h"

using namespace rimlab::grid;

namespace {
AsciiLevel RoundTrip(const std::vector<std::string>& rows) {
  AsciiLevel level = ParseAsciiMap(rows);
  CHECK(FormatAsciiRows(level.grid, level.agent_x, level.agent_y, level.agent_dir) == rows);
  return level;
}
}  // namespace

TEST_CASE("Every fixture map parses and prints back identically", "[ascii]") {
  for (const char* name :
       {"open_room", "occlusion", "occlusion_see_through", "time_limit", "wall_and_door"}) {
    std::ifstream in(std::string("tests/fixtures/minigrid/") + name + ".json");
    REQUIRE(in.good());
    const auto rows = nlohmann::json::parse(in)["map"].get<std::vector<std::string>>();
    INFO(name);
    RoundTrip(rows);
  }
}

TEST_CASE("Every object, colour, door state and direction round-trips", "[ascii]") {
  const std::vector<std::string> rows = {
      "WEWRWGWBWPWYWE",  //
      "WE  FRKGABBPGGWE",
  };
  // Rows must agree in length: build a consistent map instead.
  const std::vector<std::string> map = {
      "WEWEWEWEWEWEWEWE",  //
      "WRFRKGABBPGGVRWE",  //
      "WEDYLPOB  <<  WE",  //
      "WEWEWEWEWEWEWEWE",  //
  };
  const AsciiLevel level = RoundTrip(map);
  CHECK(level.agent_x == 5);
  CHECK(level.agent_y == 2);
  CHECK(level.agent_dir == 2);
  CHECK(level.grid.at(0, 1) == Cell::Make(Obj::kWall, Color::kRed));
  CHECK(level.grid.at(1, 1) == Cell::Make(Obj::kFloor, Color::kRed));
  CHECK(level.grid.at(2, 1) == Cell::Make(Obj::kKey, Color::kGreen));
  CHECK(level.grid.at(3, 1) == Cell::Make(Obj::kBall, Color::kBlue));
  CHECK(level.grid.at(4, 1) == Cell::Make(Obj::kBox, Color::kPurple));
  CHECK(level.grid.at(5, 1) == Cell::Make(Obj::kGoal, Color::kGreen));
  CHECK(level.grid.at(6, 1) == Cell::Make(Obj::kLava, Color::kRed));
  CHECK(level.grid.at(1, 2) == Cell::Make(Obj::kDoor, Color::kYellow, kDoorClosed));
  CHECK(level.grid.at(2, 2) == Cell::Make(Obj::kDoor, Color::kPurple, kDoorLocked));
  CHECK(level.grid.at(3, 2) == Cell::Make(Obj::kDoor, Color::kBlue, kDoorOpen));
  CHECK(level.grid.at(4, 2).empty());
  for (const char* agent : {">>", "VV", "<<", "^^"}) {
    RoundTrip({"WEWEWE", std::string("WE") + agent + "WE", "WEWEWE"});
  }
  (void)rows;
}

TEST_CASE("Malformed maps give errors that locate the problem", "[ascii]") {
  CHECK_THROWS_WITH(ParseAsciiMap({}), Catch::Contains("no rows"));
  CHECK_THROWS_WITH(ParseAsciiMap({"WEWEW", "WEWEW", "WEWEW"}), Catch::Contains("two per cell"));
  CHECK_THROWS_WITH(ParseAsciiMap({"WEWEWE", "WE>>WEWE", "WEWEWE"}),
                    Catch::Contains("row 2") && Catch::Contains("expected 6"));
  CHECK_THROWS_WITH(ParseAsciiMap({"WEWEWE", "WEXRWE", "WE>>WE"}),
                    Catch::Contains("row 2, column 2") && Catch::Contains("unknown object 'X'"));
  CHECK_THROWS_WITH(ParseAsciiMap({"WEWEWE", "WEKQWE", "WE>>WE"}),
                    Catch::Contains("unknown colour 'Q'"));
  CHECK_THROWS_WITH(ParseAsciiMap({"WEWEWE", "WE  WE", "WEWEWE"}), Catch::Contains("no agent"));
  CHECK_THROWS_WITH(ParseAsciiMap({"WEWEWEWE", "WE>>^^WE", "WEWEWEWE"}),
                    Catch::Contains("second agent"));
  CHECK_THROWS_WITH(ParseAsciiMap({"WE>>", "WEWE"}), Catch::Contains("between 3x3"));
}
