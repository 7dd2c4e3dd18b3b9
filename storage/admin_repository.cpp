#include "storage/admin_repository.hpp"

#include <algorithm>
#include <utility>

#include <soci/soci.h>

#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "storage/error_translation.hpp"
#include "storage/storage_error.hpp"

namespace parley::storage {

namespace {

// -- column buffers -----------------------------------------------------------
// The helpers below mirror those of chat_repository.cpp (its anonymous
// namespace is private to that file).

/// A bound value and its NULL indicator; SOCI throws on NULL without one.
template <class T>
struct column {
  T value{};
  soci::indicator ind = soci::i_ok;

  T get() const {
    return ind == soci::i_ok ? value : T{};
  }

  void set(T x) {
    value = std::move(x);
    ind = soci::i_ok;
  }

  /// Empty strings and zero ids are stored as NULL ("none").
  void set_or_null(T x) {
    ind = x == T{} ? soci::i_null : soci::i_ok;
    value = std::move(x);
  }
};

// SOCI's use/into containers keep a reference to a temporary name string:
// they must reach exchange() within the full-expression that creates them.
template <class T>
void into(soci::statement& st, column<T>& col) {
  st.exchange(soci::into(col.value, col.ind));
}

template <class T>
void use(soci::statement& st, column<T>& col) {
  st.exchange(soci::use(col.value, col.ind));
}

// long long rather than std::int64_t (long here): SOCI's native 64-bit type.

struct user_row {
  column<long long> id;
  column<std::string> name;
  column<std::string> email;
  column<std::string> avatar_url;
  column<std::string> status;
  column<std::string> preferences;
  column<std::string> created_at;
  column<std::string> updated_at;

  user_record to_record() const {
    user_record result;
    result.id = id.get();
    result.name = name.get();
    result.email = email.get();
    result.avatar_url = avatar_url.get();
    result.status = status.get();
    result.preferences = preferences.get();
    if (result.preferences.empty())
      result.preferences = "{}";
    result.created_at = created_at.get();
    result.updated_at = updated_at.get();
    return result;
  }

  /// Fills every column from `x` (for INSERT and UPDATE). A missing name
  /// or email (rows not written by create_user) stays NULL.
  void assign(const user_record& x) {
    name.set_or_null(x.name);
    email.set_or_null(x.email);
    avatar_url.set_or_null(x.avatar_url);
    status.set(x.status);
    preferences.set(x.preferences.empty() ? std::string{"{}"} : x.preferences);
    created_at.set(x.created_at);
    updated_at.set(x.updated_at);
  }
};

// Select list matching bind_into(user_row); the table alias is `u`.
constexpr const char* user_columns
  = "u.id, u.name, u.email, u.avatar_url, u.status, u.preferences, "
    "u.created_at, u.updated_at";

void bind_into(soci::statement& st, user_row& row) {
  into(st, row.id);
  into(st, row.name);
  into(st, row.email);
  into(st, row.avatar_url);
  into(st, row.status);
  into(st, row.preferences);
  into(st, row.created_at);
  into(st, row.updated_at);
}

struct session_row {
  column<long long> id;
  column<long long> user_id;
  column<std::string> title;
  column<std::string> status;
  column<std::string> channel;
  column<std::string> resume_token_hash;
  column<std::string> created_at;
  column<std::string> updated_at;
  column<long long> message_count;

  session_listing to_listing() const {
    session_listing result;
    auto& s = result.session;
    s.id = id.get();
    s.user_id = user_id.get();
    s.title = title.get();
    s.status = status.get();
    s.channel = channel.get();
    s.resume_token_hash = resume_token_hash.get();
    s.created_at = created_at.get();
    s.updated_at = updated_at.get();
    result.message_count = message_count.get();
    return result;
  }
};

// Select list matching bind_into(session_row); the table alias is `s`. The
// count is a correlated subquery (one statement for the whole page, served
// by idx_messages_session_seq), not a query per row.
constexpr const char* session_columns
  = "s.id, s.user_id, s.title, s.status, s.channel, s.resume_token_hash, "
    "s.created_at, s.updated_at, "
    "(SELECT COUNT(*) FROM messages c WHERE c.session_id = s.id)";

void bind_into(soci::statement& st, session_row& row) {
  into(st, row.id);
  into(st, row.user_id);
  into(st, row.title);
  into(st, row.status);
  into(st, row.channel);
  into(st, row.resume_token_hash);
  into(st, row.created_at);
  into(st, row.updated_at);
  into(st, row.message_count);
}

struct message_row {
  column<long long> id;
  column<long long> session_id;
  column<long long> user_id;
  column<int> is_user;
  column<std::string> role;
  column<std::string> content;
  column<std::string> message_type;
  column<int> tokens_used;
  column<double> response_time;
  column<std::string> client_id;
  column<long long> reply_to;
  column<long long> seq;
  column<std::string> source;
  column<std::string> finish_reason;
  column<std::string> created_at;

