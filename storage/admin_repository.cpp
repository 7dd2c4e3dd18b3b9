#include "storage/admin_repository.hpp"

#include <algorithm>
#include <utility>

#include <soci/soci.h>

#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "storage/error_translation.hpp"
#include "storage/sql_support.hpp"
#include "storage/storage_error.hpp"

namespace parley::storage {

// The shared SOCI plumbing: column, into/use, the message and session rows,
// fetch_one/fetch_all, statement_cache, own_transaction and the input checks.
using namespace detail;

namespace {

// -- rows ---------------------------------------------------------------------

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

/// A session_row plus its number of messages, as the session list shows it.
struct session_listing_row {
  session_row session;
  column<long long> message_count;

  session_listing to_listing() const {
    session_listing result;
    result.session = session.to_record();
    result.message_count = message_count.get();
    return result;
  }
};

// Appended to session_columns for bind_into(session_listing_row). The count
// is a correlated subquery (one statement for the whole page, served by
// idx_messages_session_seq), not a query per row.
constexpr const char* message_count_column
  = ", (SELECT COUNT(*) FROM messages c WHERE c.session_id = s.id)";

void bind_into(soci::statement& st, session_listing_row& row) {
  detail::bind_into(st, row.session);
  into(st, row.message_count);
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

/// Parameter and result buffers plus the statements bound to them (see
/// statement_cache). Optional
/// filters are part of each statement, switched by an `all_*` flag parameter
/// (`:all_x = 1 OR col = :x`), so that one prepared statement serves every
/// combination. A name appears only once per statement: SQLite would merge
/// repeated names into one parameter, PostgreSQL would not. Buffers come
/// first so that they outlive the statements.
struct admin_repository::statements : statement_cache {
  explicit statements(database& db) : statement_cache(db) {
    // nop
  }

  // Parameters.
  long long id = 0;
  long long user_id = 0;
  long long after_id = 0;
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
  session_listing_row session_out;
  message_row message_out;
  setting_row setting_in;
  setting_row setting_out;

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
    return insert(
      insert_user_st, "users",
      "INSERT INTO users (name, email, avatar_url, status, preferences, "
      "created_at, updated_at) VALUES (:name, :email, :avatar_url, "
      ":status, :preferences, :created_at, :updated_at)",
      [this](soci::statement& stmt) {
        auto& row = user_in;
        use(stmt, row.name);
        use(stmt, row.email);
        use(stmt, row.avatar_url);
        use(stmt, row.status);
        use(stmt, row.preferences);
        use(stmt, row.created_at);
        use(stmt, row.updated_at);
      });
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
                      + message_count_column + " FROM chat_sessions s"
                      + session_filter
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
                      + message_count_column
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
      " AND (:all_users = 1 OR m.user_id = :user_id)"
      " AND m.id > :after_id";

  void bind_message_filter(soci::statement& stmt) {
    stmt.exchange(soci::use(all_sessions));
    stmt.exchange(soci::use(id));
    stmt.exchange(soci::use(all_users));
    stmt.exchange(soci::use(user_id));
    stmt.exchange(soci::use(after_id));
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
    return insert(
      insert_setting_st, "system_settings",
      "INSERT INTO system_settings (setting_key, value, description, "
      "category, created_at, updated_at) VALUES (:key, :value, "
      ":description, :category, :created_at, :updated_at)",
      [this](soci::statement& stmt) {
        auto& row = setting_in;
        use(stmt, row.key);
        use(stmt, row.value);
        use(stmt, row.description);
        use(stmt, row.category);
        use(stmt, row.created_at);
        use(stmt, row.updated_at);
      });
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
    auto total = s.fetch_scalar(s.count_users());
    user_page result;
    result.page = page_of(query.page, total);
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
      throw_not_found("find_user", "user", std::to_string(id));
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
      throw_not_found(op, "user", std::to_string(id));
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
      throw_not_found("remove_user", "user", std::to_string(id));
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
    auto total = s.fetch_scalar(s.count_sessions());
    session_page result;
    result.page = page_of(query.page, total);
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
      throw_unknown_session("find_session", id);
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
      throw_unknown_session("update_session", id);
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
      throw_unknown_session("remove_session", id);
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
    s.after_id = query.after_id;
    own_transaction trans{db_};
    auto total = s.fetch_scalar(s.count_messages());
    message_page result;
    result.page = page_of(query.page, total);
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
