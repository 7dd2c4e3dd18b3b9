#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley {

enum class db_backend { sqlite, postgresql, mysql };

const char* to_string(db_backend backend) noexcept;

/// A parsed DATABASE_URL, in the seeds' SQLAlchemy spelling:
///   sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory:
///   postgresql://user:pass@host:port/db   (also postgres://)
///   mysql://user:pass@host:port/db        (also mysql+pymysql://, mariadb://)
/// User and password are percent-decoded. Query parameters are not supported
/// and are rejected so that a typo is not silently ignored.
struct database_url {
  db_backend backend = db_backend::sqlite;
  std::string scheme;    // as written, lower-case ("postgres", "mysql+pymysql")
  std::string path;      // sqlite: file path or ":memory:"
  std::string host;      // server backends
  std::uint16_t port = 0; // 0 = the backend's default port
  std::string user;
  std::string password;
  std::string database;

  /// SOCI's backend name: "sqlite3", "postgresql" or "mysql".
  std::string soci_backend() const;

  /// SOCI's connection string for this backend (contains the password):
  /// sqlite3 `db="path"`; mysql `host='..' port=.. db='..' user='..'
  /// password='..'`; postgresql the same with `dbname`, or a libpq URI when a
  /// value contains whitespace, which SOCI 4.0.3 cannot pass on otherwise.
  std::string soci_connect_string() const;

  /// The URL with the password replaced by "***", for logs and errors.
  std::string redacted() const;
};

/// Parses a DATABASE_URL; throws config_error naming what is wrong.
database_url parse_database_url(std::string_view url);

} // namespace parley