  message_record to_record() const {
    message_record result;
    result.id = id.get();
    result.session_id = session_id.get();
    result.user_id = user_id.get();
    result.is_user = is_user.get() != 0;
    result.role = role.get();
    result.content = content.get();
    result.message_type = message_type.get();
    result.tokens_used = tokens_used.get();
    result.response_time = response_time.get();
    result.client_id = client_id.get();
    result.reply_to = reply_to.get();
    result.seq = seq.get();
    result.source = source.get();
    result.finish_reason = finish_reason.get();
    result.created_at = created_at.get();
    return result;
  }
};

// Select list matching bind_into(message_row); the table alias is `m`.
constexpr const char* message_columns
  = "m.id, m.session_id, m.user_id, m.is_user, m.role, m.content, "
    "m.message_type, m.tokens_used, m.response_time, m.client_id, "
    "m.reply_to, m.seq, m.source, m.finish_reason, m.created_at";

void bind_into(soci::statement& st, message_row& row) {
  into(st, row.id);
  into(st, row.session_id);
  into(st, row.user_id);
  into(st, row.is_user);
  into(st, row.role);
  into(st, row.content);
  into(st, row.message_type);
  into(st, row.tokens_used);
  into(st, row.response_time);
  into(st, row.client_id);
  into(st, row.reply_to);
  into(st, row.seq);
  into(st, row.source);
  into(st, row.finish_reason);
  into(st, row.created_at);
}

struct setting_row {
  column<long long> id;
  column<std::string> key;
  column<std::string> value;
  column<std::string> description;
  column<std::string> category;
  column<std::string> created_at;
  column<std::string> updated_at;

  setting_record to_record() const {
    setting_record result;
    result.id = id.get();
    result.key = key.get();
    result.value = value.get();
    result.description = description.get();
    result.category = category.get();
    result.created_at = created_at.get();
    result.updated_at = updated_at.get();
    return result;
  }
};

// Select list matching bind_into(setting_row); the table alias is `t`.
constexpr const char* setting_columns
  = "t.id, t.setting_key, t.value, t.description, t.category, t.created_at, "
    "t.updated_at";

void bind_into(soci::statement& st, setting_row& row) {
  into(st, row.id);
  into(st, row.key);
  into(st, row.value);
  into(st, row.description);
  into(st, row.category);
  into(st, row.created_at);
  into(st, row.updated_at);
}

// -- helpers ------------------------------------------------------------------

/// Runs a query and keeps its first row in the bound buffers (taken by
/// `take`). Steps to the end afterwards: an unfinished SQLite statement
/// would keep its read snapshot (and block checkpoints and DROP TABLE).
template <class Take>
bool fetch_one(soci::statement& st, Take&& take) {
  st.execute();
  if (!st.fetch())
    return false;
  take();
  while (st.fetch()) {
    // drain
  }
  return true;
}

/// Runs a query and calls `take` for every row.
template <class Take>
void fetch_all(soci::statement& st, Take&& take) {
  st.execute();
  while (st.fetch())
    take();
}

/// Opens a transaction unless the caller has one; commits only its own.
class own_transaction {
public:
  explicit own_transaction(database& db) : db_(db), owned_(!db.in_transaction()) {
    if (owned_)
      db_.begin();
  }

  ~own_transaction() {
    if (owned_)
      db_.rollback();
  }

  own_transaction(const own_transaction&) = delete;
  own_transaction& operator=(const own_transaction&) = delete;

