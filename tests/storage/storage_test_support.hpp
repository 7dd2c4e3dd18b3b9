#pragma once

#include <algorithm>
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
#include "tests/support/test_databases.hpp"

namespace parley::storage::test {

using parley::test::temp_dir;

inline database_url sqlite_url(const std::string& path) {
  database_url url;
  url.backend = db_backend::sqlite;
  url.path = path;
  return url;
}

/// Where a parameterized storage test runs: SQLite in memory and on disk,
/// and a scratch database of its own on each test server (see
/// tests/support/test_databases.hpp). The list is fixed so that test names
/// never depend on which servers are up: CTest lists the tests before the
/// databases fixture starts them.
enum class target { sqlite_memory, sqlite_file, postgresql, mariadb };

inline std::string target_name(const testing::TestParamInfo<target>& info) {
  switch (info.param) {
    case target::sqlite_memory:
      return "sqlite_memory";
    case target::sqlite_file:
      return "sqlite_file";
    case target::postgresql:
      return "postgresql";
    case target::mariadb:
      return "mariadb";
  }
  return "unknown";
}

inline std::vector<target> all_targets() {
  return {target::sqlite_memory, target::sqlite_file, target::postgresql,
          target::mariadb};
}

/// The test_backends() name of a server target; nullptr for SQLite.
inline const char* backend_name(target which) {
  switch (which) {
    case target::postgresql:
      return "postgresql";
    case target::mariadb:
      return "mariadb";
    default:
      return nullptr;
  }
}

/// Opens a fresh, empty database for `which`: a private temp folder holds
/// file databases, and each test on a server gets a scratch database of its
/// own (created here, dropped after the test). db() still starts from
/// drop_schema(), so that each test sees an empty schema either way.
///
/// Without a server (a test binary run by hand, outside ctest and its
/// databases fixture) the test fails: a backend is never silently skipped.
class database_fixture : public testing::TestWithParam<target> {
protected:
  database_fixture() {
    auto backend = backend_name(GetParam());
    if (backend == nullptr)
      return;
    auto available = parley::test::test_backends();
    if (std::find(available.begin(), available.end(), backend)
        == available.end()) {
      // A constructor cannot FAIL() and return; ADD_FAILURE marks the test
      // failed, and url() hands it a harmless in-memory SQLite database.
      missing_ = true;
      ADD_FAILURE() << "no " << backend
                    << " test server: run the test through ctest, whose "
                       "databases fixture starts one";
      return;
    }
    scratch_ = std::make_unique<parley::test::scratch_database>(backend);
  }

  database_url url() const {
    switch (GetParam()) {
      case target::sqlite_memory:
        return sqlite_url(":memory:");
      case target::sqlite_file:
        return sqlite_url((dir_.path() / "db" / "parley.db").string());
      case target::postgresql:
      case target::mariadb:
        if (missing_)
          return sqlite_url(":memory:");
        return scratch_->url();
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

  // Destroyed in reverse order: the connection before its scratch database.
  temp_dir dir_;
  bool missing_ = false;
  std::unique_ptr<parley::test::scratch_database> scratch_;
  std::unique_ptr<database> db_;
};

} // namespace parley::storage::test
