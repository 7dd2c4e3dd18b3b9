#include "storage/chat_repository.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <utility>

#include <soci/soci.h>

#include "storage/database.hpp"
#include "storage/sql_support.hpp"

namespace parley::storage {

// The shared SOCI plumbing: column, into/use, rows, fetch_one/fetch_all,
// statement_cache, own_transaction and the input checks.
using namespace detail;

namespace {

std::string json_string(const std::string& text) {
  std::string result = "\"";
  for (unsigned char ch : text) {
    switch (ch) {
      case '"':
        result += "\\\"";
        break;
      case '\\':
        result += "\\\\";
        break;
      case '\n':
        result += "\\n";
        break;
      case '\r':
        result += "\\r";
        break;
      case '\t':
        result += "\\t";
        break;
      default:
        if (ch < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(ch));
          result += buf;
        } else {
          result += static_cast<char>(ch);
        }
    }
  }
  result += '"';
  return result;
}

} // namespace

// -- prepared statements ------------------------------------------------------

/// Parameter and result buffers plus the statements bound to them (see
/// statement_cache). Buffers come first so that they outlive the statements.
struct chat_repository::statements : statement_cache {
  explicit statements(database& db) : statement_cache(db) {
    // nop
  }

  // Parameters.
  long long session_id = 0;
  long long number = 0; // seq, reply_to, message id or limit
  column<std::string> client_id;

  // Rows written and read.
  message_row message_in;
  message_row message_out;
  column<long long> joined_session; // chat_sessions.id of the lookups
  session_row session_in;
  session_row session_out;
  std::string event_type;
  std::string event_payload;
  soci::indicator event_session_ind = soci::i_ok;
  std::string event_created_at;

  std::unique_ptr<soci::statement> insert_session_st;
  std::unique_ptr<soci::statement> insert_event_st;
  std::unique_ptr<soci::statement> find_session_st;
  std::unique_ptr<soci::statement> user_lookup_st;
  std::unique_ptr<soci::statement> assistant_lookup_st;
  std::unique_ptr<soci::statement> find_reply_st;
  std::unique_ptr<soci::statement> insert_message_st;
  std::unique_ptr<soci::statement> after_seq_st;
  std::unique_ptr<soci::statement> unanswered_st;
  std::unique_ptr<soci::statement> recent_st;
  std::unique_ptr<soci::statement> max_seq_st;
  std::unique_ptr<soci::statement> count_st;
  std::unique_ptr<soci::statement> latest_event_st;
  std::unique_ptr<soci::statement> set_status_st;
  std::unique_ptr<soci::statement> touch_session_st;

  column<std::string> payload_out;
  std::string status_in;
  std::string updated_at_in;
  std::string title_in;
  int reopen = 0;
  int fill_title = 0;

  /// Inserts `message_in` and returns its id.
  long long insert_message() {
    return insert(
      insert_message_st, "messages",
      "INSERT INTO messages (session_id, user_id, is_user, role, content, "
      "message_type, tokens_used, response_time, client_id, reply_to, seq, "
      "source, finish_reason, created_at, author) VALUES (:session_id, "
      ":user_id, :is_user, :role, :content, :message_type, :tokens_used, "
      ":response_time, :client_id, :reply_to, :seq, :source, "
      ":finish_reason, :created_at, :author)",
      [this](soci::statement& stmt) {
        auto& row = message_in;
        use(stmt, row.session_id);
        use(stmt, row.user_id);
        use(stmt, row.is_user);
        use(stmt, row.role);
        use(stmt, row.content);
        use(stmt, row.message_type);
        use(stmt, row.tokens_used);
        use(stmt, row.response_time);
        use(stmt, row.client_id);
        use(stmt, row.reply_to);
        use(stmt, row.seq);
        use(stmt, row.source);
        use(stmt, row.finish_reason);
        use(stmt, row.created_at);
        use(stmt, row.author);
      });
  }

  long long insert_session() {
    return insert(
      insert_session_st, "chat_sessions",
      "INSERT INTO chat_sessions (user_id, title, status, channel, "
      "resume_token_hash, created_at, updated_at) VALUES (:user_id, :title, "
      ":status, :channel, :resume_token_hash, :created_at, :updated_at)",
      [this](soci::statement& stmt) {
        auto& row = session_in;
        use(stmt, row.user_id);
        use(stmt, row.title);
        use(stmt, row.status);
        use(stmt, row.channel);
        use(stmt, row.resume_token_hash);
        use(stmt, row.created_at);
        use(stmt, row.updated_at);
      });
  }