  void commit() {
    if (owned_) {
      owned_ = false;
      db_.commit();
    }
  }

private:
  database& db_;
  bool owned_;
};

[[noreturn]] void throw_constraint(const char* operation,
                                   const std::string& what) {
  throw storage_error(storage_errc::constraint,
                      std::string{operation} + ": " + what);
}

[[noreturn]] void throw_not_found(const char* operation, const char* what,
                                  const std::string& key) {
  throw storage_error(storage_errc::not_found,
                      std::string{operation} + ": no " + what + " " + key);
}

/// Enforces a VARCHAR(n) limit of the schema up front: SQLite ignores them,
/// so without this the same value would fail on PostgreSQL and MySQL only.
/// Counts code points, as the servers do for utf8 text.
void check_length(const char* operation, const char* column,
                  const std::string& value, std::size_t limit) {
  if (value.size() <= limit)
    return;
  auto chars = static_cast<std::size_t>(
    std::count_if(value.begin(), value.end(),
                  [](unsigned char ch) { return (ch & 0xC0) != 0x80; }));
  if (chars > limit)
    throw_constraint(operation, std::string{column} + " is longer than "
                                  + std::to_string(limit) + " characters");
}

/// TEXT columns (preferences, setting value and description) hold at most
/// 65535 bytes on MySQL/MariaDB and are unbounded elsewhere: one limit for all.
void check_text(const char* operation, const char* column,
                const std::string& value) {
  constexpr std::size_t limit = 65535;
  if (value.size() > limit)
    throw_constraint(operation, std::string{column} + " is longer than "
                                  + std::to_string(limit) + " bytes");
}

void check_required(const char* operation, const char* column,
                    const std::string& value) {
  if (value.empty())
    throw_constraint(operation, std::string{column} + " must not be empty");
}

void check_user(const char* operation, const user_record& user) {
  check_required(operation, "name", user.name);
  check_required(operation, "email", user.email);
  check_required(operation, "status", user.status);
  check_length(operation, "name", user.name, 255);
  check_length(operation, "email", user.email, 255);
  check_length(operation, "avatar_url", user.avatar_url, 1024);
  check_length(operation, "status", user.status, 32);
  check_text(operation, "preferences", user.preferences);
}

void check_session_status(const char* operation, const std::string& status) {
  if (status != "active" && status != "inactive")
    throw_constraint(operation, "session status must be \"active\" or "
                                "\"inactive\"");
}

/// The LIKE pattern for a case-insensitive substring search: `!` escapes
/// the wildcards and itself (a backslash would need different quoting on
/// MySQL), ASCII letters are lowered here and the server lowers the rest
/// with the same LOWER() it applies to the column.
std::string like_pattern(const std::string& text) {
  std::string result = "%";
  for (char ch : text) {
    if (ch == '%' || ch == '_' || ch == '!')
      result += '!';
    result += ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  result += '%';
  return result;
}

/// The page asked for, with page >= 1 and limit clamped to 1..100 (the REST
/// layer checks them; this only keeps OFFSET arithmetic safe).
page_info page_of(const page_request& request, long long total) {
  page_info result;
  result.page = std::max<std::int64_t>(request.page, 1);
  result.limit = std::clamp<std::int64_t>(request.limit, 1, 100);
  result.total = total;
  result.pages = (total + result.limit - 1) / result.limit;
  return result;
}

/// Whether the page holds rows at all; if not, the item query is skipped
/// (this also keeps (page - 1) * limit from overflowing).
bool has_rows(const page_info& info) {
  return info.page <= info.pages;
}

long long offset_of(const page_info& info) {
  return (info.page - 1) * info.limit;
}

} // namespace

// -- prepared statements ------------------------------------------------------

/// Parameter and result buffers plus the statements bound to them, prepared
/// on first use and then only re-executed (as in chat_repository). Optional
/// filters are part of each statement, switched by an `all_*` flag parameter
/// (`:all_x = 1 OR col = :x`), so that one prepared statement serves every
/// combination. A name appears only once per statement: SQLite would merge
/// repeated names into one parameter, PostgreSQL would not. Buffers come
/// first so that they outlive the statements.
struct admin_repository::statements {
  explicit statements(database& db)
    : sql(db.sql()), returning(db.backend() == db_backend::postgresql) {
    // nop
  }

  soci::session& sql;
  bool returning; // PostgreSQL: new ids come from INSERT ... RETURNING id

  // Parameters.
  long long id = 0;
  long long user_id = 0;
  long long owner_id = 0;
  int all_users = 0;
  int all_sessions = 0;
  int all_statuses = 0;
  int all_categories = 0;
  std::string name_pattern;
  std::string email_pattern;
  std::string text; // email, status, category or setting key
  std::string now;
  long long limit = 0;
  long long offset = 0;

  // Rows written and read.
  user_row user_in;
  user_row user_out;
  session_row session_in;
  session_row session_out;
  message_row message_out;
  setting_row setting_in;
  setting_row setting_out;
  long long new_id = 0;
  long long scalar = 0;

  std::unique_ptr<soci::statement> count_users_st;
  std::unique_ptr<soci::statement> users_page_st;
  std::unique_ptr<soci::statement> find_user_st;
  std::unique_ptr<soci::statement> find_user_by_email_st;
  std::unique_ptr<soci::statement> insert_user_st;
  std::unique_ptr<soci::statement> update_user_st;
  std::unique_ptr<soci::statement> detach_sessions_st;
  std::unique_ptr<soci::statement> detach_messages_st;
  std::unique_ptr<soci::statement> delete_user_st;
  std::unique_ptr<soci::statement> count_sessions_st;
  std::unique_ptr<soci::statement> sessions_page_st;
  std::unique_ptr<soci::statement> find_session_st;
  std::unique_ptr<soci::statement> session_messages_st;
  std::unique_ptr<soci::statement> update_session_st;
  std::unique_ptr<soci::statement> delete_session_messages_st;
  std::unique_ptr<soci::statement> delete_session_events_st;
  std::unique_ptr<soci::statement> delete_session_st;
  std::unique_ptr<soci::statement> count_messages_st;
  std::unique_ptr<soci::statement> messages_page_st;
  std::unique_ptr<soci::statement> list_settings_st;
  std::unique_ptr<soci::statement> find_setting_st;
  std::unique_ptr<soci::statement> insert_setting_st;
  std::unique_ptr<soci::statement> update_setting_st;

