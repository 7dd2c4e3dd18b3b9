#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/test_databases.hpp"

namespace parley::storage {
class database;
} // namespace parley::storage

namespace parley::test {

/// Counts rows in the server's database with plain SQL over a connection of
/// its own, on any backend, while the server runs. For what the REST API
/// cannot show (a cascade reached chat_events).
class rest_db_probe {
public:
  explicit rest_db_probe(scratch_database& db);
  ~rest_db_probe();

  rest_db_probe(const rest_db_probe&) = delete;
  rest_db_probe& operator=(const rest_db_probe&) = delete;

  /// Rows of `table` ("messages" or "chat_events") with this session_id.
  std::int64_t rows(const std::string& table, std::int64_t session_id);

  /// The connection, for tests that need more (a lock on SQLite).
  storage::database& db() {
    return *db_;
  }

private:
  std::unique_ptr<storage::database> db_;
};

} // namespace parley::test
