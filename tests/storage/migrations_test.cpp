#include <gtest/gtest.h>

#include <regex>
#include <string>

#include <soci/soci.h>

#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "storage/storage_error.hpp"
#include "tests/storage/storage_test_support.hpp"

using namespace parley;
using namespace parley::storage;
using namespace parley::storage::test;

namespace {

long long count_rows(database& db, const std::string& table) {
  long long result = -1;
  db.sql() << "SELECT COUNT(*) FROM " + table, soci::into(result);
  return result;
}

bool is_timestamp(const std::string& text) {
  static const std::regex format{
    R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)"};
  return std::regex_match(text, format);
}

class migrations : public database_fixture {};

} // namespace

TEST_P(migrations, migrate_records_each_version) {
  EXPECT_EQ(latest_schema_version(), 3);
  EXPECT_EQ(migrate(db()), latest_schema_version());
  int version = 0;
  std::string description;
  std::string applied_at;
  db().sql() << "SELECT version, description, applied_at FROM schema_version "
                "WHERE version = 1",
    soci::into(version), soci::into(description), soci::into(applied_at);
  EXPECT_EQ(version, 1);
  EXPECT_NE(description.find("messages"), std::string::npos) << description;
  EXPECT_TRUE(is_timestamp(applied_at)) << applied_at;
  EXPECT_EQ(count_rows(db(), "schema_version"), latest_schema_version());
}

TEST_P(migrations, version_2_keeps_events_and_allows_server_wide_ones) {
  EXPECT_EQ(migrate_to(db(), 1), 1);
  auto now = utc_timestamp();
  db().sql() << "INSERT INTO chat_sessions (status, channel, created_at, "
                "updated_at) VALUES ('active', 'websocket', :c, :u)",
    soci::use(now), soci::use(now);
  db().sql() << "INSERT INTO chat_events (session_id, event_type, payload, "
                "created_at) SELECT id, 'session_started', '{}', created_at "
                "FROM chat_sessions";
  EXPECT_EQ(migrate_to(db(), 2), 2);
  EXPECT_EQ(count_rows(db(), "chat_events"), 1) << "the old event survived";
  chat_repository repo{db()};
  repo.add_event(new_event{0, "llm_down", R"({"error":"gone"})"});
  long long without_session = -1;
  db().sql() << "SELECT COUNT(*) FROM chat_events WHERE session_id IS NULL",
    soci::into(without_session);
  EXPECT_EQ(without_session, 1);
  // The foreign key still holds for events that name a session.
  EXPECT_ANY_THROW(repo.add_event(new_event{4242, "session_closed", "{}"}));
}

TEST_P(migrations, version_3_adds_orders_and_message_authors) {
  EXPECT_EQ(migrate_to(db(), 2), 2);
  auto now = utc_timestamp();
  db().sql() << "INSERT INTO chat_sessions (status, channel, created_at, "
                "updated_at) VALUES ('active', 'websocket', :c, :u)",
    soci::use(now), soci::use(now);
  db().sql() << "INSERT INTO messages (session_id, role, content, created_at) "
                "SELECT id, 'user', 'kept', created_at FROM chat_sessions";
  EXPECT_EQ(migrate(db()), 3);
  EXPECT_EQ(count_rows(db(), "orders"), 0);
  std::string content;
  soci::indicator author_ind = soci::i_ok;
  std::string author;
  db().sql() << "SELECT content, author FROM messages", soci::into(content),
    soci::into(author, author_ind);
  EXPECT_EQ(content, "kept");
  EXPECT_EQ(author_ind, soci::i_null);
  // Order ids are the customer's text, unique.
  db().sql() << "INSERT INTO orders (id, status, items, updated_at) VALUES "
                "('124', 'shipped', '[]', :u)",
    soci::use(now);
  auto insert_again = [&] {
    db().sql() << "INSERT INTO orders (id, status, items, updated_at) VALUES "
                  "('124', 'x', '[]', :u)",
      soci::use(now);
  };
  EXPECT_ANY_THROW(insert_again());
}

