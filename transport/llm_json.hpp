#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "transport/openai_protocol.hpp" // malformed

// JSON helpers shared by openai_protocol.cpp and custom_llm_protocol.cpp, so
// that both protocols read fields, counts and ids by the same rules and
// word their complaints alike. Internal to parley_llm_protocol.
namespace parley::llm::detail {

/// Serializes a request. `replace` turns an invalid UTF-8 byte from a caller
/// (user text, stored history) into U+FFFD instead of throwing; parsed JSON
/// is valid UTF-8 already.
std::string dump(const nlohmann::json& value);

/// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence
/// ("..." marks the cut).
std::string truncate_utf8(std::string text, std::size_t max);

/// A token count: a non-negative integer that fits std::int64_t, or a float
/// with such a value (some servers, the seeds' Python ones among them, emit
/// 150.0).
std::optional<std::int64_t> as_count(const nlohmann::json& value);

/// The member `key` of `obj`, or null when absent or null: both protocols
/// treat a null field as a missing one.
const nlohmann::json* member(const nlohmann::json& obj, const char* key);

/// An id or error code as text: a string, or an integer as its decimal
/// text; nullopt for anything else.
std::optional<std::string> id_text(const nlohmann::json& id);

/// "field '<field>' must be <should_be>".
malformed bad_field(std::string_view field, std::string_view should_be);

} // namespace parley::llm::detail