  template <class Bind>
  soci::statement& prepared(std::unique_ptr<soci::statement>& slot,
                            const std::string& query, Bind&& bind) {
    last = &slot; // every execution follows right after this call
    if (!slot) {
      auto st = std::make_unique<soci::statement>(sql);
      bind(*st);
      st->alloc();
      st->prepare(query);
      st->define_and_bind();
      slot = std::move(st);
    }
    return *slot;
  }

  long long execute_insert(soci::statement& st, const char* table) {
    new_id = 0;
    st.execute(true);
    if (!returning && !sql.get_last_insert_id(table, new_id))
      throw storage_error(storage_errc::internal,
                          std::string{"no id for the new row in "} + table);
    return new_id;
  }

  /// Runs a write and returns the number of rows it touched.
  long long execute_write(soci::statement& st) {
    st.execute(true);
    return st.get_affected_rows();
  }

  // -- users ------------------------------------------------------------------

  /// Matches every user when `all_users` is 1, else those whose name or
  /// email contains the search text (patterns from like_pattern()).
  static constexpr const char* user_filter
    = " WHERE (:all_users = 1"
      " OR LOWER(u.name) LIKE LOWER(:name_pattern) ESCAPE '!'"
      " OR LOWER(u.email) LIKE LOWER(:email_pattern) ESCAPE '!')";

  void bind_user_filter(soci::statement& stmt) {
    stmt.exchange(soci::use(all_users));
    stmt.exchange(soci::use(name_pattern));
    stmt.exchange(soci::use(email_pattern));
  }

  soci::statement& count_users() {
    return prepared(count_users_st,
                    std::string{"SELECT COUNT(*) FROM users u"} + user_filter,
                    [this](soci::statement& stmt) {
                      stmt.exchange(soci::into(scalar));
                      bind_user_filter(stmt);
                    });
  }

  soci::statement& users_page() {
    return prepared(users_page_st,
                    std::string{"SELECT "} + user_columns + " FROM users u"
                      + user_filter
                      + " ORDER BY u.id LIMIT :limit OFFSET :offset",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, user_out);
                      bind_user_filter(stmt);
                      stmt.exchange(soci::use(limit));
                      stmt.exchange(soci::use(offset));
                    });
  }