  void insert_event() {
    auto& st = prepared(insert_event_st,
                        "INSERT INTO chat_events (session_id, event_type, "
                        "payload, created_at) VALUES (:session_id, "
                        ":event_type, :payload, :created_at)",
                        [this](soci::statement& stmt) {
                          stmt.exchange(soci::use(session_id,
                                                  event_session_ind));
                          stmt.exchange(soci::use(event_type));
                          stmt.exchange(soci::use(event_payload));
                          stmt.exchange(soci::use(event_created_at));
                        });
    st.execute(true);
  }

  soci::statement& find_session() {
    return prepared(find_session_st,
                    std::string{"SELECT "} + session_columns
                      + " FROM chat_sessions s WHERE s.id = :session_id",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, session_out);
                      stmt.exchange(soci::use(session_id));
                    });
  }

  // One round trip answers both "does the session exist?" and "was this
  // client id stored before?" (the unique index serves the join).
  soci::statement& user_lookup() {
    return prepared(user_lookup_st,
                    std::string{"SELECT s.id, "} + message_columns
                      + " FROM chat_sessions s LEFT JOIN messages m"
                        " ON m.session_id = s.id AND m.client_id = :client_id"
                        " WHERE s.id = :session_id",
                    [this](soci::statement& stmt) {
                      into(stmt, joined_session);
                      bind_into(stmt, message_out);
                      use(stmt, client_id);
                      stmt.exchange(soci::use(session_id));
                    });
  }

  soci::statement& assistant_lookup() {
    return prepared(assistant_lookup_st,
                    std::string{"SELECT s.id, "} + message_columns
                      + " FROM chat_sessions s LEFT JOIN messages m"
                        " ON m.session_id = s.id AND m.reply_to = :reply_to"
                        " WHERE s.id = :session_id",
                    [this](soci::statement& stmt) {
                      into(stmt, joined_session);
                      bind_into(stmt, message_out);
                      stmt.exchange(soci::use(number));
                      stmt.exchange(soci::use(session_id));
                    });
  }

  soci::statement& find_reply() {
    return prepared(find_reply_st,
                    std::string{"SELECT "} + message_columns
                      + " FROM messages m WHERE m.reply_to = :reply_to",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, message_out);
                      stmt.exchange(soci::use(number));
                    });
  }

  soci::statement& after_seq() {
    return prepared(after_seq_st,
                    std::string{"SELECT "} + message_columns
                      + " FROM messages m WHERE m.session_id = :session_id"
                        " AND m.seq > :seq ORDER BY m.seq, m.id",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, message_out);
                      stmt.exchange(soci::use(session_id));
                      stmt.exchange(soci::use(number));
                    });
  }

  soci::statement& unanswered() {
    return prepared(unanswered_st,
                    std::string{"SELECT "} + message_columns
                      + " FROM messages m WHERE m.session_id = :session_id"
                        " AND m.is_user = 1 AND m.message_type <> 'to_agent'"
                        " AND NOT EXISTS (SELECT 1 FROM messages r"
                        " WHERE r.reply_to = m.id) ORDER BY m.id",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, message_out);
                      stmt.exchange(soci::use(session_id));
                    });
  }

  soci::statement& recent() {
    return prepared(recent_st,
                    std::string{"SELECT "} + message_columns
                      + " FROM messages m WHERE m.session_id = :session_id"
                        " ORDER BY m.id DESC LIMIT :limit",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, message_out);
                      stmt.exchange(soci::use(session_id));
                      stmt.exchange(soci::use(number));
                    });
  }

  soci::statement& latest_event() {
    return prepared(latest_event_st,
                    "SELECT payload FROM chat_events WHERE session_id = "
                    ":session_id AND event_type = :event_type ORDER BY id "
                    "DESC LIMIT 1",
                    [this](soci::statement& stmt) {
                      into(stmt, payload_out);
                      stmt.exchange(soci::use(session_id));
                      stmt.exchange(soci::use(event_type));
                    });
  }

  soci::statement& set_status() {
    return prepared(set_status_st,
                    "UPDATE chat_sessions SET status = :status, updated_at = "
                    ":updated_at WHERE id = :session_id",
                    [this](soci::statement& stmt) {
                      stmt.exchange(soci::use(status_in));
                      stmt.exchange(soci::use(updated_at_in));
                      stmt.exchange(soci::use(session_id));
                    });
  }

  // Every stored message moves the session's updated_at (the admin lists
  // order by it). A customer's message also reopens an inactive session and
  // names an untitled one; nobody else's does.
  void touch_session(std::int64_t id, const std::string& at, bool by_customer,
                     const std::string& title) {
    auto& st = prepared(
      touch_session_st,
      "UPDATE chat_sessions SET updated_at = :updated_at, status = CASE WHEN "
      ":reopen = 1 AND status = 'inactive' THEN 'active' ELSE status END, "
      "title = CASE WHEN :fill_title = 1 AND (title IS NULL OR title = '') "
      "THEN :title ELSE title END WHERE id = :session_id",
      [this](soci::statement& stmt) {
        stmt.exchange(soci::use(updated_at_in));
        stmt.exchange(soci::use(reopen));
        stmt.exchange(soci::use(fill_title));
        stmt.exchange(soci::use(title_in));
        stmt.exchange(soci::use(session_id));
      });
    session_id = id;
    updated_at_in = at;
    reopen = by_customer ? 1 : 0;
    fill_title = by_customer && !title.empty() ? 1 : 0;
    title_in = title;
    st.execute(true);
  }

  soci::statement& max_seq() {
    return prepared(max_seq_st,
                    "SELECT COALESCE(MAX(seq), 0) FROM messages"
                    " WHERE session_id = :session_id",
                    [this](soci::statement& stmt) {
                      stmt.exchange(soci::into(scalar));
                      stmt.exchange(soci::use(session_id));
                    });
  }

  soci::statement& count() {
    return prepared(count_st,
                    "SELECT COUNT(*) FROM messages"
                    " WHERE session_id = :session_id",
                    [this](soci::statement& stmt) {
                      stmt.exchange(soci::into(scalar));
                      stmt.exchange(soci::use(session_id));
                    });
  }

  /// Runs a message query and collects every row.
  std::vector<message_record> messages(soci::statement& st) {
    std::vector<message_record> result;
    fetch_all(st, [&] { result.push_back(message_out.to_record()); });
    return result;
  }

  std::optional<session_record> fetch_session(std::int64_t id) {
    session_id = id;
    std::optional<session_record> result;
    fetch_one(find_session(), [&] { result = session_out.to_record(); });
    return result;
  }
};

