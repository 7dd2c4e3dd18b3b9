// tools/reset-db's program, parley-reset-db, run as a child process against
// a scratch database on each backend.

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <soci/soci.h>

#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_databases.hpp"

using namespace parley;
using namespace parley::storage;
using parley::test::exit_status;
using parley::test::scratch_database;
using parley::test::server_process;
using parley::test::temp_dir;

namespace {

struct run_result {
  exit_status status;
  std::string output;
};

/// Runs parley-reset-db in `dir` with `args`. DATABASE_URL is empty (unset,
/// for the tool) unless `env` sets it.
run_result reset_db(const std::vector<std::string>& args,
                    std::map<std::string, std::string> env = {},
                    const std::string& dir = {}) {
  env.emplace("DATABASE_URL", "");
  server_process proc{PARLEY_RESET_DB, args, env, dir};
  auto status = proc.wait_exit(std::chrono::seconds{60});
  return {status, proc.log()};
}

long long count_rows(database& db, const std::string& table) {
  long long result = -1;
  db.sql() << "SELECT COUNT(*) FROM " + table, soci::into(result);
  return result;
}

/// Migrates and stores one session with a message and one extra setting.
void fill(const database_url& url) {
  database db{url};
  migrate(db);
  chat_repository repo{db};
  auto id = repo.create_session({0, "doomed", "rest", ""}).id;
  repo.store_user_message({id, 0, "c1", "hello", "", 1, ""});
  auto now = utc_timestamp();
  db.sql() << "INSERT INTO system_settings (setting_key, value, created_at, "
              "updated_at) VALUES ('custom_key', 'x', :c, :u)",
    soci::use(now), soci::use(now);
}

class reset_db_on : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    auto backends = parley::test::test_backends(); // throws under CI
    if (std::find(backends.begin(), backends.end(), GetParam())
        == backends.end())
      FAIL() << "no " << GetParam()
             << " test server: run the test through ctest";
    scratch_ = std::make_unique<scratch_database>(GetParam());
    fill(scratch_->url());
  }

  std::unique_ptr<scratch_database> scratch_;
};

} // namespace