  soci::statement& find_user() {
    return prepared(find_user_st,
                    std::string{"SELECT "} + user_columns
                      + " FROM users u WHERE u.id = :id",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, user_out);
                      stmt.exchange(soci::use(id));
                    });
  }

  soci::statement& find_user_by_email() {
    return prepared(find_user_by_email_st,
                    std::string{"SELECT "} + user_columns
                      + " FROM users u WHERE u.email = :email",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, user_out);
                      stmt.exchange(soci::use(text));
                    });
  }

  long long insert_user() {
    std::string query
      = "INSERT INTO users (name, email, avatar_url, status, preferences, "
        "created_at, updated_at) VALUES (:name, :email, :avatar_url, "
        ":status, :preferences, :created_at, :updated_at)";
    if (returning)
      query += " RETURNING id";
    auto& st = prepared(insert_user_st, query, [this](soci::statement& stmt) {
      auto& row = user_in;
      use(stmt, row.name);
      use(stmt, row.email);
      use(stmt, row.avatar_url);
      use(stmt, row.status);
      use(stmt, row.preferences);
      use(stmt, row.created_at);
      use(stmt, row.updated_at);
      if (returning)
        stmt.exchange(soci::into(new_id));
    });
    return execute_insert(st, "users");
  }

  void update_user() {
    auto& st = prepared(update_user_st,
                        "UPDATE users SET name = :name, email = :email, "
                        "avatar_url = :avatar_url, status = :status, "
                        "preferences = :preferences, updated_at = :updated_at "
                        "WHERE id = :id",
                        [this](soci::statement& stmt) {
                          auto& row = user_in;
                          use(stmt, row.name);
                          use(stmt, row.email);
                          use(stmt, row.avatar_url);
                          use(stmt, row.status);
                          use(stmt, row.preferences);
                          use(stmt, row.updated_at);
                          stmt.exchange(soci::use(id));
                        });
    st.execute(true);
  }

  void detach_sessions() {
    auto& st = prepared(detach_sessions_st,
                        "UPDATE chat_sessions SET user_id = NULL "
                        "WHERE user_id = :id",
                        [this](soci::statement& stmt) {
                          stmt.exchange(soci::use(id));
                        });
    st.execute(true);
  }

  void detach_messages() {
    auto& st = prepared(detach_messages_st,
                        "UPDATE messages SET user_id = NULL "
                        "WHERE user_id = :id",
                        [this](soci::statement& stmt) {
                          stmt.exchange(soci::use(id));
                        });
    st.execute(true);
  }

  long long delete_user() {
    return execute_write(prepared(delete_user_st,
                                  "DELETE FROM users WHERE id = :id",
                                  [this](soci::statement& stmt) {
                                    stmt.exchange(soci::use(id));
                                  }));
  }

  std::optional<user_record> fetch_user(std::int64_t user) {
    id = user;
    std::optional<user_record> result;
    fetch_one(find_user(), [&] { result = user_out.to_record(); });
    return result;
  }

  std::optional<user_record> fetch_user_by_email(const std::string& email) {
    text = email;
    std::optional<user_record> result;
    fetch_one(find_user_by_email(), [&] { result = user_out.to_record(); });
    return result;
  }

  // -- sessions ---------------------------------------------------------------

  static constexpr const char* session_filter
    = " WHERE (:all_users = 1 OR s.user_id = :user_id)"
      " AND (:all_statuses = 1 OR s.status = :status)";

  void bind_session_filter(soci::statement& stmt) {
    stmt.exchange(soci::use(all_users));
    stmt.exchange(soci::use(user_id));
    stmt.exchange(soci::use(all_statuses));
    stmt.exchange(soci::use(text));
  }

  soci::statement& count_sessions() {
    return prepared(count_sessions_st,
                    std::string{"SELECT COUNT(*) FROM chat_sessions s"}
                      + session_filter,
                    [this](soci::statement& stmt) {
                      stmt.exchange(soci::into(scalar));
                      bind_session_filter(stmt);
                    });
  }

  soci::statement& sessions_page() {
    return prepared(sessions_page_st,
                    std::string{"SELECT "} + session_columns
                      + " FROM chat_sessions s" + session_filter
                      + " ORDER BY s.updated_at DESC, s.id DESC"
                        " LIMIT :limit OFFSET :offset",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, session_out);
                      bind_session_filter(stmt);
                      stmt.exchange(soci::use(limit));
                      stmt.exchange(soci::use(offset));
                    });
  }

  soci::statement& find_session() {
    return prepared(find_session_st,
                    std::string{"SELECT "} + session_columns
                      + " FROM chat_sessions s WHERE s.id = :id",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, session_out);
                      stmt.exchange(soci::use(id));
                    });
  }

  soci::statement& session_messages() {
    return prepared(session_messages_st,
                    std::string{"SELECT "} + message_columns
                      + " FROM messages m WHERE m.session_id = :id"
                        " ORDER BY m.created_at, m.id",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, message_out);
                      stmt.exchange(soci::use(id));
                    });
  }

  void update_session() {
    auto& st = prepared(update_session_st,
                        "UPDATE chat_sessions SET title = :title, "
                        "status = :status, updated_at = :updated_at "
                        "WHERE id = :id",
                        [this](soci::statement& stmt) {
                          auto& row = session_in;
                          use(stmt, row.title);
                          use(stmt, row.status);
                          use(stmt, row.updated_at);
                          stmt.exchange(soci::use(id));
                        });
    st.execute(true);
  }

  void delete_session_messages() {
    auto& st = prepared(delete_session_messages_st,
                        "DELETE FROM messages WHERE session_id = :id",
                        [this](soci::statement& stmt) {
                          stmt.exchange(soci::use(id));
                        });
    st.execute(true);
  }

  void delete_session_events() {
    auto& st = prepared(delete_session_events_st,
                        "DELETE FROM chat_events WHERE session_id = :id",
                        [this](soci::statement& stmt) {
                          stmt.exchange(soci::use(id));
                        });
    st.execute(true);
  }

  long long delete_session() {
    return execute_write(prepared(delete_session_st,
                                  "DELETE FROM chat_sessions WHERE id = :id",
                                  [this](soci::statement& stmt) {
                                    stmt.exchange(soci::use(id));
                                  }));
  }

  std::optional<session_listing> fetch_session(std::int64_t session) {
    id = session;
    std::optional<session_listing> result;
    fetch_one(find_session(), [&] { result = session_out.to_listing(); });
    return result;
  }

  // -- messages ---------------------------------------------------------------

  // The user filter takes the user's own messages (user_id) and every
  // message of the user's sessions: assistant and agent rows carry no
  // user_id, but belong to the conversation the user had.
  static constexpr const char* message_filter
    = " WHERE (:all_sessions = 1 OR m.session_id = :session_id)"
      " AND (:all_users = 1 OR m.user_id = :user_id"
      " OR EXISTS (SELECT 1 FROM chat_sessions o"
      " WHERE o.id = m.session_id AND o.user_id = :owner_id))";

  void bind_message_filter(soci::statement& stmt) {
    stmt.exchange(soci::use(all_sessions));
    stmt.exchange(soci::use(id));
    stmt.exchange(soci::use(all_users));
    stmt.exchange(soci::use(user_id));
    stmt.exchange(soci::use(owner_id));
  }

  soci::statement& count_messages() {
    return prepared(count_messages_st,
                    std::string{"SELECT COUNT(*) FROM messages m"}
                      + message_filter,
                    [this](soci::statement& stmt) {
                      stmt.exchange(soci::into(scalar));
                      bind_message_filter(stmt);
                    });
  }

  soci::statement& messages_page() {
    return prepared(messages_page_st,
                    std::string{"SELECT "} + message_columns
                      + " FROM messages m" + message_filter
                      + " ORDER BY m.created_at, m.id"
                        " LIMIT :limit OFFSET :offset",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, message_out);
                      bind_message_filter(stmt);
                      stmt.exchange(soci::use(limit));
                      stmt.exchange(soci::use(offset));
                    });
  }

  // -- settings ---------------------------------------------------------------

  soci::statement& list_settings() {
    return prepared(list_settings_st,
                    std::string{"SELECT "} + setting_columns
                      + " FROM system_settings t"
                        " WHERE (:all_categories = 1 OR t.category = :category)"
                        " ORDER BY t.setting_key",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, setting_out);
                      stmt.exchange(soci::use(all_categories));
                      stmt.exchange(soci::use(text));
                    });
  }

  soci::statement& find_setting() {
    return prepared(find_setting_st,
                    std::string{"SELECT "} + setting_columns
                      + " FROM system_settings t WHERE t.setting_key = :key",
                    [this](soci::statement& stmt) {
                      bind_into(stmt, setting_out);
                      stmt.exchange(soci::use(text));
                    });
  }

  long long insert_setting() {
    std::string query
      = "INSERT INTO system_settings (setting_key, value, description, "
        "category, created_at, updated_at) VALUES (:key, :value, "
        ":description, :category, :created_at, :updated_at)";
    if (returning)
      query += " RETURNING id";
    auto& st = prepared(insert_setting_st, query, [this](soci::statement& stmt) {
      auto& row = setting_in;
      use(stmt, row.key);
      use(stmt, row.value);
      use(stmt, row.description);
      use(stmt, row.category);
      use(stmt, row.created_at);
      use(stmt, row.updated_at);
      if (returning)
        stmt.exchange(soci::into(new_id));
    });
    return execute_insert(st, "system_settings");
  }

  void update_setting() {
    auto& st = prepared(update_setting_st,
                        "UPDATE system_settings SET value = :value, "
                        "description = :description, updated_at = :updated_at "
                        "WHERE id = :id",
                        [this](soci::statement& stmt) {
                          auto& row = setting_in;
                          use(stmt, row.value);
                          use(stmt, row.description);
                          use(stmt, row.updated_at);
                          stmt.exchange(soci::use(id));
                        });
    st.execute(true);
  }

  std::optional<setting_record> fetch_setting(const std::string& key) {
    text = key;
    std::optional<setting_record> result;
    fetch_one(find_setting(), [&] { result = setting_out.to_record(); });
    return result;
  }

  // -- failures ---------------------------------------------------------------

  /// The statement that threw last. SOCI 4.0.3 cannot re-execute such a
  /// statement safely (on PostgreSQL, a NULL parameter then resends the
  /// value of the failed execution), so it is prepared afresh next time:
  /// at the next call, when the caller has rolled back and the server
  /// accepts the DEALLOCATE.
  std::unique_ptr<soci::statement>* last = nullptr;
  std::unique_ptr<soci::statement>* broken = nullptr;

  void recover() {
    if (broken != nullptr) {
      broken->reset();
      broken = nullptr;
    }
  }

  /// Call from a catch block: translates the exception in flight.
  [[noreturn]] void fail(const char* context) {
    try {
      throw;
    } catch (const storage_error&) {
      throw; // ours (not_found, ...): no statement failed
    } catch (...) {
      broken = last;
      detail::rethrow_as_storage_error(context);
    }
  }
};

