#pragma once
// Helpers shared by the task files (not part of the public API).

#include <string>
#include <vector>

#include "common/params.h"
#include "envs/grid/ascii_map.h"

namespace rimlab::grid {

/// Parses option `key` as an ASCII map, turning parse errors into an OptionError for that key.
AsciiLevel ReadMapOption(const ParamReader& reader, const std::string& key,
                         const std::vector<std::string>& rows);

}  // namespace rimlab::grid
