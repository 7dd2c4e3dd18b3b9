#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/database_url.hpp"

// The database servers tests run against. SQLite needs nothing; PostgreSQL
// and MariaDB are throw-away servers that a CTest fixture starts on loopback
// before the tests that need them and stops afterwards (tests/databases/).
namespace parley::test {

/// The backends every storage and REST test runs on: "sqlite", and
/// "postgresql" and "mariadb" when the fixture's servers are up. Without
/// them (a test binary run by hand) only "sqlite" is returned, with a note
/// on stderr; under CI (CI=true) a missing server is a hard failure instead.
std::vector<std::string> test_backends();

/// A fresh, empty database of its own on `backend` ("sqlite": a file in a
/// temporary folder), so tests running in parallel never share tables.
/// Dropped when the object goes away.
class scratch_database {
public:
  explicit scratch_database(const std::string& backend);
  ~scratch_database();

  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  const std::string& backend() const noexcept;

  /// The DATABASE_URL text, e.g. for `parley --database-url`.
  const std::string& url_text() const noexcept;

  database_url url() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace parley::test