// -- admin_repository ---------------------------------------------------------

admin_repository::admin_repository(database& db)
  : db_(db), stmts_(std::make_unique<statements>(db)) {
  // nop
}

admin_repository::~admin_repository() {
  // nop
}

// -- users --------------------------------------------------------------------

user_page admin_repository::list_users(const user_query& query) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    s.all_users = query.search.empty() ? 1 : 0;
    s.name_pattern = like_pattern(query.search);
    s.email_pattern = s.name_pattern;
    // One transaction: the total and the page come from the same data.
    own_transaction trans{db_};
    s.scalar = 0;
    fetch_one(s.count_users(), [] {});
    user_page result;
    result.page = page_of(query.page, s.scalar);
    if (has_rows(result.page)) {
      s.limit = result.page.limit;
      s.offset = offset_of(result.page);
      fetch_all(s.users_page(),
                [&] { result.items.push_back(s.user_out.to_record()); });
    }
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("list_users");
  }
}

user_record admin_repository::find_user(std::int64_t id) {
  try {
    stmts_->recover();
    auto result = stmts_->fetch_user(id);
    if (!result)
      throw_not_found("find_user", "user with id", std::to_string(id));
    return std::move(*result);
  } catch (...) {
    stmts_->fail("find_user");
  }
}

std::optional<user_record>
admin_repository::find_user_by_email(const std::string& email) {
  try {
    stmts_->recover();
    return stmts_->fetch_user_by_email(email);
  } catch (...) {
    stmts_->fail("find_user_by_email");
  }
}

