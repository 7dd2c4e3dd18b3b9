#include "transport/llm_json.hpp"

#include <cmath>
#include <limits>

namespace parley::llm::detail {

using json = nlohmann::json;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string truncate_utf8(std::string text, std::size_t max) {
  if (text.size() <= max)
    return text;
  auto len = max;
  while (len > 0 && (static_cast<unsigned char>(text[len]) & 0xC0) == 0x80)
    --len;
  text.resize(len);
  text += "...";
  return text;
}

std::optional<std::int64_t> as_count(const json& value) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  if (value.is_number_unsigned()) {
    auto n = value.get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(max))
      return std::nullopt;
    return static_cast<std::int64_t>(n);
  }
  if (value.is_number_integer()) {
    auto n = value.get<std::int64_t>();
    if (n < 0)
      return std::nullopt;
    return n;
  }
  if (value.is_number_float()) {
    auto d = value.get<double>();
    // 2^53: beyond it not every integer is a double, and the cast below
    // must stay in range.
    if (std::isfinite(d) && d >= 0 && d <= 9007199254740992.0
        && d == std::floor(d))
      return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return nullptr;
  return &*it;
}

std::optional<std::string> id_text(const json& id) {
  if (id.is_string())
    return id.get<std::string>();
  if (id.is_number_unsigned())
    return std::to_string(id.get<std::uint64_t>());
  if (id.is_number_integer())
    return std::to_string(id.get<std::int64_t>());
  return std::nullopt;
}

malformed bad_field(std::string_view field, std::string_view should_be) {
  return malformed{"field '" + std::string{field} + "' must be "
                   + std::string{should_be}};
}

} // namespace parley::llm::detail
