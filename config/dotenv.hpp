#pragma once

#include <map>
#include <string>
#include <string_view>

namespace parley {

using env_map = std::map<std::string, std::string>;

/// Parses the text of a `.env` file: `KEY=value` lines, optional `export `
/// prefix, `#` comments (whole-line, or after unquoted values preceded by
/// whitespace), single- or double-quoted values (double quotes understand \n,
/// \t, \" and \\), blank lines. Throws config_error naming the line number of
/// a malformed line.
env_map parse_dotenv(std::string_view text);

} // namespace parley