user_record admin_repository::create_user(const new_user& user) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    user_record result;
    result.name = user.name;
    result.email = user.email;
    result.avatar_url = user.avatar_url;
    result.status = "active";
    result.preferences = user.preferences.empty() ? "{}" : user.preferences;
    check_user("create_user", result);
    own_transaction trans{db_};
    // Checked first so that a taken email neither aborts the caller's
    // PostgreSQL transaction nor burns an id; the UNIQUE constraint still
    // catches a concurrent insert below.
    if (s.fetch_user_by_email(result.email))
      throw_constraint("create_user", "the email is already taken");
    result.created_at = utc_timestamp();
    result.updated_at = result.created_at;
    s.user_in.assign(result);
    try {
      result.id = s.insert_user();
    } catch (const storage_error&) {
      throw;
    } catch (...) {
      s.broken = s.last;
      try {
        detail::rethrow_as_storage_error("create_user");
      } catch (const storage_error& err) {
        // The only constraint a users row can break here is uq_users_email.
        if (err.code() == storage_errc::constraint)
          throw_constraint("create_user", "the email is already taken");
        throw;
      }
    }
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("create_user");
  }
}

user_record admin_repository::update_user(std::int64_t id,
                                          const user_patch& patch) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    // Only the fields being set are checked: rows written elsewhere may
    // lack a name, and that must not block e.g. a status change.
    const char* op = "update_user";
    if (patch.set_name) {
      check_required(op, "name", patch.name);
      check_length(op, "name", patch.name, 255);
    }
    if (patch.set_email) {
      check_required(op, "email", patch.email);
      check_length(op, "email", patch.email, 255);
    }
    if (patch.set_avatar_url)
      check_length(op, "avatar_url", patch.avatar_url, 1024);
    if (patch.set_status) {
      check_required(op, "status", patch.status);
      check_length(op, "status", patch.status, 32);
    }
    if (patch.set_preferences)
      check_text(op, "preferences", patch.preferences);
    own_transaction trans{db_};
    auto found = s.fetch_user(id);
    if (!found)
      throw_not_found(op, "user with id", std::to_string(id));
    auto result = std::move(*found);
    if (patch.set_email && patch.email != result.email) {
      if (s.fetch_user_by_email(patch.email))
        throw_constraint(op, "the email is already taken");
      result.email = patch.email;
    }
    if (patch.set_name)
      result.name = patch.name;
    if (patch.set_avatar_url)
      result.avatar_url = patch.avatar_url;
    if (patch.set_status)
      result.status = patch.status;
    if (patch.set_preferences)
      result.preferences = patch.preferences.empty() ? "{}" : patch.preferences;
    result.updated_at = utc_timestamp();
    s.user_in.assign(result);
    s.id = id;
    try {
      s.update_user();
    } catch (...) {
      s.broken = s.last;
      try {
        detail::rethrow_as_storage_error(op);
      } catch (const storage_error& err) {
        // A concurrent writer took the email after the check above.
        if (err.code() == storage_errc::constraint)
          throw_constraint(op, "the email is already taken");
        throw;
      }
    }
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("update_user");
  }
}

void admin_repository::remove_user(std::int64_t id) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    own_transaction trans{db_};
    s.id = id;
    // ON DELETE SET NULL does this for sessions on every backend (SQLite
    // only with PRAGMA foreign_keys, which database sets); done explicitly
    // anyway so that it does not depend on that pragma. messages.user_id
    // has no foreign key: the deleted user's messages become anonymous too
    // instead of pointing at an id that no longer exists.
    s.detach_sessions();
    s.detach_messages();
    if (s.delete_user() == 0)
      throw_not_found("remove_user", "user with id", std::to_string(id));
    trans.commit();
  } catch (...) {
    stmts_->fail("remove_user");
  }
}

user_record admin_repository::find_or_create_user(const std::string& email,
                                                  const std::string& name) {
  try {
    stmts_->recover();
    own_transaction trans{db_};
    auto found = stmts_->fetch_user_by_email(email);
    if (found) {
      trans.commit();
      return std::move(*found);
    }
    new_user request;
    request.name = name;
    request.email = email;
    auto result = create_user(request);
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("find_or_create_user");
  }
}

// -- sessions -----------------------------------------------------------------

session_page admin_repository::list_sessions(const session_query& query) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    s.all_users = query.user_id == 0 ? 1 : 0;
    s.user_id = query.user_id;
    s.all_statuses = query.status.empty() || query.status == "all" ? 1 : 0;
    s.text = query.status;
    own_transaction trans{db_};
    s.scalar = 0;
    fetch_one(s.count_sessions(), [] {});
    session_page result;
    result.page = page_of(query.page, s.scalar);
    if (has_rows(result.page)) {
      s.limit = result.page.limit;
      s.offset = offset_of(result.page);
      fetch_all(s.sessions_page(),
                [&] { result.items.push_back(s.session_out.to_listing()); });
    }
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("list_sessions");
  }
}

