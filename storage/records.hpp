#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Plain rows and requests of the chat store. They carry no SOCI and no CAF so
// that the repository, the actors and the tests share one vocabulary; the
// inspect() overloads that let them cross actor (and node) boundaries live in
// actors/messages.hpp.
namespace parley::storage {

/// A row of `chat_sessions`. `user_id` 0 means an anonymous session.
struct session_record {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string title;
  std::string status;            // "active", "inactive" or "handoff"
  std::string channel;           // "websocket", "rest"
  std::string resume_token_hash; // hex SHA-256 of the resume token
  std::string created_at;
  std::string updated_at;
};

/// A row of `messages`: user and assistant messages are separate rows.
struct message_record {
  std::int64_t id = 0;
  std::int64_t session_id = 0;
  std::int64_t user_id = 0;   // 0 = none
  bool is_user = false;
  std::string role;           // "user", "assistant", later "agent"
  std::string content;
  std::string message_type;   // "text"
  std::int32_t tokens_used = 0;
  double response_time = 0;   // seconds, assistant rows
  std::string client_id;      // user rows; empty = none
  std::int64_t reply_to = 0;  // assistant rows: the user message answered
  std::int64_t seq = 0;       // seq of the frame that carried it (ack/message)
  std::string source;         // assistant rows: "fallback", "llm", "agent"
  std::string finish_reason;  // assistant rows: "completed", ...
  std::string created_at;
  std::string author;         // agent rows: the human agent's name
};

struct new_session {
  std::int64_t user_id = 0;
  std::string title;
  std::string channel;
  std::string resume_token_hash;
};

struct new_user_message {
  std::int64_t session_id = 0;
  std::int64_t user_id = 0;
  std::string client_id;      // empty = none; (session_id, client_id) unique
  std::string content;
  std::string message_type;   // defaults to "text" when empty; "to_agent"
                              // while a human has the session: no bot answer
  std::int64_t seq = 0;       // seq of the ack frame that will announce it
  /// The title the session takes from this message if it has none yet
  /// (sessions opened over the WebSocket start without one); empty: none.
  std::string session_title;
};

/// Outcome of storing a user message. When the client id was seen before in
/// this session, nothing is written: `duplicate` is set, `message` is the
/// original row and `reply` the stored answer if there is one.
struct user_message_result {
  message_record message;
  bool duplicate = false;
  bool has_reply = false;
  message_record reply;
};

struct new_assistant_message {
  std::int64_t session_id = 0;
  std::int64_t user_id = 0;   // the user whose message this answers
  std::int64_t reply_to = 0;  // unique: one stored answer per user message
  std::string role;           // defaults to "assistant" when empty
  std::string content;
  std::string source;
  std::string finish_reason;
  std::int32_t tokens_used = 0;
  double response_time = 0;
  std::int64_t seq = 0;
  std::string author;         // role "agent": who wrote it
  /// When set, an `agent_state` event with this JSON payload is stored in
  /// the same transaction: the conversation state the answer leaves behind
  /// (pending slot, intent) commits with the answer that asks for it.
  std::string agent_state;
  /// When set, the session's new status ("handoff", "active"), likewise.
  std::string session_status;
};

struct new_event {
  std::int64_t session_id = 0;
  std::string event_type;     // "session_started", "session_closed", ...
  std::string payload;        // a JSON document, "{}" when empty
};

/// What a session actor needs to resume: the session row, every stored frame
/// the client has not seen (seq > last_seq, ordered by seq), the user
/// messages still waiting for an answer (ordered by id) and recent history.
struct session_snapshot {
  session_record session;
  std::int64_t max_seq = 0;
  std::vector<message_record> replay;
  std::vector<message_record> unanswered;
  std::vector<message_record> history;
  /// The payload of the session's latest `agent_state` event; empty if none.
  std::string agent_state;
};

/// A row of `orders`: what the get_order tool reads.
struct order_record {
  std::string id;
  std::string status;   // "processing", "shipped", "delivered", "cancelled"
  std::string carrier;
  std::string tracking;
  std::string items;    // a JSON array
  std::string updated_at;
};

} // namespace parley::storage
