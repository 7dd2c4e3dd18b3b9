#include "actors/persistence_actor.hpp"

#include <soci/soci.h>

#include "actors/errors.hpp"
#include "actors/persistence_pool.hpp"
#include "tests/actors/actor_fixture.hpp"
#include "tests/support/test_databases.hpp"

namespace parley::test {
namespace {

using parley::test::scratch_database;

class persistence_actor_test : public actor_fixture {
protected:
  persistence_actor spawn_persistence(database_url url) {
    persistence_settings settings;
    settings.url = std::move(url);
    auto hdl = sys->spawn(persistence_fun, settings);
    run();
    return hdl;
  }

  std::int64_t make_session(const persistence_actor& db) {
    storage::new_session request;
    request.channel = "websocket";
    request.resume_token_hash = "hash";
    auto created = ask<storage::session_record>(db, create_atom_v, request);
    run();
    EXPECT_TRUE(created->value) << describe(created->error);
    return created->value ? created->value->id : 0;
  }

  std::int64_t committed_messages() {
    std::int64_t count = 0;
    probe().sql() << "SELECT COUNT(*) FROM messages", soci::into(count);
    return count;
  }

  static storage::new_user_message message(std::int64_t session,
                                           std::string client_id) {
    storage::new_user_message row;
    row.session_id = session;
    row.client_id = std::move(client_id);
    row.content = "hello";
    row.seq = 1;
    return row;
  }
};

TEST_F(persistence_actor_test, one_bad_request_does_not_fail_the_batch) {
  auto db = spawn_persistence(db_url());
  auto session = make_session(db);
  auto good1 = ask<storage::user_message_result>(db, store_atom_v,
                                                 message(session, "a"));
  auto bad = ask<storage::user_message_result>(db, store_atom_v,
                                               message(session + 100, "b"));
  auto good2 = ask<storage::user_message_result>(db, store_atom_v,
                                                 message(session, "c"));
  run();
  ASSERT_TRUE(good1->value) << describe(good1->error);
  ASSERT_TRUE(good2->value) << describe(good2->error);
  ASSERT_FALSE(bad->value);
  EXPECT_TRUE(is(bad->error, errc::not_found)) << describe(bad->error);
  EXPECT_EQ(committed_messages(), 2);
}

TEST_F(persistence_actor_test, duplicate_client_id_is_stored_once) {
  auto db = spawn_persistence(db_url());
  auto session = make_session(db);
  auto first = ask<storage::user_message_result>(db, store_atom_v,
                                                 message(session, "same"));
  auto second = ask<storage::user_message_result>(db, store_atom_v,
                                                  message(session, "same"));
  run();
  ASSERT_TRUE(first->value && second->value);
  EXPECT_FALSE(first->value->duplicate);
  EXPECT_TRUE(second->value->duplicate);
  EXPECT_EQ(second->value->message.id, first->value->message.id);
  EXPECT_EQ(committed_messages(), 1);
}

TEST_F(persistence_actor_test, exit_commits_what_is_queued) {
  auto db = spawn_persistence(db_url());
  auto session = make_session(db);
  auto pending = ask<storage::user_message_result>(db, store_atom_v,
                                                   message(session, "x"));
  run_all_but(db);
  step(db); // the request is queued, its flush not yet handled
  EXPECT_EQ(committed_messages(), 0);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  run();
  EXPECT_EQ(committed_messages(), 1);
}

TEST_F(persistence_actor_test, unreachable_database_is_a_clear_error) {
  database_url url;
  url.backend = db_backend::sqlite;
  url.path = "/proc/parley-cannot-write-here/x.db";
  auto db = spawn_persistence(url);
  auto health = ask<std::string>(db, health_atom_v);
  auto stored = ask<storage::user_message_result>(db, store_atom_v,
                                                  message(1, "x"));
  run();
  ASSERT_FALSE(health->value);
  EXPECT_TRUE(is(health->error, errc::storage_unavailable))
    << describe(health->error);
  ASSERT_FALSE(stored->value);
  EXPECT_TRUE(is(stored->error, errc::storage_unavailable))
    << describe(stored->error);
}

TEST_F(persistence_actor_test, health_names_the_backend) {
  auto db = spawn_persistence(db_url());
  auto health = ask<std::string>(db, health_atom_v);
  run();
  ASSERT_TRUE(health->value) << describe(health->error);
  EXPECT_EQ(*health->value, "sqlite");
}

TEST_F(persistence_actor_test, a_pool_keeps_each_session_on_one_worker) {
  persistence_pool_settings settings;
  settings.worker.url = db_url();
  settings.size = 3;
  settings.detach_workers = false;
  auto pool = sys->spawn(persistence_pool_fun, settings);
  run();
  std::vector<std::int64_t> sessions;
  for (int i = 0; i < 4; ++i)
    sessions.push_back(make_session(pool));
  std::vector<std::shared_ptr<reply<storage::user_message_result>>> first;
  std::vector<std::shared_ptr<reply<storage::user_message_result>>> again;
  for (auto id : sessions) {
    // Sent back to back: only one worker may see both, or the second
    // would not know it is a duplicate.
    first.push_back(
      ask<storage::user_message_result>(pool, store_atom_v, message(id, "x")));
    again.push_back(
      ask<storage::user_message_result>(pool, store_atom_v, message(id, "x")));
  }
  run();
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    ASSERT_TRUE(first[i]->value) << describe(first[i]->error);
    ASSERT_TRUE(again[i]->value) << describe(again[i]->error);
    EXPECT_FALSE(first[i]->value->duplicate);
    EXPECT_TRUE(again[i]->value->duplicate);
  }
  EXPECT_EQ(committed_messages(), 4);
  auto health = ask<std::string>(pool, health_atom_v);
  run();
  EXPECT_TRUE(health->value);
}

/// The same persistence worker on every backend, each test on a scratch
/// database of its own.
class group_commit_on : public persistence_actor_test,
                        public ::testing::WithParamInterface<std::string> {
protected:
  group_commit_on() : scratch_(GetParam()) {
    // nop
  }

  database_url db_url() const override {
    return scratch_.url();
  }

  scratch_database scratch_;
};

INSTANTIATE_TEST_SUITE_P(
  backends, group_commit_on,
  ::testing::Values("sqlite", "postgresql", "mariadb"),
  [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST_P(group_commit_on, answers_only_after_one_commit_for_the_batch) {
  auto db = spawn_persistence(db_url());
  auto session = make_session(db);
  std::vector<std::shared_ptr<reply<storage::user_message_result>>> replies;
  for (int i = 0; i < 5; ++i)
    replies.push_back(ask<storage::user_message_result>(
      db, store_atom_v, message(session, "c" + std::to_string(i))));
  // Let the five askers send, then let the persistence actor take the five
  // requests one message at a time: nothing is committed or answered yet.
  run_all_but(db);
  for (int i = 0; i < 5; ++i)
    step(db);
  EXPECT_EQ(committed_messages(), 0);
  for (auto& r : replies)
    EXPECT_FALSE(r->done());
  // The flush message it sent itself is next: one commit, five answers.
  step(db);
  EXPECT_EQ(committed_messages(), 5);
  run();
  for (auto& r : replies) {
    ASSERT_TRUE(r->value) << describe(r->error);
    EXPECT_FALSE(r->value->duplicate);
    EXPECT_GT(r->value->message.id, 0);
  }
}

TEST(persistence_pool, default_size_depends_on_the_backend) {
  EXPECT_EQ(default_pool_size(db_backend::sqlite, 0), 1u);
  EXPECT_EQ(default_pool_size(db_backend::postgresql, 0), 4u);
  EXPECT_EQ(default_pool_size(db_backend::mysql, 0), 4u);
  EXPECT_EQ(default_pool_size(db_backend::sqlite, 3), 3u);
}

} // namespace
} // namespace parley::test