// -- chat_repository ----------------------------------------------------------

chat_repository::chat_repository(database& db)
  : db_(db), st_(std::make_unique<statements>(db)) {
  // nop
}

chat_repository::~chat_repository() {
  // nop
}

session_record chat_repository::create_session(const new_session& request) {
  try {
    st_->recover();
    check_length("create_session", "title", request.title, 255);
    check_length("create_session", "channel", request.channel, 32);
    check_length("create_session", "resume_token_hash",
                 request.resume_token_hash, 64);
    auto& s = *st_;
    auto now = utc_timestamp();
    auto& row = s.session_in;
    row.user_id.set_or_null(request.user_id);
    row.title.set_or_null(request.title);
    row.status.set("active");
    row.channel.set_or_null(request.channel);
    row.resume_token_hash.set_or_null(request.resume_token_hash);
    row.created_at.set(now);
    row.updated_at.set(now);
    own_transaction trans{db_};
    session_record result;
    result.id = s.insert_session();
    result.user_id = request.user_id;
    result.title = request.title;
    result.status = "active";
    result.channel = request.channel;
    result.resume_token_hash = request.resume_token_hash;
    result.created_at = now;
    result.updated_at = now;
    s.session_id = result.id;
    s.event_type = "session_started";
    s.event_payload = "{\"channel\":" + json_string(request.channel) + "}";
    s.event_created_at = now;
    s.insert_event();
    trans.commit();
    return result;
  } catch (...) {
    st_->fail("create_session");
  }
}

std::optional<session_record>
chat_repository::find_session(std::int64_t session_id) {
  try {
    st_->recover();
    return st_->fetch_session(session_id);
  } catch (...) {
    st_->fail("find_session");
  }
}

