#include "storage/database.hpp"

#include <exception>
#include <filesystem>
#include <string>
#include <system_error>

#include <soci/mysql/soci-mysql.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "storage/error_translation.hpp"
#include "storage/storage_error.hpp"

namespace parley::storage {

namespace {

// Seconds a server connect may take before we report `unavailable`.
constexpr const char* connect_timeout_seconds = "10";

// How long a SQLite write waits for the file's write lock (another process
// holding it, or another worker of a larger pool) before it fails with
// `unavailable`. Short: the persistence worker blocks meanwhile, and a
// client waits for its ack or its storage_unavailable error.
constexpr int sqlite_busy_timeout_ms = 2000;

// The same for the write probe of health checks: a lock held elsewhere is
// reported at once.
constexpr int sqlite_probe_busy_timeout_ms = 100;

bool is_memory_path(const std::string& path) {
  return path == ":memory:";
}

std::string sqlite_connect_string(const std::string& path) {
  // SOCI's SQLite parser knows double quotes (for spaces) but no escapes.
  if (path.find('"') != std::string::npos)
    throw storage_error(storage_errc::unavailable,
                        "SQLite path must not contain '\"': " + path);
  // SOCI's `timeout` is in seconds; configure_sqlite sets the exact value.
  return "db=\"" + path + "\" timeout=2";
}

// database_url knows host, port, names and credentials; the timeouts and
// the client character set are ours to pick.
std::string server_connect_string(const database_url& url) {
  auto result = url.soci_connect_string();
  if (url.backend == db_backend::postgresql) {
    // Values with spaces come as a libpq URI (SOCI 4.0.3 re-splits key=value
    // strings at whitespace); options then go into its query part.
    if (result.rfind("postgresql://", 0) == 0) {
      result += result.find('?') == std::string::npos ? '?' : '&';
      result += "connect_timeout=";
      result += connect_timeout_seconds;
      result += "&client_encoding=UTF8";
    } else {
      result += " connect_timeout=";
      result += connect_timeout_seconds;
      result += " client_encoding=UTF8 application_name=parley";
    }
  } else {
    result += " connect_timeout=";
    result += connect_timeout_seconds;
    // Without it the connection speaks latin1 or 3-byte utf8, and emoji in
    // messages fail or get mangled.
    result += " charset=utf8mb4";
  }
  return result;
}

/// Replaces every occurrence of the password, should a driver ever echo it.
std::string scrubbed(std::string text, const std::string& password) {
  if (password.empty())
    return text;
  for (auto pos = text.find(password); pos != std::string::npos;
       pos = text.find(password, pos + 3))
    text.replace(pos, password.size(), "***");
  return text;
}

void create_parent_folder(const std::string& path) {
  if (path.empty())
    throw storage_error(storage_errc::unavailable, "empty SQLite path");
  if (is_memory_path(path))
    return;
  auto parent = std::filesystem::path{path}.parent_path();
  if (parent.empty())
    return;
  std::error_code err;
  std::filesystem::create_directories(parent, err);
  if (err)
    throw storage_error(storage_errc::unavailable,
                        "cannot create folder " + parent.string() + ": "
                          + err.message());
}

void configure_sqlite(soci::session& sql) {
  // WAL lets readers (admin views) run beside the writer; FULL keeps a
  // committed group on disk across power loss. In-memory databases answer
  // "memory" here, which is fine.
  std::string mode;
  sql << "PRAGMA journal_mode=WAL", soci::into(mode);
  sql << "PRAGMA synchronous=FULL";
  // A checkpoint copies every page the WAL holds back into the database
  // file. Chat writes touch the same few index pages of each busy session
  // over and over, so checkpointing every 10,000 pages (40 MB of WAL, not
  // SQLite's 1,000) copies each of them once where it copied them ten
  // times: a third of the cost of a stored message.
  sql << "PRAGMA wal_autocheckpoint=10000";
  // Off by default in SQLite; our cascades and SET NULL depend on it.
  sql << "PRAGMA foreign_keys=ON";
  int timeout = 0;
  sql << "PRAGMA busy_timeout=" + std::to_string(sqlite_busy_timeout_ms),
    soci::into(timeout);
}

} // namespace

database::database(const database_url& url)
  : backend_(url.backend), description_(url.redacted()) {
  try {
    switch (backend_) {
      case db_backend::sqlite:
        create_parent_folder(url.path);
        sql_ = std::make_unique<soci::session>(soci::sqlite3,
                                               sqlite_connect_string(url.path));
        configure_sqlite(*sql_);
        break;
      case db_backend::postgresql:
        sql_ = std::make_unique<soci::session>(soci::postgresql,
                                               server_connect_string(url));
        // libpq prints NOTICEs to stderr, e.g. "relation ... already exists,
        // skipping" for every CREATE TABLE IF NOT EXISTS at each start.
        *sql_ << "SET client_min_messages TO WARNING";
        break;
      case db_backend::mysql:
        sql_ = std::make_unique<soci::session>(soci::mysql,
                                               server_connect_string(url));
        break;
    }
  } catch (const storage_error& err) {
    throw storage_error(err.code(), "cannot open " + description_ + ": "
                                      + scrubbed(err.what(), url.password));
  } catch (const std::exception& err) {
    throw storage_error(storage_errc::unavailable,
                        "cannot open " + description_ + ": "
                          + scrubbed(err.what(), url.password));
  }
  if (!sql_)
    throw storage_error(storage_errc::unavailable,
                        "unknown database backend for " + description_);
}

database::~database() {
  if (in_transaction_)
    rollback();
}

void database::begin() {
  if (in_transaction_)
    throw storage_error(storage_errc::internal,
                        "begin: a transaction is already open");
  try {
    // SQLite: take the write lock now. A deferred transaction that has read
    // and then writes while another connection holds the lock fails at once
    // with SQLITE_BUSY, without the busy timeout (SQLite cannot wait there
    // without risking a deadlock); IMMEDIATE waits for the lock up to the
    // busy timeout instead. COMMIT is SOCI's as for every backend.
    if (backend_ == db_backend::sqlite)
      *sql_ << "BEGIN IMMEDIATE";
    else
      sql_->begin();
  } catch (...) {
    detail::rethrow_as_storage_error("begin");
  }
  in_transaction_ = true;
}

void database::commit() {
  if (!in_transaction_)
    throw storage_error(storage_errc::internal, "commit: no open transaction");
  try {
    sql_->commit();
    in_transaction_ = false;
  } catch (...) {
    // SQLite keeps the transaction open after a failed COMMIT (e.g. busy);
    // roll back so that every backend ends in the same state.
    rollback();
    detail::rethrow_as_storage_error("commit");
  }
}

void database::rollback() noexcept {
  if (!in_transaction_)
    return;
  in_transaction_ = false;
  try {
    sql_->rollback();
  } catch (...) {
    // Nothing to do: a lost connection has rolled back on the server anyway.
  }
}

void database::probe_write() {
  if (backend_ != db_backend::sqlite) {
    ping();
    return;
  }
  if (in_transaction_)
    throw storage_error(storage_errc::internal,
                        "probe_write: a transaction is open");
  auto& sql = *sql_;
  try {
    sql << "PRAGMA busy_timeout=" + std::to_string(sqlite_probe_busy_timeout_ms);
    // Rewriting the header's user_version (unused by Parley) with its own
    // value commits one page: it needs the write lock and room to write.
    int version = 0;
    sql << "PRAGMA user_version", soci::into(version);
    sql << "PRAGMA user_version=" + std::to_string(version);
    sql << "PRAGMA busy_timeout=" + std::to_string(sqlite_busy_timeout_ms);
  } catch (...) {
    try {
      sql << "PRAGMA busy_timeout=" + std::to_string(sqlite_busy_timeout_ms);
    } catch (...) {
      // Only a broken connection fails here; its next batch fails as well,
      // and the persistence worker then opens a new one.
    }
    detail::rethrow_as_storage_error("write probe");
  }
}

void database::ping() {
  try {
    int one = 0;
    *sql_ << "SELECT 1", soci::into(one);
  } catch (const std::exception& err) {
    throw storage_error(storage_errc::unavailable,
                        "ping " + description_ + ": " + err.what());
  }
}

} // namespace parley::storage
