#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <soci/soci.h>

#include "storage/records.hpp"

namespace parley::storage {

class database;

} // namespace parley::storage

// Internal to parley_storage: the SOCI plumbing that chat_repository and
// admin_repository share, so that each piece exists once. Not a public header.
namespace parley::storage::detail {

// -- column buffers -----------------------------------------------------------

/// A bound value and its NULL indicator. Every column gets an indicator: the
/// LEFT JOIN lookups return all-NULL message columns when nothing matched,
/// and SOCI throws on NULL without one.
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

// -- rows both repositories read ----------------------------------------------

// long long rather than std::int64_t (long here): SOCI's native 64-bit type.

/// A row of `messages`.
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
  column<std::string> author;

  /// True when the row is the NULL side of a LEFT JOIN.
  bool is_null() const {
    return id.ind == soci::i_null;
  }

  message_record to_record() const;
};

// Select list matching bind_into(message_row); the table alias is `m`.
inline constexpr const char* message_columns
  = "m.id, m.session_id, m.user_id, m.is_user, m.role, m.content, "
    "m.message_type, m.tokens_used, m.response_time, m.client_id, "
    "m.reply_to, m.seq, m.source, m.finish_reason, m.created_at, m.author";

void bind_into(soci::statement& st, message_row& row);

/// A row of `chat_sessions`.
struct session_row {
  column<long long> id;
  column<long long> user_id;
  column<std::string> title;
  column<std::string> status;
  column<std::string> channel;
  column<std::string> resume_token_hash;
  column<std::string> created_at;
  column<std::string> updated_at;

  session_record to_record() const;
};

// Select list matching bind_into(session_row); the table alias is `s`.
inline constexpr const char* session_columns
  = "s.id, s.user_id, s.title, s.status, s.channel, s.resume_token_hash, "
    "s.created_at, s.updated_at";

void bind_into(soci::statement& st, session_row& row);

// -- running queries ----------------------------------------------------------

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

// -- prepared statements ------------------------------------------------------

/// The part of a repository's `statements` that does not depend on its
/// tables: each statement is prepared on first use and then only
/// re-executed (on PostgreSQL a server-side prepared statement, on SQLite a
/// cached sqlite3_stmt), and prepared afresh after it failed. A repository
/// derives its buffers and statements from this; the buffers here are
/// destroyed last, so they outlive the statements bound to them.
struct statement_cache {
  explicit statement_cache(database& db);

  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  soci::session& sql;
  bool returning; // PostgreSQL: new ids come from INSERT ... RETURNING id

  long long new_id = 0; // the id of the last insert()
  long long scalar = 0; // the result of fetch_scalar()

  /// The statement that threw last. SOCI 4.0.3 cannot re-execute such a
  /// statement safely (on PostgreSQL, a NULL parameter then resends the
  /// value of the failed execution), so it is prepared afresh next time:
  /// at the next call, when the caller has rolled back and the server
  /// accepts the DEALLOCATE.
  std::unique_ptr<soci::statement>* last = nullptr;
  std::unique_ptr<soci::statement>* broken = nullptr;

  /// The statement in `slot`, prepared with `query` on first use; `bind`
  /// binds its buffers before that.
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

  /// Runs the INSERT into `table` in `slot` (`bind` binds its values) and
  /// returns the id of the new row.
  template <class Bind>
  long long insert(std::unique_ptr<soci::statement>& slot, const char* table,
                   std::string query, Bind&& bind) {
    if (returning)
      query += " RETURNING id";
    auto& st = prepared(slot, query, [&](soci::statement& stmt) {
      bind(stmt);
      if (returning)
        stmt.exchange(soci::into(new_id));
    });
    return execute_insert(st, table);
  }

  /// Runs a query whose only column is bound to `scalar`; 0 without a row.
  long long fetch_scalar(soci::statement& st);

  /// Call first in every repository function: drops the statement that
  /// failed in the previous call.
  void recover();

  /// Call from a catch block: translates the exception in flight.
  [[noreturn]] void fail(const char* context);

private:
  long long execute_insert(soci::statement& st, const char* table);
};

// -- transactions -------------------------------------------------------------

/// Opens a transaction unless the caller has one; commits only its own.
class own_transaction {
public:
  explicit own_transaction(database& db);

  ~own_transaction();

  own_transaction(const own_transaction&) = delete;
  own_transaction& operator=(const own_transaction&) = delete;

  void commit();

private:
  database& db_;
  bool owned_;
};

// -- input checks and errors --------------------------------------------------

// Their messages are for API clients (409, 404): they say what is wrong,
// never which function noticed (`operation` documents the call site).

[[noreturn]] void throw_constraint(const char* operation,
                                   const std::string& what);

/// "no user 7", "no setting theme".
[[noreturn]] void throw_not_found(const char* operation, const char* what,
                                  const std::string& key);

/// "no session 7", from every operation alike.
[[noreturn]] void throw_unknown_session(const char* operation,
                                        std::int64_t session_id);

/// Enforces a VARCHAR(n) limit of the schema up front: SQLite ignores them,
/// so without this the same value would fail on PostgreSQL and MySQL only.
/// Counts code points, as the servers do for utf8 text.
void check_length(const char* operation, const char* column,
                  const std::string& value, std::size_t limit);

/// TEXT columns (preferences, setting value and description) hold at most
/// 65535 bytes on MySQL/MariaDB and are unbounded elsewhere: one limit for all.
void check_text(const char* operation, const char* column,
                const std::string& value);

void check_required(const char* operation, const char* column,
                    const std::string& value);

} // namespace parley::storage::detail
