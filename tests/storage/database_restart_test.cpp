// The storage layer while its PostgreSQL server goes away and comes back:
// what the persistence actor relies on to report `unavailable` and to
// reconnect. Runs on a private server (tests/databases/pg-instance), never on
// the shared ones of the databases fixture.

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "storage/storage_error.hpp"
#include "tests/support/private_postgres.hpp"

using namespace parley;
using namespace parley::storage;
using parley::test::private_postgres;

namespace {

new_session session_request(std::string title) {
  new_session result;
  result.title = std::move(title);
  result.channel = "rest";
  return result;
}

new_user_message user_msg(std::int64_t session_id, std::string client_id,
                          std::string content) {
  new_user_message result;
  result.session_id = session_id;
  result.client_id = std::move(client_id);
  result.content = std::move(content);
  return result;
}

class database_restart : public testing::Test {
protected:
  void SetUp() override {
    if (!private_postgres::installed())
      FAIL() << "PostgreSQL is not installed (tools/deps test installs it)";
    pg_ = std::make_unique<private_postgres>();
    pg_->start();
  }

  /// Expects `fn` to throw storage_error(unavailable) whose message names
  /// the server but not the password.
  void expect_unavailable(const std::string& what,
                          const std::function<void()>& fn) {
    try {
      fn();
      ADD_FAILURE() << what << ": no storage_error with the server down";
    } catch (const storage_error& err) {
      std::string text = err.what();
      EXPECT_EQ(err.code(), storage_errc::unavailable)
        << what << ": " << to_string(err.code()) << ": " << text;
      EXPECT_EQ(text.find(pg_->password()), std::string::npos)
        << what << " shows the password: " << text;
    } catch (const std::exception& err) {
      ADD_FAILURE() << what << ": not a storage_error: " << err.what();
    }
  }

  std::unique_ptr<private_postgres> pg_;
};

} // namespace

TEST_F(database_restart, stop_makes_everything_unavailable_and_a_new_connection_works_after_start) {
  std::int64_t session_id = 0;
  database db{pg_->url()};
  ASSERT_EQ(migrate(db), latest_schema_version());
  chat_repository repo{db};
  {
    session_id = repo.create_session(session_request("before the stop")).id;
    repo.store_user_message(user_msg(session_id, "c1", "committed"));
    auto found = repo.find_session(session_id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->title, "before the stop");
    EXPECT_EQ(repo.count_messages(session_id), 1);
  }

  pg_->stop();
  expect_unavailable("ping", [&] { db.ping(); });
  expect_unavailable("find_session", [&] { repo.find_session(session_id); });
  expect_unavailable("store_user_message", [&] {
    repo.store_user_message(user_msg(session_id, "c2", "lost"));
  });
  expect_unavailable("begin", [&] { db.begin(); });
  db.rollback();
  expect_unavailable("new connection", [&] { database other{pg_->url()}; });

  pg_->start();
  // SOCI does not reconnect: the old connection stays broken and the owner
  // (the persistence actor) opens a new one.
  database again{pg_->url()};
  EXPECT_NO_THROW(again.ping());
  EXPECT_EQ(migrate(again), latest_schema_version());
  chat_repository repo2{again};
  auto found = repo2.find_session(session_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->title, "before the stop");
  auto messages = repo2.messages_after_seq(session_id, -1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].content, "committed");
  // Writing works again, and ids continue.
  auto next = repo2.create_session(session_request("after the start"));
  EXPECT_GT(next.id, session_id);
  EXPECT_FALSE(
    repo2.store_user_message(user_msg(next.id, "c1", "hello")).duplicate);
  EXPECT_EQ(repo2.count_messages(next.id), 1);
}

TEST_F(database_restart, open_transaction_is_lost_committed_data_survives_a_crash) {
  std::int64_t committed_id = 0;
  std::int64_t open_id = 0;
  database db{pg_->url()};
  migrate(db);
  chat_repository repo{db};
  committed_id = repo.create_session(session_request("committed")).id;
  repo.store_user_message(user_msg(committed_id, "c1", "kept"));
  db.begin();
  open_id = repo.create_session(session_request("never committed")).id;
  repo.store_user_message(user_msg(open_id, "c1", "lost"));

  pg_->kill(); // immediate shutdown: no checkpoint, recovery at the start
  expect_unavailable("commit", [&] { db.commit(); });
  EXPECT_FALSE(db.in_transaction());

  pg_->start();
  database again{pg_->url()};
  chat_repository repo2{again};
  auto found = repo2.find_session(committed_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->title, "committed");
  EXPECT_EQ(repo2.count_messages(committed_id), 1);
  EXPECT_FALSE(repo2.find_session(open_id));
  EXPECT_EQ(repo2.count_messages(open_id), 0);
}

TEST_F(database_restart, connecting_while_down_is_unavailable_until_started) {
  pg_->stop();
  expect_unavailable("open", [&] { database db{pg_->url()}; });
  pg_->start();
  database db{pg_->url()};
  EXPECT_NO_THROW(db.ping());
  EXPECT_EQ(migrate(db), latest_schema_version());
}
