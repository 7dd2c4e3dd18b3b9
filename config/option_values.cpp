#include "config/option_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>
#include <system_error>

#include "config/config_error.hpp"

namespace parley::detail {

std::string option_label(const char* flag, const char* var) {
  if (flag == nullptr)
    return var;
  return std::string{"--"} + flag + " / " + var;
}

void fail(const std::string& name, const std::string& what) {
  throw config_error(name + ": " + what);
}

std::string shown(std::string_view text) {
  constexpr size_t max_len = 60;
  if (text.size() <= max_len)
    return "'" + std::string{text} + "'";
  return "'" + std::string{text.substr(0, max_len)} + "...'";
}

std::string to_lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return result;
}

std::string seconds_text(std::chrono::milliseconds value) {
  auto ms = value.count();
  auto text = std::to_string(ms / 1000);
  if (auto frac = ms % 1000; frac != 0) {
    auto digits = std::to_string(1000 + frac).substr(1);
    while (digits.back() == '0')
      digits.pop_back();
    text += '.' + digits;
  }
  return text;
}

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::optional<std::uint64_t> parse_whole(std::string_view text) {
  if (text.empty()
      || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt; // out of range for uint64
  return value;
}

std::size_t whole_in_range(const std::string& name, std::string_view text,
                           std::uint64_t min, std::uint64_t max) {
  auto value = parse_whole(text);
  if (!value || *value < min || *value > max)
    fail(name, shown(text) + " is not a whole number in " + std::to_string(min)
                 + ".." + std::to_string(max));
  return static_cast<std::size_t>(*value);
}

std::optional<double> parse_decimal(std::string_view text,
                                    decimal_syntax syntax) {
  if (text.empty())
    return std::nullopt;
  if (syntax == decimal_syntax::plain) {
    if (text.find_first_not_of("0123456789.") != std::string_view::npos
        || std::count(text.begin(), text.end(), '.') > 1
        || text.find_first_of("0123456789") == std::string_view::npos)
      return std::nullopt;
  } else if (text.find_first_not_of("0123456789.eE+-") != std::string_view::npos
             || text.front() == '-' || text.front() == '+') {
    return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (ec != std::errc{} || end != text.data() + text.size()
      || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::chrono::milliseconds seconds_in_range(const std::string& name,
                                           std::string_view text,
                                           double max_seconds,
                                           decimal_syntax syntax) {
  auto value = parse_decimal(text, syntax);
  if (!value || *value <= 0 || *value > max_seconds)
    fail(name, shown(text) + " is not a number of seconds (more than 0, at "
                 "most " + number_text(max_seconds) + "; fractions allowed)");
  auto ms = std::llround(*value * 1000);
  if (ms < 1)
    fail(name, shown(text) + " is shorter than one millisecond");
  return std::chrono::milliseconds{ms};
}

std::string non_empty(const std::string& name, std::string value) {
  if (value.empty())
    fail(name, "must not be empty");
  return value;
}

std::optional<std::string> env_lookup::operator()(const char* name) const {
  if (auto i = environment_.find(name);
      i != environment_.end() && !i->second.empty())
    return i->second;
  if (auto i = dotenv_.find(name); i != dotenv_.end() && !i->second.empty())
    return i->second;
  return std::nullopt;
}

} // namespace parley::detail
