#include "envs/grid/tasks/common.h"

#include <sstream>

#include "envs/grid/tasks/tasks.h"

namespace rimlab::grid {

AsciiLevel ReadMapOption(const ParamReader& reader, const std::string& key,
                         const std::vector<std::string>& rows) {
  try {
    return ParseAsciiMap(rows);
  } catch (const std::invalid_argument& e) {
    reader.Fail(key, e.what());
  }
}

std::string KindName(const ObjectKind& k) {
  return std::string(ColorName(k.color)) + " " + ObjName(k.type);
}

std::vector<ObjectKind> ParseObjectKinds(const ParamReader& reader, const std::string& key,
                                         const std::vector<std::string>& items) {
  std::vector<ObjectKind> out;
  for (const auto& item : items) {
    std::istringstream is(item);
    std::string color;
    std::string type;
    std::string extra;
    is >> color >> type >> extra;
    if (color.empty() || type.empty() || !extra.empty()) {
      reader.Fail(key, "expected items like \"red key\" or \"* ball\" (colour then type), got \"" +
                           item + "\"");
    }
    std::vector<Color> colors;
    std::vector<Obj> types;
    if (color == "*") {
      for (int c = 0; c < kNumColors; ++c) colors.push_back(static_cast<Color>(c));
    } else {
      Color c = Color::kRed;
      if (!ParseColor(color, &c)) {
        reader.Fail(key, "unknown colour \"" + color + "\" in \"" + item +
                             "\" (expected red, green, blue, purple, yellow, grey or *)");
      }
      colors.push_back(c);
    }
    if (type == "*") {
      types = {Obj::kKey, Obj::kBall, Obj::kBox};
    } else {
      Obj o = Obj::kEmpty;
      if (!ParseObj(type, &o) || !Cell::Make(o, Color::kRed).CanPickup()) {
        reader.Fail(key, "unknown object \"" + type + "\" in \"" + item +
                             "\" (expected key, ball, box or *)");
      }
      types.push_back(o);
    }
    for (Obj t : types) {
      for (Color c : colors) {
        const ObjectKind k{c, t};
        bool seen = false;
        for (const auto& e : out) seen = seen || e == k;
        if (!seen) out.push_back(k);
      }
    }
  }
  if (out.empty()) reader.Fail(key, "expected at least one object kind");
  return out;
}

}  // namespace rimlab::grid