user_message_result
chat_repository::store_user_message(const new_user_message& request) {
  try {
    st_->recover();
    check_length("store_user_message", "client_id", request.client_id, 128);
    check_length("store_user_message", "message_type", request.message_type,
                 32);
    check_length("store_user_message", "session_title", request.session_title,
                 255);
    auto& s = *st_;
    user_message_result result;
    s.session_id = request.session_id;
    s.client_id.set_or_null(request.client_id);
    bool duplicate = false;
    bool session_found = fetch_one(s.user_lookup(), [&] {
      if (!s.message_out.is_null()) {
        duplicate = true;
        result.message = s.message_out.to_record();
      }
    });
    if (!session_found)
      throw_unknown_session("store_user_message", request.session_id);
    if (duplicate) {
      result.duplicate = true;
      s.number = result.message.id;
      result.has_reply = fetch_one(s.find_reply(), [&] {
        result.reply = s.message_out.to_record();
      });
      return result;
    }
    own_transaction trans{db_};
    auto& msg = result.message;
    msg.session_id = request.session_id;
    msg.user_id = request.user_id;
    msg.is_user = true;
    msg.role = "user";
    msg.content = request.content;
    msg.message_type = request.message_type.empty() ? "text"
                                                    : request.message_type;
    msg.client_id = request.client_id;
    msg.seq = request.seq;
    msg.created_at = utc_timestamp();
    auto& row = s.message_in;
    row.session_id.set(msg.session_id);
    row.user_id.set_or_null(msg.user_id);
    row.is_user.set(1);
    row.role.set(msg.role);
    row.content.set(msg.content);
    row.message_type.set(msg.message_type);
    row.tokens_used.set(0);
    row.response_time.set(0);
    row.client_id.set_or_null(msg.client_id);
    row.reply_to.set_or_null(0);
    row.seq.set(msg.seq);
    row.source.set_or_null(std::string{});
    row.finish_reason.set_or_null(std::string{});
    row.created_at.set(msg.created_at);
    row.author.set_or_null(std::string{});
    msg.id = s.insert_message();
    s.touch_session(msg.session_id, msg.created_at, true,
                    request.session_title);
    trans.commit();
    return result;
  } catch (...) {
    st_->fail("store_user_message");
  }
}

message_record
chat_repository::store_assistant_message(const new_assistant_message& request) {
  try {
    st_->recover();
    check_length("store_assistant_message", "role", request.role, 32);
    check_length("store_assistant_message", "source", request.source, 32);
    check_length("store_assistant_message", "finish_reason",
                 request.finish_reason, 32);
    check_length("store_assistant_message", "author", request.author, 255);
    check_length("store_assistant_message", "session_status",
                 request.session_status, 32);
    auto& s = *st_;
    message_record result;
    s.session_id = request.session_id;
    s.number = request.reply_to;
    bool duplicate = false;
    bool session_found = fetch_one(s.assistant_lookup(), [&] {
      if (!s.message_out.is_null()) {
        duplicate = true;
        result = s.message_out.to_record();
      }
    });
    if (!session_found)
      throw_unknown_session("store_assistant_message", request.session_id);
    if (duplicate)
      return result;
    own_transaction trans{db_};
    result.session_id = request.session_id;
    result.user_id = request.user_id;
    result.is_user = false;
    result.role = request.role.empty() ? "assistant" : request.role;
    result.content = request.content;
    result.message_type = "text";
    result.tokens_used = request.tokens_used;
    result.response_time = request.response_time;
    result.reply_to = request.reply_to;
    result.seq = request.seq;
    result.source = request.source;
    result.finish_reason = request.finish_reason;
    result.created_at = utc_timestamp();
    auto& row = s.message_in;
    row.session_id.set(result.session_id);
    row.user_id.set_or_null(result.user_id);
    row.is_user.set(0);
    row.role.set(result.role);
    row.content.set(result.content);
    row.message_type.set(result.message_type);
    row.tokens_used.set(result.tokens_used);
    row.response_time.set(result.response_time);
    row.client_id.set_or_null(std::string{});
    row.reply_to.set_or_null(result.reply_to);
    row.seq.set(result.seq);
    row.source.set_or_null(result.source);
    row.finish_reason.set_or_null(result.finish_reason);
    row.created_at.set(result.created_at);
    result.author = request.author;
    row.author.set_or_null(result.author);
    result.id = s.insert_message();
    s.touch_session(result.session_id, result.created_at, false, {});
    if (!request.agent_state.empty())
      add_event(new_event{request.session_id, "agent_state",
                          request.agent_state});
    if (!request.session_status.empty()) {
      set_session_status(request.session_id, request.session_status);
      // A handoff and its end are events of their own, for the support
      // team's history.
      add_event(new_event{request.session_id,
                          request.session_status == "handoff"
                            ? "handoff_started"
                            : "handoff_ended",
                          "{\"status\":" + json_string(request.session_status)
                            + "}"});
    }
    trans.commit();
    return result;
  } catch (...) {
    st_->fail("store_assistant_message");
  }
}

