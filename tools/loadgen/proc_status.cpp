#include "tools/loadgen/proc_status.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace parley::loadgen {

std::optional<std::uint64_t> parse_vm_rss_kib(std::string_view status) {
  constexpr std::string_view key = "VmRSS:";
  std::size_t pos = 0;
  while (pos < status.size()) {
    auto end = status.find('\n', pos);
    if (end == std::string_view::npos)
      end = status.size();
    auto line = status.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, key.size()) != key)
      continue;
    auto digits = line.find_first_of("0123456789", key.size());
    if (digits == std::string_view::npos)
      return std::nullopt;
    std::uint64_t kib = 0;
    auto first = line.data() + digits;
    auto [ptr, ec] = std::from_chars(first, line.data() + line.size(), kib);
    if (ec != std::errc{})
      return std::nullopt;
    // The kernel always says kB (KiB); anything else is not that file.
    auto unit = line.substr(static_cast<std::size_t>(ptr - line.data()));
    if (unit.find("kB") == std::string_view::npos)
      return std::nullopt;
    return kib;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> read_vm_rss_kib(std::int64_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_vm_rss_kib(text.str());
}

} // namespace parley::loadgen
