#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace parley::loadgen {

/// What a member's value is, as far as the scanner looks.
enum class json_kind {
  string,  // the view is the text between the quotes, escapes not decoded
  number,  // the view is the number's text
  literal, // true, false or null
  object,  // the view includes the braces
  array,   // the view includes the brackets
};

/// Walks the members of one JSON object in `text` without building a
/// document, calling `visit(key, value, kind)` for each top-level member
/// (keys as raw views too). Nested objects and arrays are skipped as a
/// whole (strings in them included) and passed on as one view, to be
/// scanned again if needed. Returns false for text that is not one object
/// (then some members may already have been visited). Checks the structure,
/// not every detail of JSON (number syntax, escape validity): enough to read
/// what a trusted server sends, cheaply.
bool scan_object(
  std::string_view text,
  const std::function<void(std::string_view, std::string_view, json_kind)>&
    visit);

/// The raw value of top-level member `key` of the object in `text`;
/// nullopt when the text is no object or has no such member.
std::optional<std::string_view> find_member(std::string_view text,
                                            std::string_view key,
                                            json_kind* kind = nullptr);

/// The fields of a Parley server frame (docs/protocol.md) the load
/// generator acts on, as views into the frame's text. Absent or null
/// members stay empty.
struct server_frame {
  std::string_view type;
  std::string_view id;        // ack: the client's id
  std::string_view client_id; // error: the refused message's id
  std::string_view code;      // error
  std::optional<std::int64_t> message_id; // ack
  std::optional<std::int64_t> reply_to;   // typing, delta, message
};

/// Reads `text` into `out`; false when it is not a JSON object with a
/// string `type`. One pass, no allocation.
bool scan_server_frame(std::string_view text, server_frame& out);

/// An integer's text as a number; nullopt for anything else (a fraction,
/// null, junk, overflow).
std::optional<std::int64_t> parse_integer(std::string_view text) noexcept;

} // namespace parley::loadgen
