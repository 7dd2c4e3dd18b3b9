#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/dotenv.hpp"

// Reading and validating setting values, shared by server_config.cpp and
// llm_config.cpp so that both word their errors alike and treat empty values
// alike. Internal to parley_config: not part of its interface.
namespace parley::detail {

/// "--flag / VAR" for settings with a flag, "VAR" when `flag` is null.
std::string option_label(const char* flag, const char* var);

/// Throws config_error("<name>: <what>").
[[noreturn]] void fail(const std::string& name, const std::string& what);

/// Quotes a user-supplied value for an error message, cut short so that a
/// pasted blob does not flood the one-line error. Never used on secrets.
std::string shown(std::string_view text);

std::string to_lower(std::string_view text);

/// Seconds as short text: 500ms -> "0.5", 30000ms -> "30".
std::string seconds_text(std::chrono::milliseconds value);

/// A double as the stream writes it: 3600 -> "3600", 0.7 -> "0.7".
std::string number_text(double value);

/// Digits only, fitting std::uint64_t; nullopt otherwise.
std::optional<std::uint64_t> parse_whole(std::string_view text);

/// parse_whole within min..max, or fails for `name`.
std::size_t whole_in_range(const std::string& name, std::string_view text,
                           std::uint64_t min, std::uint64_t max);

/// How a decimal may be spelled. The server settings have always taken
/// exponents ("1e1"), the LLM settings never did; both keep their syntax.
enum class decimal_syntax {
  plain,         // "0.7", "2", ".5"
  with_exponent, // also "1e1", "2.5E-1"
};

/// A finite non-negative decimal; from_chars alone would also take "inf",
/// "nan" and a leading '-'.
std::optional<double>
parse_decimal(std::string_view text,
              decimal_syntax syntax = decimal_syntax::plain);

/// More than 0 and at most `max_seconds` seconds (fractions allowed), and at
/// least one millisecond, or fails for `name`.
std::chrono::milliseconds
seconds_in_range(const std::string& name, std::string_view text,
                 double max_seconds,
                 decimal_syntax syntax = decimal_syntax::plain);

/// `value`, or fails for `name` when it is empty.
std::string non_empty(const std::string& name, std::string value);

/// Looks a variable up: the process environment beats `.env`. An empty value
/// counts as unset (shells and compose files often export `X=`).
class env_lookup {
public:
  env_lookup(const env_map& dotenv, const env_map& environment)
    : dotenv_(dotenv), environment_(environment) {
    // nop
  }

  std::optional<std::string> operator()(const char* name) const;

private:
  const env_map& dotenv_;
  const env_map& environment_;
};

} // namespace parley::detail