TEST_P(migrations, migrate_twice_is_a_noop) {
  migrate(db());
  auto settings = count_rows(db(), "system_settings");
  EXPECT_EQ(migrate(db()), latest_schema_version());
  EXPECT_EQ(count_rows(db(), "schema_version"), latest_schema_version());
  EXPECT_EQ(count_rows(db(), "system_settings"), settings);
}

TEST_P(migrations, every_table_exists_and_starts_empty) {
  migrate(db());
  for (auto table :
       {"users", "chat_sessions", "messages", "chat_events", "orders"})
    EXPECT_EQ(count_rows(db(), table), 0) << table;
}

TEST_P(migrations, settings_are_seeded) {
  migrate(db());
  EXPECT_GE(count_rows(db(), "system_settings"), 3);
  std::string key = "enable_advanced_ai";
  std::string value;
  std::string description;
  std::string category;
  std::string created_at;
  db().sql() << "SELECT value, description, category, created_at "
                "FROM system_settings WHERE setting_key = :key",
    soci::use(key), soci::into(value), soci::into(description),
    soci::into(category), soci::into(created_at);
  EXPECT_EQ(value, "true");
  EXPECT_EQ(description, "Enable advanced AI features");
  EXPECT_EQ(category, "ai");
  EXPECT_TRUE(is_timestamp(created_at)) << created_at;
}

TEST_P(migrations, column_defaults_apply) {
  migrate(db());
  auto& sql = db().sql();
  std::string now = "2025-08-03T12:00:00.000000Z";
  sql << "INSERT INTO users (name, email, created_at, updated_at) "
         "VALUES ('Ann', 'ann@example.com', :c, :u)",
    soci::use(now), soci::use(now);
  sql << "INSERT INTO chat_sessions (created_at, updated_at) VALUES (:c, :u)",
    soci::use(now), soci::use(now);
  long long session_id = 0;
  std::string status;
  sql << "SELECT id, status FROM chat_sessions", soci::into(session_id),
    soci::into(status);
  EXPECT_EQ(status, "active");
  sql << "INSERT INTO messages (session_id, role, content, created_at) "
         "VALUES (:s, 'user', 'hi', :c)",
    soci::use(session_id), soci::use(now);
  int is_user = -1;
  std::string message_type;
  int tokens = -1;
  double response_time = -1;
  long long seq = -1;
  sql << "SELECT is_user, message_type, tokens_used, response_time, seq "
         "FROM messages",
    soci::into(is_user), soci::into(message_type), soci::into(tokens),
    soci::into(response_time), soci::into(seq);
  EXPECT_EQ(is_user, 0);
  EXPECT_EQ(message_type, "text");
  EXPECT_EQ(tokens, 0);
  EXPECT_EQ(response_time, 0.0);
  EXPECT_EQ(seq, 0);
  sql << "SELECT status FROM users", soci::into(status);
  EXPECT_EQ(status, "active");
}

TEST_P(migrations, drop_schema_removes_everything) {
  migrate(db());
  drop_schema(db());
  // Every table is gone: selecting from any of them fails.
  for (auto table : {"schema_version", "users", "chat_sessions", "messages",
                     "chat_events", "system_settings", "orders"})
    EXPECT_ANY_THROW(count_rows(db(), table)) << table;
  drop_schema(db()); // idempotent
  EXPECT_EQ(migrate(db()), latest_schema_version());
  EXPECT_EQ(count_rows(db(), "schema_version"), latest_schema_version());
}

TEST_P(migrations, refuses_to_run_inside_a_transaction) {
  db().begin();
  try {
    migrate(db());
    ADD_FAILURE() << "migrate ran inside a transaction";
  } catch (const storage_error& err) {
    EXPECT_EQ(err.code(), storage_errc::internal);
  }
  db().rollback();
}

INSTANTIATE_TEST_SUITE_P(storage, migrations,
                         testing::ValuesIn(all_targets()), target_name);
