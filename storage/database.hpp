#pragma once

#include <memory>
#include <string>

#include "config/database_url.hpp"

namespace soci {
class session;
} // namespace soci

namespace parley::storage {

/// One open connection to the chat store, with its dialect. Not thread-safe:
/// it belongs to one owner at a time (the persistence actor).
class database {
public:
  /// Opens the connection; SQLite files get WAL, synchronous=FULL, foreign
  /// keys and a busy timeout, and their parent folder is created. Throws
  /// storage_error(unavailable) when the database cannot be opened.
  explicit database(const database_url& url);
  ~database();

  database(const database&) = delete;
  database& operator=(const database&) = delete;

  db_backend backend() const noexcept {
    return backend_;
  }

  soci::session& sql() noexcept {
    return *sql_;
  }

  /// Explicit transaction control for group commit. Throws storage_error.
  /// begin() refuses to nest. When commit() throws, the transaction has been
  /// rolled back. On PostgreSQL any failed statement aborts the whole open
  /// transaction: the caller must roll back before using the connection.
  void begin();
  void commit();
  void rollback() noexcept;

  /// Whether begin() was called without commit() or rollback() since.
  bool in_transaction() const noexcept {
    return in_transaction_;
  }

  /// A cheap round trip (`SELECT 1`); throws storage_error(unavailable).
  void ping();

  /// Whether the database takes writes now. SQLite: a one-page commit (the
  /// header's user_version, rewritten with its own value) that waits at most
  /// 100 ms for the write lock; it fails while another process holds the
  /// lock or the disk (or the file size limit) is full. Other backends:
  /// ping(). Throws storage_error; not inside a transaction.
  void probe_write();

  /// The URL this connection was opened with, password redacted.
  const std::string& description() const noexcept {
    return description_;
  }

private:
  db_backend backend_;
  std::string description_;
  std::unique_ptr<soci::session> sql_;
  bool in_transaction_ = false;
};

/// Brings the schema up to the newest version: creates `schema_version` and
/// applies every migration not yet recorded there, in order, each in its own
/// transaction. The same migrations run on SQLite, PostgreSQL and MySQL;
/// dialect differences (auto-increment keys, types) are resolved per backend.
/// Returns the schema version now in place. Throws storage_error.
int migrate(database& db);

/// Like migrate(), but stops after version `target` (for testing upgrades).
int migrate_to(database& db, int target);

/// The newest schema version this build knows.
int latest_schema_version() noexcept;

/// Drops every Parley table (for tools/reset-db and tests).
void drop_schema(database& db);

} // namespace parley::storage
