#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/database_url.hpp"
#include "storage/database.hpp"
#include "tests/support/temp_dir.hpp"

namespace parley::storage::test {

using parley::test::temp_dir;

inline database_url sqlite_url(const std::string& path) {
  database_url url;
  url.backend = db_backend::sqlite;
  url.path = path;
  return url;
}

/// Where a parameterized storage test runs.
enum class target { sqlite_memory, sqlite_file };

inline std::string target_name(const testing::TestParamInfo<target>& info) {
  switch (info.param) {
    case target::sqlite_memory:
      return "sqlite_memory";
    case target::sqlite_file:
      return "sqlite_file";
  }
  return "unknown";
}

inline std::vector<target> all_targets() {
  return {target::sqlite_memory, target::sqlite_file};
}

/// Opens a fresh, empty database for `which`: a private temp folder holds
/// file databases. Server backends (added here later) start from
/// drop_schema() so that each test sees an empty schema.
class database_fixture : public testing::TestWithParam<target> {
protected:
  database_url url() const {
    switch (GetParam()) {
      case target::sqlite_memory:
        return sqlite_url(":memory:");
      case target::sqlite_file:
        return sqlite_url((dir_.path() / "db" / "parley.db").string());
    }
    return {};
  }

  database& db() {
    if (!db_) {
      db_ = std::make_unique<database>(url());
      drop_schema(*db_);
    }
    return *db_;
  }

  /// Closes and reopens the connection (a no-op data-wise except for
  /// in-memory SQLite, which starts empty again).
  database& reopen() {
    db_.reset();
    db_ = std::make_unique<database>(url());
    return *db_;
  }

  temp_dir dir_;
  std::unique_ptr<database> db_;
};

} // namespace parley::storage::test
