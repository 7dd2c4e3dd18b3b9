#include "storage/database.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <soci/soci.h>

#include "storage/chat_repository.hpp"
#include "storage/storage_error.hpp"
#include "tests/storage/storage_test_support.hpp"

using namespace parley;
using namespace parley::storage;
using parley::storage::test::sqlite_url;
using parley::storage::test::temp_dir;

namespace {

template <class T>
T pragma(database& db, const std::string& name) {
  T result{};
  db.sql() << "PRAGMA " + name, soci::into(result);
  return result;
}

/// The storage_error that `open` throws, or a test failure.
template <class F>
storage_error open_error(F open) {
  try {
    open();
  } catch (const storage_error& err) {
    return err;
  }
  ADD_FAILURE() << "no storage_error";
  return storage_error{storage_errc::internal, "none"};
}

} // namespace

TEST(database, memory_sqlite_gets_pragmas) {
  database db{sqlite_url(":memory:")};
  EXPECT_EQ(db.backend(), db_backend::sqlite);
  EXPECT_EQ(pragma<int>(db, "foreign_keys"), 1);
  EXPECT_EQ(pragma<int>(db, "synchronous"), 2); // FULL
  EXPECT_EQ(pragma<int>(db, "busy_timeout"), 2000);
  EXPECT_NE(db.description().find(":memory:"), std::string::npos);
  EXPECT_NO_THROW(db.ping());
}

TEST(database, file_sqlite_creates_folders_and_uses_wal) {
  temp_dir dir;
  auto path = dir.path() / "nested" / "deeper" / "chat.db";
  database db{sqlite_url(path.string())};
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(pragma<std::string>(db, "journal_mode"), "wal");
  EXPECT_EQ(pragma<int>(db, "synchronous"), 2);
  EXPECT_EQ(pragma<int>(db, "foreign_keys"), 1);
  EXPECT_EQ(pragma<int>(db, "busy_timeout"), 2000);
}

TEST(database, file_sqlite_path_with_space) {
  temp_dir dir;
  auto path = dir.path() / "my data" / "chat.db";
  database db{sqlite_url(path.string())};
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(database, data_survives_reopening) {
  temp_dir dir;
  auto url = sqlite_url((dir.path() / "chat.db").string());
  std::int64_t id = 0;
  {
    database db{url};
    migrate(db);
    chat_repository repo{db};
    id = repo.create_session({0, "kept", "rest", ""}).id;
    repo.store_user_message({id, 0, "c1", "hello", "", 1, ""});
  }
  database db{url};
  EXPECT_EQ(pragma<std::string>(db, "journal_mode"), "wal");
  EXPECT_EQ(migrate(db), latest_schema_version());
  chat_repository repo{db};
  auto session = repo.find_session(id);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->title, "kept");
  EXPECT_EQ(repo.count_messages(id), 1);
}

TEST(database, unopenable_sqlite_path_is_unavailable) {
  temp_dir dir;
  auto blocker = dir.path() / "file";
  std::ofstream{blocker} << "not a folder";
  auto err = open_error(
    [&] { database db{sqlite_url((blocker / "chat.db").string())}; });
  EXPECT_EQ(err.code(), storage_errc::unavailable);
  // A folder where the database file should be.
  err = open_error([&] { database db{sqlite_url(dir.path().string())}; });
  EXPECT_EQ(err.code(), storage_errc::unavailable);
}

TEST(database, refused_server_connection_is_unavailable_without_password) {
  for (auto backend : {db_backend::postgresql, db_backend::mysql}) {
    database_url url;
    url.backend = backend;
    url.host = "127.0.0.1";
    url.port = 1; // nothing listens there: refused at once
    url.user = "parley";
    url.password = "pw-that-must-not-leak";
    url.database = "parley";
    auto err = open_error([&] { database db{url}; });
    EXPECT_EQ(err.code(), storage_errc::unavailable) << err.what();
    std::string what = err.what();
    EXPECT_EQ(what.find("pw-that-must-not-leak"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
  }
}

TEST(database, transaction_state) {
  database db{sqlite_url(":memory:")};
  EXPECT_FALSE(db.in_transaction());
  db.rollback(); // nothing open: no-op
  EXPECT_THROW(db.commit(), storage_error);
  db.begin();
  EXPECT_TRUE(db.in_transaction());
  try {
    db.begin();
    ADD_FAILURE() << "nested begin accepted";
  } catch (const storage_error& err) {
    EXPECT_EQ(err.code(), storage_errc::internal);
  }
  db.commit();
  EXPECT_FALSE(db.in_transaction());
  db.begin();
  db.rollback();
  EXPECT_FALSE(db.in_transaction());
}

TEST(storage_error, to_string) {
  EXPECT_STREQ(to_string(storage_errc::unavailable), "unavailable");
  EXPECT_STREQ(to_string(storage_errc::constraint), "constraint");
  EXPECT_STREQ(to_string(storage_errc::not_found), "not_found");
  EXPECT_STREQ(to_string(storage_errc::internal), "internal");
}