session_details admin_repository::find_session(std::int64_t id,
                                               bool with_messages) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    own_transaction trans{db_};
    auto found = s.fetch_session(id);
    if (!found)
      throw_not_found("find_session", "chat session with id",
                      std::to_string(id));
    session_details result;
    result.listing = std::move(*found);
    result.with_messages = with_messages;
    if (with_messages) {
      s.id = id;
      fetch_all(s.session_messages(),
                [&] { result.messages.push_back(s.message_out.to_record()); });
    }
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("find_session");
  }
}

session_listing admin_repository::update_session(std::int64_t id,
                                                 const session_patch& patch) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    if (patch.set_title)
      check_length("update_session", "title", patch.title, 255);
    if (patch.set_status)
      check_session_status("update_session", patch.status);
    own_transaction trans{db_};
    auto found = s.fetch_session(id);
    if (!found)
      throw_not_found("update_session", "chat session with id",
                      std::to_string(id));
    auto result = std::move(*found);
    auto& session = result.session;
    if (patch.set_title)
      session.title = patch.title;
    if (patch.set_status)
      session.status = patch.status;
    session.updated_at = utc_timestamp();
    s.session_in.title.set_or_null(session.title);
    s.session_in.status.set(session.status);
    s.session_in.updated_at.set(session.updated_at);
    s.id = id;
    s.update_session();
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("update_session");
  }
}

void admin_repository::remove_session(std::int64_t id) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    own_transaction trans{db_};
    s.id = id;
    // Children first, explicitly: the cascades would do it, but SQLite only
    // with PRAGMA foreign_keys.
    s.delete_session_messages();
    s.delete_session_events();
    if (s.delete_session() == 0)
      throw_not_found("remove_session", "chat session with id",
                      std::to_string(id));
    trans.commit();
  } catch (...) {
    stmts_->fail("remove_session");
  }
}

// -- messages -----------------------------------------------------------------

message_page admin_repository::list_messages(const message_query& query) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    s.all_sessions = query.session_id == 0 ? 1 : 0;
    s.id = query.session_id;
    s.all_users = query.user_id == 0 ? 1 : 0;
    s.user_id = query.user_id;
    s.owner_id = query.user_id;
    own_transaction trans{db_};
    s.scalar = 0;
    fetch_one(s.count_messages(), [] {});
    message_page result;
    result.page = page_of(query.page, s.scalar);
    if (has_rows(result.page)) {
      s.limit = result.page.limit;
      s.offset = offset_of(result.page);
      fetch_all(s.messages_page(),
                [&] { result.items.push_back(s.message_out.to_record()); });
    }
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("list_messages");
  }
}

// -- settings -----------------------------------------------------------------

std::vector<setting_record>
admin_repository::list_settings(const std::string& category) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    s.all_categories = category.empty() ? 1 : 0;
    s.text = category;
    std::vector<setting_record> result;
    fetch_all(s.list_settings(),
              [&] { result.push_back(s.setting_out.to_record()); });
    return result;
  } catch (...) {
    stmts_->fail("list_settings");
  }
}

setting_record admin_repository::find_setting(const std::string& key) {
  try {
    stmts_->recover();
    auto result = stmts_->fetch_setting(key);
    if (!result)
      throw_not_found("find_setting", "setting", key);
    return std::move(*result);
  } catch (...) {
    stmts_->fail("find_setting");
  }
}

setting_record admin_repository::put_setting(const std::string& key,
                                             const setting_patch& patch) {
  try {
    stmts_->recover();
    auto& s = *stmts_;
    check_required("put_setting", "key", key);
    check_length("put_setting", "key", key, 128);
    check_text("put_setting", "value", patch.value);
    if (patch.set_description)
      check_text("put_setting", "description", patch.description);
    own_transaction trans{db_};
    auto now = utc_timestamp();
    auto found = s.fetch_setting(key);
    setting_record result;
    if (found) {
      result = std::move(*found);
      result.value = patch.value;
      if (patch.set_description)
        result.description = patch.description;
      result.updated_at = now;
      s.setting_in.value.set(result.value);
      s.setting_in.description.set_or_null(result.description);
      s.setting_in.updated_at.set(now);
      s.id = result.id;
      s.update_setting();
    } else {
      result.key = key;
      result.value = patch.value;
      result.description = patch.set_description ? patch.description
                                                 : std::string{};
      result.category = "general";
      result.created_at = now;
      result.updated_at = now;
      s.setting_in.key.set(result.key);
      s.setting_in.value.set(result.value);
      s.setting_in.description.set_or_null(result.description);
      s.setting_in.category.set(result.category);
      s.setting_in.created_at.set(now);
      s.setting_in.updated_at.set(now);
      result.id = s.insert_setting();
    }
    trans.commit();
    return result;
  } catch (...) {
    stmts_->fail("put_setting");
  }
}

} // namespace parley::storage