std::vector<message_record>
chat_repository::messages_after_seq(std::int64_t session_id,
                                   std::int64_t after_seq) {
  try {
    st_->recover();
    auto& s = *st_;
    s.session_id = session_id;
    s.number = after_seq;
    return s.messages(s.after_seq());
  } catch (...) {
    st_->fail("messages_after_seq");
  }
}

std::vector<message_record>
chat_repository::unanswered_messages(std::int64_t session_id) {
  try {
    st_->recover();
    auto& s = *st_;
    s.session_id = session_id;
    return s.messages(s.unanswered());
  } catch (...) {
    st_->fail("unanswered_messages");
  }
}

std::vector<message_record>
chat_repository::recent_messages(std::int64_t session_id, std::size_t limit) {
  if (limit == 0)
    return {};
  try {
    st_->recover();
    auto& s = *st_;
    s.session_id = session_id;
    constexpr auto max_limit
      = static_cast<std::size_t>(std::numeric_limits<long long>::max());
    s.number = static_cast<long long>(std::min(limit, max_limit));
    auto result = s.messages(s.recent());
    std::reverse(result.begin(), result.end()); // newest first -> oldest first
    return result;
  } catch (...) {
    st_->fail("recent_messages");
  }
}

std::int64_t chat_repository::max_seq(std::int64_t session_id) {
  try {
    st_->recover();
    st_->session_id = session_id;
    return st_->fetch_scalar(st_->max_seq());
  } catch (...) {
    st_->fail("max_seq");
  }
}

session_snapshot chat_repository::load_snapshot(std::int64_t session_id,
                                                std::int64_t last_seq,
                                                std::size_t history_limit) {
  try {
    st_->recover();
    // One transaction gives all parts the same view of the session (and on
    // SQLite a single read lock instead of five).
    own_transaction trans{db_};
    session_snapshot result;
    auto session = find_session(session_id);
    if (!session)
      throw_unknown_session("load_snapshot", session_id);
    result.session = std::move(*session);
    result.max_seq = max_seq(session_id);
    result.replay = messages_after_seq(session_id, last_seq);
    result.unanswered = unanswered_messages(session_id);
    result.history = recent_messages(session_id, history_limit);
    result.agent_state = latest_event(session_id, "agent_state");
    trans.commit();
    return result;
  } catch (...) {
    st_->fail("load_snapshot");
  }
}

void chat_repository::add_event(const new_event& event) {
  try {
    st_->recover();
    check_length("add_event", "event_type", event.event_type, 64);
    auto& s = *st_;
    s.session_id = event.session_id;
    // Session 0: an event about the whole server.
    s.event_session_ind = event.session_id == 0 ? soci::i_null : soci::i_ok;
    s.event_type = event.event_type;
    s.event_payload = event.payload.empty() ? "{}" : event.payload;
    s.event_created_at = utc_timestamp();
    s.insert_event();
  } catch (...) {
    st_->fail("add_event");
  }
}

std::string chat_repository::latest_event(std::int64_t session_id,
                                          const std::string& event_type) {
  try {
    st_->recover();
    auto& s = *st_;
    s.session_id = session_id;
    s.event_type = event_type;
    std::string payload;
    fetch_one(s.latest_event(), [&] { payload = s.payload_out.get(); });
    return payload;
  } catch (...) {
    st_->fail("latest_event");
  }
}

void chat_repository::set_session_status(std::int64_t session_id,
                                         const std::string& status) {
  try {
    st_->recover();
    check_length("set_session_status", "status", status, 32);
    auto& s = *st_;
    s.session_id = session_id;
    s.status_in = status;
    s.updated_at_in = utc_timestamp();
    auto& stmt = s.set_status();
    stmt.execute(true);
    if (stmt.get_affected_rows() == 0)
      throw_unknown_session("set_session_status", session_id);
  } catch (...) {
    st_->fail("set_session_status");
  }
}

std::int64_t chat_repository::count_messages(std::int64_t session_id) {
  try {
    st_->recover();
    st_->session_id = session_id;
    return st_->fetch_scalar(st_->count());
  } catch (...) {
    st_->fail("count_messages");
  }
}

std::string utc_timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = time_point_cast<seconds>(now);
  if (secs > now) // time_point_cast rounds toward zero before 1970
    secs -= seconds{1};
  auto micros = duration_cast<microseconds>(now - secs).count();
  auto time = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&time, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  return buf;
}

} // namespace parley::storage
