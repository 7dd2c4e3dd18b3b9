#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "storage/records.hpp"

// The chat protocol spoken on /ws, as pure functions: parsing what a client
// sends and writing what the server sends. No Beast, no CAF. docs/protocol.md
// describes the same thing for people.
namespace parley::protocol {

/// Error codes carried in `{"type":"error","code":...}` frames.
namespace codes {
constexpr const char* invalid_frame = "invalid_frame";     // bad fields
constexpr const char* unknown_type = "unknown_type";
constexpr const char* empty_message = "empty_message";
constexpr const char* message_too_long = "message_too_long";
constexpr const char* binary_not_supported = "binary_not_supported";
constexpr const char* invalid_resume = "invalid_resume";
constexpr const char* storage_unavailable = "storage_unavailable";
constexpr const char* shutting_down = "shutting_down";
constexpr const char* internal_error = "internal_error";
constexpr const char* rate_limited = "rate_limited";         // retry_after_ms
constexpr const char* too_many_pending = "too_many_pending"; // retry_after_ms
constexpr const char* server_busy = "server_busy"; // before a 1013 close
} // namespace codes

/// `{"type":"message","text":...,"id":...}`, or a text frame that is not a
/// JSON object (its whole text is the message, as the seeds' clients send).
struct message_frame {
  std::string text;
  std::string client_id; // empty when the client gave none
};

/// `{"type":"ping"}`
struct ping_frame {};

/// `{"type":"cancel","reply_to":M}`: stop the answer to message M.
struct cancel_frame {
  std::int64_t reply_to = 0;
};

/// A frame the server cannot accept; answered with an error frame.
struct error_frame {
  std::string code;
  std::string message;
  /// The refused message's id, when it had a usable one: lets the client
  /// tell which of its messages failed.
  std::string client_id = {};
};

using client_frame
  = std::variant<message_frame, ping_frame, cancel_frame, error_frame>;

/// Longest accepted client id, in bytes.
constexpr std::size_t max_client_id_bytes = 128;

/// Parses one text frame. A JSON object must have a string `type`; for
/// "message", `text` must be a string with at least one non-space character
/// and at most `max_text_bytes` bytes, and `id`, when present and not null, a
/// string (or integer, taken as its decimal text) of at most
/// max_client_id_bytes bytes.
client_frame parse_client_frame(std::string_view frame,
                                std::size_t max_text_bytes);

/// The answer to a binary frame.
error_frame binary_frame_error();

// -- server frames: each returns the serialized JSON text ---------------------

/// The greeting. `status` is "handoff" while a human agent has the session,
/// else "active": a reloaded page learns it without replaying anything.
std::string session_frame(std::int64_t seq, std::int64_t session_id,
                          std::string_view resume_token, bool resumed,
                          bool handoff);

/// `{"type":"ack","seq":..,"id":<client id or null>,"message_id":..}`.
/// An ack replayed from the database on resume also carries the message's
/// `text` (and `created_at`, when given), so that a client that lost its
/// copy can rebuild the transcript; live acks leave them out.
std::string ack_frame(std::int64_t seq, std::string_view client_id,
                      std::int64_t message_id,
                      std::optional<std::string_view> text = std::nullopt,
                      std::string_view created_at = {});

/// The assistant started answering `reply_to` (a cancel names it).
std::string typing_frame(std::int64_t seq, std::int64_t reply_to);

/// A piece of an answer being streamed: `text` belongs at byte `offset` of
/// the answer to `reply_to`. Offsets let a client that got some pieces twice
/// (after a resume) put each where it belongs.
std::string delta_frame(std::int64_t seq, std::int64_t reply_to,
                        std::size_t offset, std::string_view text);

/// The assistant's answer, from its stored row. `handoff` is set on the
/// message that hands the session to a human (true) or back (false); it is
/// not stored, so replays leave it out.
std::string reply_frame(std::int64_t seq, const storage::message_record& reply,
                        std::optional<bool> handoff = std::nullopt);

/// `client_id` names the refused message, if it had an id.
std::string error_frame_text(std::int64_t seq, std::string_view code,
                             std::string_view message,
                             std::string_view client_id = {});

/// A message refused by a limit: not stored, to be sent again (with the
/// same `client_id`, which the frame names if the message had one) after
/// `retry_after_ms`.
std::string error_frame_text(std::int64_t seq, std::string_view code,
                             std::string_view message,
                             std::int64_t retry_after_ms,
                             std::string_view client_id);

std::string pong_frame(std::int64_t seq);

} // namespace parley::protocol
