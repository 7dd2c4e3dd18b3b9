#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/records.hpp"

namespace parley::storage {

class database;

/// SQL for chat sessions, messages and events. Every statement binds its
/// values (no SQL is built from input). Each call runs inside whatever
/// transaction the caller opened on the database (the persistence actor
/// groups many calls in one commit), or in autocommit mode if none is open.
/// SOCI errors leave as storage_error.
///
/// Statements are prepared on first use and reused, so a repository belongs
/// to one database object for its whole life (make a new one after reopening
/// the connection or dropping the schema).
class chat_repository {
public:
  explicit chat_repository(database& db);
  ~chat_repository();

  chat_repository(const chat_repository&) = delete;
  chat_repository& operator=(const chat_repository&) = delete;

  /// Inserts a session (status "active") and its `session_started` event;
  /// returns the stored row with id and timestamps. Both rows share one
  /// transaction (the caller's, or an own one when none is open).
  session_record create_session(const new_session& request);

  std::optional<session_record> find_session(std::int64_t session_id);

  /// Stores a user message unless (session_id, client_id) was stored before;
  /// see user_message_result. Throws storage_error(not_found) for an unknown
  /// session.
  user_message_result store_user_message(const new_user_message& request);

  /// Stores an assistant reply, with its agent_state event and session
  /// status when the request has them, in one transaction. If `reply_to`
  /// already has a stored reply in this session, it is returned unchanged
  /// and nothing is written (exactly one answer). Throws
  /// storage_error(not_found) for an unknown session.
  message_record store_assistant_message(const new_assistant_message& request);

  /// Messages of the session with seq > `after_seq`, ordered by seq.
  std::vector<message_record> messages_after_seq(std::int64_t session_id,
                                                 std::int64_t after_seq);

  /// User messages of the session that have no stored reply, ordered by id;
  /// messages written to a human agent ("to_agent") wait for no reply.
  std::vector<message_record> unanswered_messages(std::int64_t session_id);

  /// The last `limit` messages of the session, oldest first.
  std::vector<message_record> recent_messages(std::int64_t session_id,
                                              std::size_t limit);

  /// The highest seq stored for the session (0 when none).
  std::int64_t max_seq(std::int64_t session_id);

  /// Everything session_snapshot describes, in one call (and one read
  /// transaction when none is open). Throws storage_error(not_found) for an
  /// unknown session.
  session_snapshot load_snapshot(std::int64_t session_id,
                                 std::int64_t last_seq,
                                 std::size_t history_limit);

  void add_event(const new_event& event);

  /// The payload of the session's newest event of `event_type`; empty when
  /// there is none.
  std::string latest_event(std::int64_t session_id,
                           const std::string& event_type);

  /// Sets chat_sessions.status (and updated_at). Throws
  /// storage_error(not_found) for an unknown session.
  void set_session_status(std::int64_t session_id, const std::string& status);

  /// Count of rows in `messages` for the session (tests and admin views).
  std::int64_t count_messages(std::int64_t session_id);

private:
  struct statements;

  database& db_;
  std::unique_ptr<statements> st_; // prepared on first use
};

/// The current time as the seeds print it: "2025-08-03T12:00:00.000000Z".
std::string utc_timestamp();

} // namespace parley::storage