TEST_P(reset_db_on, without_yes_only_says_what_it_would_do) {
  auto result = reset_db({"--database-url", scratch_->url_text()});
  EXPECT_TRUE(result.status.is_exit(2)) << result.status.to_string() << "\n"
                                        << result.output;
  EXPECT_NE(result.output.find("--yes"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(scratch_->url().redacted()), std::string::npos)
    << result.output;
  database db{scratch_->url()};
  EXPECT_EQ(count_rows(db, "chat_sessions"), 1);
  EXPECT_EQ(count_rows(db, "messages"), 1);
}

TEST_P(reset_db_on, with_yes_drops_everything_and_migrates_again) {
  auto result = reset_db({"--database-url=" + scratch_->url_text(), "--yes"});
  ASSERT_TRUE(result.status.is_exit(0)) << result.status.to_string() << "\n"
                                        << result.output;
  EXPECT_NE(result.output.find("schema version "
                               + std::to_string(latest_schema_version())),
            std::string::npos)
    << result.output;
  database db{scratch_->url()};
  EXPECT_EQ(count_rows(db, "schema_version"), latest_schema_version());
  EXPECT_EQ(count_rows(db, "chat_sessions"), 0);
  EXPECT_EQ(count_rows(db, "messages"), 0);
  EXPECT_EQ(count_rows(db, "chat_events"), 0);
  long long custom = -1;
  db.sql() << "SELECT COUNT(*) FROM system_settings "
              "WHERE setting_key = 'custom_key'",
    soci::into(custom);
  EXPECT_EQ(custom, 0);
  EXPECT_GE(count_rows(db, "system_settings"), 5); // seeded again
  // Ids start over: the tables were dropped, not emptied.
  chat_repository repo{db};
  EXPECT_EQ(repo.create_session({0, "new", "rest", ""}).id, 1);
}

INSTANTIATE_TEST_SUITE_P(storage, reset_db_on,
                         testing::Values("sqlite", "postgresql", "mariadb"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

/// The same on the backends with a password in the URL.
class reset_db_on_server : public reset_db_on {};

TEST_P(reset_db_on_server, never_prints_the_password) {
  auto url = scratch_->url();
  ASSERT_FALSE(url.password.empty()) << scratch_->url_text();
  for (auto yes : {false, true}) {
    std::vector<std::string> args{"--database-url", scratch_->url_text()};
    if (yes)
      args.emplace_back("--yes");
    auto result = reset_db(args);
    EXPECT_TRUE(result.status.is_exit(yes ? 0 : 2)) << result.output;
    EXPECT_EQ(result.output.find(url.password), std::string::npos)
      << result.output;
  }
}

INSTANTIATE_TEST_SUITE_P(storage, reset_db_on_server,
                         testing::Values("postgresql", "mariadb"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(reset_db, takes_database_url_from_the_environment) {
  scratch_database scratch{"sqlite"};
  fill(scratch.url());
  auto result = reset_db({"--yes"}, {{"DATABASE_URL", scratch.url_text()}});
  ASSERT_TRUE(result.status.is_exit(0)) << result.output;
  database db{scratch.url()};
  EXPECT_EQ(count_rows(db, "chat_sessions"), 0);
}

TEST(reset_db, takes_database_url_from_dotenv_in_the_working_folder) {
  scratch_database scratch{"sqlite"};
  fill(scratch.url());
  temp_dir work;
  work.write(".env", "# a comment\nDATABASE_URL=" + scratch.url_text() + "\n");
  auto result = reset_db({"--yes"}, {}, work.str());
  ASSERT_TRUE(result.status.is_exit(0)) << result.output;
  database db{scratch.url()};
  EXPECT_EQ(count_rows(db, "chat_sessions"), 0);
}

TEST(reset_db, flag_beats_environment_beats_dotenv) {
  scratch_database flag{"sqlite"};
  scratch_database environment{"sqlite"};
  scratch_database dotenv{"sqlite"};
  for (auto* db : {&flag, &environment, &dotenv})
    fill(db->url());
  temp_dir work;
  work.write(".env", "DATABASE_URL=" + dotenv.url_text() + "\n");
  auto result = reset_db({"--yes", "--database-url", flag.url_text()},
                         {{"DATABASE_URL", environment.url_text()}},
                         work.str());
  ASSERT_TRUE(result.status.is_exit(0)) << result.output;
  {
    database db{flag.url()};
    EXPECT_EQ(count_rows(db, "chat_sessions"), 0);
  }
  for (auto* untouched : {&environment, &dotenv}) {
    database db{untouched->url()};
    EXPECT_EQ(count_rows(db, "chat_sessions"), 1) << untouched->url_text();
  }
  result = reset_db({"--yes"}, {{"DATABASE_URL", environment.url_text()}},
                    work.str());
  ASSERT_TRUE(result.status.is_exit(0)) << result.output;
  database db{environment.url()};
  EXPECT_EQ(count_rows(db, "chat_sessions"), 0);
  database other{dotenv.url()};
  EXPECT_EQ(count_rows(other, "chat_sessions"), 1);
}

TEST(reset_db, bad_arguments_and_urls_are_usage_errors) {
  auto result = reset_db({"--frobnicate"});
  EXPECT_TRUE(result.status.is_exit(64)) << result.output;
  result = reset_db({"--database-url"});
  EXPECT_TRUE(result.status.is_exit(64)) << result.output;
  result = reset_db({"--database-url", "oracle://u:pw@h/db", "--yes"});
  EXPECT_TRUE(result.status.is_exit(64)) << result.output;
  result = reset_db({"--help"});
  EXPECT_TRUE(result.status.is_exit(0)) << result.output;
  EXPECT_NE(result.output.find("--yes"), std::string::npos) << result.output;
}

TEST(reset_db, unreachable_server_fails_without_showing_the_password) {
  auto result = reset_db(
    {"--database-url", "postgresql://u:secret-pw-42@127.0.0.1:1/db", "--yes"});
  EXPECT_TRUE(result.status.is_exit(1)) << result.output;
  EXPECT_EQ(result.output.find("secret-pw-42"), std::string::npos)
    << result.output;
  EXPECT_NE(result.output.find("127.0.0.1"), std::string::npos)
    << result.output;
}
