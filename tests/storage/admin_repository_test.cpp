#include "storage/admin_repository.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "storage/storage_error.hpp"
#include "tests/storage/storage_test_support.hpp"

using namespace parley;
using namespace parley::storage;
using namespace parley::storage::test;

namespace {

using strings = std::vector<std::string>;
using ids = std::vector<std::int64_t>;

new_user user_request(std::string name, std::string email) {
  new_user result;
  result.name = std::move(name);
  result.email = std::move(email);
  return result;
}

/// The storage_error that `fn` throws, or a test failure.
template <class F>
storage_error error_of(F fn) {
  try {
    fn();
  } catch (const storage_error& err) {
    return err;
  }
  ADD_FAILURE() << "no storage_error";
  return storage_error(storage_errc::internal, "none");
}

template <class F>
storage_errc error_code(F fn) {
  return error_of(fn).code();
}

page_request page(std::int64_t number, std::int64_t limit) {
  page_request result;
  result.page = number;
  result.limit = limit;
  return result;
}

ids user_ids(const user_page& xs) {
  ids result;
  for (auto& x : xs.items)
    result.push_back(x.id);
  return result;
}

strings user_names(const user_page& xs) {
  strings result;
  for (auto& x : xs.items)
    result.push_back(x.name);
  return result;
}

ids session_ids(const session_page& xs) {
  ids result;
  for (auto& x : xs.items)
    result.push_back(x.session.id);
  return result;
}

strings contents(const std::vector<message_record>& xs) {
  strings result;
  for (auto& x : xs)
    result.push_back(x.content);
  return result;
}

strings keys(const std::vector<setting_record>& xs) {
  strings result;
  for (auto& x : xs)
    result.push_back(x.key);
  return result;
}

class admin_repo : public database_fixture {
protected:
  void SetUp() override {
    migrate(db());
    chat_ = std::make_unique<chat_repository>(db());
    repo_ = std::make_unique<admin_repository>(db());
  }

  void TearDown() override {
    repo_.reset(); // statements go before the connection
    chat_.reset();
  }

  admin_repository& repo() {
    return *repo_;
  }

  chat_repository& chat() {
    return *chat_;
  }

  long long scalar(const std::string& query, long long id) {
    long long result = -1;
    db().sql() << query, soci::use(id), soci::into(result);
    return result;
  }

  /// Sets a timestamp column directly, for ordering tests that must not
  /// depend on the clock.
  void set_column(const std::string& table, const std::string& column,
                  long long id, std::string value) {
    db().sql() << "UPDATE " + table + " SET " + column
                    + " = :value WHERE id = :id",
      soci::use(value), soci::use(id);
  }

  session_record session_for(std::int64_t user_id, std::string title = "t") {
    new_session request;
    request.user_id = user_id;
    request.title = std::move(title);
    request.channel = "websocket";
    return chat().create_session(request);
  }

  message_record say(const session_record& session, std::string content,
                     std::int64_t user_id = -1) {
    new_user_message request;
    request.session_id = session.id;
    request.user_id = user_id < 0 ? session.user_id : user_id;
    request.content = std::move(content);
    return chat().store_user_message(request).message;
  }

  message_record answer(const message_record& question, std::string content) {
    new_assistant_message request;
    request.user_id = question.user_id; // as the session actor does
    request.session_id = question.session_id;
    request.reply_to = question.id;
    request.content = std::move(content);
    request.source = "fallback";
    request.finish_reason = "completed";
    return chat().store_assistant_message(request);
  }

  std::unique_ptr<chat_repository> chat_;
  std::unique_ptr<admin_repository> repo_;
};

} // namespace

// -- users --------------------------------------------------------------------

TEST_P(admin_repo, create_user_stores_defaults) {
  auto user = repo().create_user(user_request("Ann", "ann@example.com"));
  EXPECT_GT(user.id, 0);
  EXPECT_EQ(user.name, "Ann");
  EXPECT_EQ(user.email, "ann@example.com");
  EXPECT_EQ(user.avatar_url, "");
  EXPECT_EQ(user.status, "active");
  EXPECT_EQ(user.preferences, "{}");
  EXPECT_FALSE(user.created_at.empty());
  EXPECT_EQ(user.created_at, user.updated_at);
  auto found = repo().find_user(user.id);
  EXPECT_EQ(found.id, user.id);
  EXPECT_EQ(found.name, "Ann");
  EXPECT_EQ(found.email, "ann@example.com");
  EXPECT_EQ(found.avatar_url, "");
  EXPECT_EQ(found.status, "active");
  EXPECT_EQ(found.preferences, "{}");
  EXPECT_EQ(found.created_at, user.created_at);
  EXPECT_EQ(found.updated_at, user.updated_at);
  // No avatar is NULL, not ''.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM users WHERE id = :id "
                   "AND avatar_url IS NULL",
                   user.id),
            1);
}

TEST_P(admin_repo, create_user_keeps_optional_fields) {
  auto request = user_request("Bo Ünïcode 👋", "bo@example.com");
  request.avatar_url = "https://example.com/bo.png";
  request.preferences = R"({"theme":"dark"})";
  auto user = repo().create_user(request);
  auto found = repo().find_user(user.id);
  EXPECT_EQ(found.name, "Bo Ünïcode 👋");
  EXPECT_EQ(found.avatar_url, "https://example.com/bo.png");
  EXPECT_EQ(found.preferences, R"({"theme":"dark"})");
  auto second = repo().create_user(user_request("Cy", "cy@example.com"));
  EXPECT_GT(second.id, user.id);
}

TEST_P(admin_repo, create_user_rejects_bad_input) {
  EXPECT_EQ(error_code([&] { repo().create_user(user_request("", "a@x")); }),
            storage_errc::constraint);
  EXPECT_EQ(error_code([&] { repo().create_user(user_request("A", "")); }),
            storage_errc::constraint);
  EXPECT_EQ(error_code([&] {
              repo().create_user(user_request(std::string(256, 'n'), "a@x"));
            }),
            storage_errc::constraint);
  EXPECT_EQ(error_code([&] {
              repo().create_user(user_request("A", std::string(256, 'e')));
            }),
            storage_errc::constraint);
  auto request = user_request("A", "a@x");
  request.avatar_url = std::string(1025, 'u');
  EXPECT_EQ(error_code([&] { repo().create_user(request); }),
            storage_errc::constraint);
  // 255 characters of two bytes each fit.
  std::string longest;
  for (int i = 0; i < 255; ++i)
    longest += "\xC3\xA9";
  EXPECT_EQ(repo().create_user(user_request(longest, "long@x")).name, longest);
  EXPECT_EQ(repo().list_users({}).page.total, 1);
}

TEST_P(admin_repo, duplicate_email_is_a_constraint) {
  auto ann = repo().create_user(user_request("Ann", "ann@example.com"));
  auto err = error_of(
    [&] { repo().create_user(user_request("Other", "ann@example.com")); });
  EXPECT_EQ(err.code(), storage_errc::constraint);
  EXPECT_NE(std::string{err.what()}.find("email is already taken"),
            std::string::npos)
    << err.what();
  // Emails compare exactly: another case is another address.
  auto upper = repo().create_user(user_request("ANN", "ANN@example.com"));
  EXPECT_NE(upper.id, ann.id);
  EXPECT_EQ(repo().list_users({}).page.total, 2);
}

TEST_P(admin_repo, duplicate_email_leaves_the_callers_transaction_usable) {
  repo().create_user(user_request("Ann", "ann@example.com"));
  db().begin();
  EXPECT_EQ(error_code([&] {
              repo().create_user(user_request("Other", "ann@example.com"));
            }),
            storage_errc::constraint);
  // No statement failed: even PostgreSQL keeps the transaction alive.
  repo().create_user(user_request("Bo", "bo@example.com"));
  db().commit();
  EXPECT_EQ(repo().list_users({}).page.total, 2);
}

TEST_P(admin_repo, find_user_and_by_email) {
  EXPECT_EQ(error_code([&] { repo().find_user(4242); }),
            storage_errc::not_found);
  EXPECT_FALSE(repo().find_user_by_email("nobody@example.com"));
  auto ann = repo().create_user(user_request("Ann", "ann@example.com"));
  auto found = repo().find_user_by_email("ann@example.com");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, ann.id);
  EXPECT_EQ(found->name, "Ann");
  EXPECT_FALSE(repo().find_user_by_email("Ann@example.com"));
  EXPECT_FALSE(repo().find_user_by_email("ann@example"));
  EXPECT_FALSE(repo().find_user_by_email("ann@example.com "));
}

TEST_P(admin_repo, list_users_orders_by_id_and_paginates) {
  auto empty = repo().list_users({});
  EXPECT_TRUE(empty.items.empty());
  EXPECT_EQ(empty.page.total, 0);
  EXPECT_EQ(empty.page.pages, 0);
  EXPECT_EQ(empty.page.page, 1);
  EXPECT_EQ(empty.page.limit, 10);
  ids all;
  for (int i = 1; i <= 5; ++i)
    all.push_back(repo()
                    .create_user(user_request("u" + std::to_string(i),
                                              "u" + std::to_string(i) + "@x"))
                    .id);
  user_query query;
  query.page = page(1, 2);
  auto first = repo().list_users(query);
  EXPECT_EQ(user_ids(first), (ids{all[0], all[1]}));
  EXPECT_EQ(first.page.page, 1);
  EXPECT_EQ(first.page.limit, 2);
  EXPECT_EQ(first.page.total, 5);
  EXPECT_EQ(first.page.pages, 3);
  query.page = page(2, 2);
  EXPECT_EQ(user_ids(repo().list_users(query)), (ids{all[2], all[3]}));
  query.page = page(3, 2); // the last page is partial
  auto last = repo().list_users(query);
  EXPECT_EQ(user_ids(last), (ids{all[4]}));
  EXPECT_EQ(last.page.total, 5);
  EXPECT_EQ(last.page.pages, 3);
  query.page = page(4, 2); // past the end
  auto past = repo().list_users(query);
  EXPECT_TRUE(past.items.empty());
  EXPECT_EQ(past.page.page, 4);
  EXPECT_EQ(past.page.total, 5);
  EXPECT_EQ(past.page.pages, 3);
  query.page = page(1000000000000, 100); // no overflow in the offset
  EXPECT_TRUE(repo().list_users(query).items.empty());
  query.page = page(5, 1);
  auto single = repo().list_users(query);
  EXPECT_EQ(user_ids(single), (ids{all[4]}));
  EXPECT_EQ(single.page.pages, 5);
  query.page = page(1, 100);
  auto everything = repo().list_users(query);
  EXPECT_EQ(user_ids(everything), all);
  EXPECT_EQ(everything.page.pages, 1);
  // An exact multiple of the limit: no empty extra page.
  query.page = page(1, 5);
  EXPECT_EQ(repo().list_users(query).page.pages, 1);
  query.page = page(2, 5);
  EXPECT_TRUE(repo().list_users(query).items.empty());
}

TEST_P(admin_repo, list_users_searches_name_and_email_case_insensitively) {
  repo().create_user(user_request("Alice Smith", "alice@example.com"));
  repo().create_user(user_request("Bob", "BOB.SMITH@Example.org"));
  repo().create_user(user_request("Carol", "carol@example.net"));
  user_query query;
  query.search = "smith";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"Alice Smith", "Bob"}));
  query.search = "SMITH";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"Alice Smith", "Bob"}));
  query.search = "EXAMPLE.";
  EXPECT_EQ(repo().list_users(query).page.total, 3);
  query.search = "ol@exa";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"Carol"}));
  query.search = ".net";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"Carol"}));
  query.search = "nobody";
  auto none = repo().list_users(query);
  EXPECT_TRUE(none.items.empty());
  EXPECT_EQ(none.page.total, 0);
  EXPECT_EQ(none.page.pages, 0);
  // Pagination counts the matches only.
  query.search = "example";
  query.page = page(2, 2);
  auto second = repo().list_users(query);
  EXPECT_EQ(user_names(second), (strings{"Carol"}));
  EXPECT_EQ(second.page.total, 3);
  EXPECT_EQ(second.page.pages, 2);
}

TEST_P(admin_repo, search_treats_wildcards_literally) {
  repo().create_user(user_request("100% sure", "p@x"));
  repo().create_user(user_request("a_b", "u@x"));
  repo().create_user(user_request("axb", "x@x"));
  repo().create_user(user_request("bang!", "b@x"));
  repo().create_user(user_request("back\\slash", "s@x"));
  repo().create_user(user_request("it's", "q@x"));
  user_query query;
  query.search = "%";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"100% sure"}));
  query.search = "0% S";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"100% sure"}));
  query.search = "_";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"a_b"}));
  query.search = "a_b";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"a_b"}));
  query.search = "!";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"bang!"}));
  query.search = "!%";
  EXPECT_TRUE(repo().list_users(query).items.empty());
  query.search = "\\";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"back\\slash"}));
  query.search = "k\\s";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"back\\slash"}));
  query.search = "'";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"it's"}));
  query.search = "@";
  EXPECT_EQ(repo().list_users(query).page.total, 6);
}

TEST_P(admin_repo, search_matches_non_ascii_text_in_its_own_case) {
  repo().create_user(user_request("Jürgen Über", "j@x"));
  user_query query;
  query.search = "Über";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"Jürgen Über"}));
  query.search = "jürgen";
  EXPECT_EQ(user_names(repo().list_users(query)), (strings{"Jürgen Über"}));
  // Folding "Ü" to "ü" is up to the backend's LOWER(): SQLite folds ASCII
  // only, the servers fold it too; either way exact case always matches.
}

TEST_P(admin_repo, update_user_applies_only_set_fields) {
  auto request = user_request("Ann", "ann@example.com");
  request.avatar_url = "https://a";
  request.preferences = R"({"a":1})";
  auto user = repo().create_user(request);
  set_column("users", "updated_at", user.id, "2000-01-01T00:00:00.000000Z");
  user_patch patch;
  patch.set_status = true;
  patch.status = "inactive";
  auto updated = repo().update_user(user.id, patch);
  EXPECT_EQ(updated.name, "Ann");
  EXPECT_EQ(updated.email, "ann@example.com");
  EXPECT_EQ(updated.avatar_url, "https://a");
  EXPECT_EQ(updated.preferences, R"({"a":1})");
  EXPECT_EQ(updated.status, "inactive");
  EXPECT_EQ(updated.created_at, user.created_at);
  EXPECT_GT(updated.updated_at, "2000-01-01T00:00:00.000000Z");
  auto found = repo().find_user(user.id);
  EXPECT_EQ(found.status, "inactive");
  EXPECT_EQ(found.name, "Ann");
  EXPECT_EQ(found.updated_at, updated.updated_at);
  user_patch all;
  all.set_name = true;
  all.name = "Anne";
  all.set_email = true;
  all.email = "anne@example.com";
  all.set_avatar_url = true;
  all.avatar_url = "";
  all.set_status = true;
  all.status = "active";
  all.set_preferences = true;
  all.preferences = R"({"b":2})";
  repo().update_user(user.id, all);
  found = repo().find_user(user.id);
  EXPECT_EQ(found.name, "Anne");
  EXPECT_EQ(found.email, "anne@example.com");
  EXPECT_EQ(found.avatar_url, "");
  EXPECT_EQ(found.status, "active");
  EXPECT_EQ(found.preferences, R"({"b":2})");
  EXPECT_FALSE(repo().find_user_by_email("ann@example.com"));
  // An empty patch only bumps updated_at.
  auto same = repo().update_user(user.id, user_patch{});
  EXPECT_EQ(same.name, "Anne");
  EXPECT_GE(same.updated_at, found.updated_at);
}

TEST_P(admin_repo, update_user_rejects_bad_input) {
  user_patch patch;
  patch.set_name = true;
  patch.name = "X";
  EXPECT_EQ(error_code([&] { repo().update_user(4242, patch); }),
            storage_errc::not_found);
  auto ann = repo().create_user(user_request("Ann", "ann@example.com"));
  auto bo = repo().create_user(user_request("Bo", "bo@example.com"));
  user_patch taken;
  taken.set_email = true;
  taken.email = "ann@example.com";
  auto err = error_of([&] { repo().update_user(bo.id, taken); });
  EXPECT_EQ(err.code(), storage_errc::constraint);
  EXPECT_NE(std::string{err.what()}.find("taken"), std::string::npos);
  // Keeping one's own email is fine.
  EXPECT_EQ(repo().update_user(ann.id, taken).email, "ann@example.com");
  user_patch empty_name;
  empty_name.set_name = true;
  EXPECT_EQ(error_code([&] { repo().update_user(ann.id, empty_name); }),
            storage_errc::constraint);
  user_patch empty_email;
  empty_email.set_email = true;
  EXPECT_EQ(error_code([&] { repo().update_user(ann.id, empty_email); }),
            storage_errc::constraint);
  user_patch long_status;
  long_status.set_status = true;
  long_status.status = std::string(33, 's');
  EXPECT_EQ(error_code([&] { repo().update_user(ann.id, long_status); }),
            storage_errc::constraint);
  EXPECT_EQ(repo().find_user(bo.id).email, "bo@example.com");
  EXPECT_EQ(repo().find_user(ann.id).name, "Ann");
}

TEST_P(admin_repo, remove_user_keeps_sessions_anonymous) {
  auto ann = repo().create_user(user_request("Ann", "ann@example.com"));
  auto bo = repo().create_user(user_request("Bo", "bo@example.com"));
  auto mine = session_for(ann.id);
  auto theirs = session_for(bo.id);
  auto question = say(mine, "hi");
  answer(question, "hello");
  EXPECT_EQ(question.user_id, ann.id);
  repo().remove_user(ann.id);
  EXPECT_EQ(error_code([&] { repo().find_user(ann.id); }),
            storage_errc::not_found);
  auto kept = repo().find_session(mine.id, true);
  EXPECT_EQ(kept.listing.session.user_id, 0);
  EXPECT_EQ(kept.listing.message_count, 2);
  ASSERT_EQ(kept.messages.size(), 2u);
  EXPECT_EQ(kept.messages[0].user_id, 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM chat_sessions WHERE id = :id "
                   "AND user_id IS NULL",
                   mine.id),
            1);
  EXPECT_EQ(repo().find_session(theirs.id, false).listing.session.user_id,
            bo.id);
  EXPECT_EQ(error_code([&] { repo().remove_user(ann.id); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().remove_user(4242); }),
            storage_errc::not_found);
  // The email is free again.
  EXPECT_NE(repo().create_user(user_request("Ann", "ann@example.com")).id,
            ann.id);
}

TEST_P(admin_repo, find_or_create_user_by_email) {
  auto created = repo().find_or_create_user("ann@example.com", "Ann");
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.name, "Ann");
  EXPECT_EQ(created.status, "active");
  auto again = repo().find_or_create_user("ann@example.com", "Someone Else");
  EXPECT_EQ(again.id, created.id);
  EXPECT_EQ(again.name, "Ann"); // left alone
  auto other = repo().find_or_create_user("Ann@example.com", "Ann 2");
  EXPECT_NE(other.id, created.id);
  EXPECT_EQ(repo().list_users({}).page.total, 2);
  EXPECT_EQ(error_code([&] { repo().find_or_create_user("", "X"); }),
            storage_errc::constraint);
  EXPECT_EQ(error_code([&] { repo().find_or_create_user("x@x", ""); }),
            storage_errc::constraint);
  EXPECT_FALSE(db().in_transaction());
}

// -- sessions -----------------------------------------------------------------

TEST_P(admin_repo, list_sessions_filters_orders_and_counts) {
  auto ann = repo().create_user(user_request("Ann", "ann@example.com"));
  auto bo = repo().create_user(user_request("Bo", "bo@example.com"));
  auto s1 = session_for(ann.id, "one");
  auto s2 = session_for(bo.id, "two");
  auto s3 = session_for(0, "three");
  auto s4 = session_for(ann.id, "four");
  // Messages first: storing one moves its session's updated_at.
  auto q = say(s1, "a");
  answer(q, "b");
  say(s1, "c");
  say(s3, "d");
  // Newest activity first, independent of ids; s2 and s3 tie.
  set_column("chat_sessions", "updated_at", s1.id, "2025-01-04T00:00:00.000000Z");
  set_column("chat_sessions", "updated_at", s2.id, "2025-01-02T00:00:00.000000Z");
  set_column("chat_sessions", "updated_at", s3.id, "2025-01-02T00:00:00.000000Z");
  set_column("chat_sessions", "updated_at", s4.id, "2025-01-01T00:00:00.000000Z");
  session_patch inactive;
  inactive.set_status = true;
  inactive.status = "inactive";
  repo().update_session(s4.id, inactive);
  set_column("chat_sessions", "updated_at", s4.id, "2025-01-01T00:00:00.000000Z");
  session_query query;
  auto all = repo().list_sessions(query);
  EXPECT_EQ(session_ids(all), (ids{s1.id, s3.id, s2.id, s4.id}));
  EXPECT_EQ(all.page.total, 4);
  EXPECT_EQ(all.page.pages, 1);
  ASSERT_EQ(all.items.size(), 4u);
  EXPECT_EQ(all.items[0].message_count, 3);
  EXPECT_EQ(all.items[1].message_count, 1);
  EXPECT_EQ(all.items[2].message_count, 0);
  EXPECT_EQ(all.items[3].message_count, 0);
  EXPECT_EQ(all.items[0].session.title, "one");
  EXPECT_EQ(all.items[0].session.user_id, ann.id);
  EXPECT_EQ(all.items[0].session.channel, "websocket");
  EXPECT_EQ(all.items[0].session.status, "active");
  EXPECT_EQ(all.items[1].session.user_id, 0);
  EXPECT_EQ(all.items[3].session.status, "inactive");
  query.status = "all";
  EXPECT_EQ(session_ids(repo().list_sessions(query)),
            (ids{s1.id, s3.id, s2.id, s4.id}));
  query.status = "active";
  EXPECT_EQ(session_ids(repo().list_sessions(query)),
            (ids{s1.id, s3.id, s2.id}));
  query.status = "inactive";
  EXPECT_EQ(session_ids(repo().list_sessions(query)), (ids{s4.id}));
  query.status = "handoff";
  EXPECT_TRUE(repo().list_sessions(query).items.empty());
  query.status = "";
  query.user_id = ann.id;
  auto anns = repo().list_sessions(query);
  EXPECT_EQ(session_ids(anns), (ids{s1.id, s4.id}));
  EXPECT_EQ(anns.page.total, 2);
  query.status = "active";
  EXPECT_EQ(session_ids(repo().list_sessions(query)), (ids{s1.id}));
  query.user_id = bo.id;
  query.status = "inactive";
  EXPECT_TRUE(repo().list_sessions(query).items.empty());
  query.user_id = 4242;
  query.status = "all";
  EXPECT_EQ(repo().list_sessions(query).page.total, 0);
  // Pages.
  query.user_id = 0;
  query.page = page(2, 1);
  auto second = repo().list_sessions(query);
  EXPECT_EQ(session_ids(second), (ids{s3.id}));
  EXPECT_EQ(second.page.total, 4);
  EXPECT_EQ(second.page.pages, 4);
  EXPECT_EQ(second.items.at(0).message_count, 1);
  query.page = page(2, 3);
  EXPECT_EQ(session_ids(repo().list_sessions(query)), (ids{s4.id}));
  query.page = page(3, 3);
  auto past = repo().list_sessions(query);
  EXPECT_TRUE(past.items.empty());
  EXPECT_EQ(past.page.total, 4);
  EXPECT_EQ(past.page.pages, 2);
}

TEST_P(admin_repo, find_session_with_and_without_messages) {
  EXPECT_EQ(error_code([&] { repo().find_session(4242, true); }),
            storage_errc::not_found);
  auto session = session_for(0, "Help");
  auto other = session_for(0);
  auto q1 = say(session, "q1");
  auto a1 = answer(q1, "a1");
  auto q2 = say(session, "q2");
  say(other, "elsewhere");
  // created_at first, then id: q2 is dated before a1, a1 ties with q1.
  set_column("messages", "created_at", q1.id, "2025-01-01T00:00:00.000000Z");
  set_column("messages", "created_at", a1.id, "2025-01-01T00:00:00.000000Z");
  set_column("messages", "created_at", q2.id, "2024-12-31T00:00:00.000000Z");
  auto bare = repo().find_session(session.id, false);
  EXPECT_EQ(bare.listing.session.id, session.id);
  EXPECT_EQ(bare.listing.session.title, "Help");
  EXPECT_EQ(bare.listing.session.status, "active");
  EXPECT_EQ(bare.listing.session.created_at, session.created_at);
  EXPECT_EQ(bare.listing.message_count, 3);
  EXPECT_FALSE(bare.with_messages);
  EXPECT_TRUE(bare.messages.empty());
  auto full = repo().find_session(session.id, true);
  EXPECT_TRUE(full.with_messages);
  EXPECT_EQ(full.listing.message_count, 3);
  EXPECT_EQ(contents(full.messages), (strings{"q2", "q1", "a1"}));
  EXPECT_TRUE(full.messages[1].is_user);
  EXPECT_FALSE(full.messages[2].is_user);
  EXPECT_EQ(full.messages[2].reply_to, q1.id);
  EXPECT_EQ(full.messages[2].source, "fallback");
}

TEST_P(admin_repo, update_session_changes_title_and_status) {
  auto session = session_for(0, "Old");
  auto newer = session_for(0, "Newer");
  say(session, "x");
  set_column("chat_sessions", "updated_at", session.id,
             "2000-01-01T00:00:00.000000Z");
  session_patch patch;
  patch.set_title = true;
  patch.title = "New title";
  auto updated = repo().update_session(session.id, patch);
  EXPECT_EQ(updated.session.title, "New title");
  EXPECT_EQ(updated.session.status, "active");
  EXPECT_EQ(updated.session.channel, "websocket");
  EXPECT_EQ(updated.session.created_at, session.created_at);
  EXPECT_GT(updated.session.updated_at, "2000-01-01T00:00:00.000000Z");
  EXPECT_EQ(updated.message_count, 1);
  session_patch status;
  status.set_status = true;
  status.status = "inactive";
  auto closed = repo().update_session(session.id, status);
  EXPECT_EQ(closed.session.title, "New title");
  EXPECT_EQ(closed.session.status, "inactive");
  auto found = repo().find_session(session.id, false).listing.session;
  EXPECT_EQ(found.title, "New title");
  EXPECT_EQ(found.status, "inactive");
  EXPECT_EQ(found.updated_at, closed.session.updated_at);
  // The touched session is now the newest.
  EXPECT_GE(found.updated_at, newer.updated_at);
  // Bad input.
  EXPECT_EQ(error_code([&] { repo().update_session(4242, patch); }),
            storage_errc::not_found);
  session_patch bad_status;
  bad_status.set_status = true;
  bad_status.status = "handoff";
  EXPECT_EQ(error_code([&] { repo().update_session(session.id, bad_status); }),
            storage_errc::constraint);
  bad_status.status = "";
  EXPECT_EQ(error_code([&] { repo().update_session(session.id, bad_status); }),
            storage_errc::constraint);
  session_patch long_title;
  long_title.set_title = true;
  long_title.title = std::string(256, 't');
  EXPECT_EQ(error_code([&] { repo().update_session(session.id, long_title); }),
            storage_errc::constraint);
  EXPECT_EQ(repo().find_session(session.id, false).listing.session.status,
            "inactive");
  // An empty title is stored as none.
  session_patch clear;
  clear.set_title = true;
  EXPECT_EQ(repo().update_session(session.id, clear).session.title, "");
  EXPECT_EQ(repo().find_session(session.id, false).listing.session.title, "");
}

TEST_P(admin_repo, remove_session_deletes_messages_and_events) {
  auto session = session_for(0);
  auto other = session_for(0);
  auto q = say(session, "q");
  answer(q, "a");
  say(other, "keep");
  new_event event;
  event.session_id = session.id;
  event.event_type = "session_closed";
  chat().add_event(event);
  repo().remove_session(session.id);
  EXPECT_EQ(error_code([&] { repo().find_session(session.id, false); }),
            storage_errc::not_found);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM messages WHERE session_id = :id",
                   session.id),
            0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM chat_events WHERE session_id = :id",
                   session.id),
            0);
  EXPECT_EQ(repo().find_session(other.id, false).listing.message_count, 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM chat_events WHERE session_id = :id",
                   other.id),
            1);
  EXPECT_EQ(error_code([&] { repo().remove_session(session.id); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().remove_session(4242); }),
            storage_errc::not_found);
  EXPECT_FALSE(db().in_transaction());
}

// -- messages -----------------------------------------------------------------

TEST_P(admin_repo, list_messages_filters_and_paginates) {
  auto ann = repo().create_user(user_request("Ann", "ann@example.com"));
  auto bo = repo().create_user(user_request("Bo", "bo@example.com"));
  auto anns = session_for(ann.id);
  auto bos = session_for(bo.id);
  auto anon = session_for(0);
  auto q1 = say(anns, "ann q1");
  answer(q1, "ann a1");
  say(bos, "bo q1");
  say(anon, "anon by ann", ann.id); // logged in later, say
  say(anon, "anon q");
  message_query query;
  auto all = repo().list_messages(query);
  EXPECT_EQ(contents(all.items),
            (strings{"ann q1", "ann a1", "bo q1", "anon by ann", "anon q"}));
  EXPECT_EQ(all.page.total, 5);
  EXPECT_EQ(all.page.pages, 1);
  // A user's messages: those carrying their user_id, which answers to them
  // do too.
  query.user_id = ann.id;
  EXPECT_EQ(contents(repo().list_messages(query).items),
            (strings{"ann q1", "ann a1", "anon by ann"}));
  query.user_id = bo.id;
  EXPECT_EQ(contents(repo().list_messages(query).items), (strings{"bo q1"}));
  query.user_id = 4242;
  auto nobody = repo().list_messages(query);
  EXPECT_TRUE(nobody.items.empty());
  EXPECT_EQ(nobody.page.total, 0);
  EXPECT_EQ(nobody.page.pages, 0);
  query.user_id = 0;
  query.session_id = anon.id;
  EXPECT_EQ(contents(repo().list_messages(query).items),
            (strings{"anon by ann", "anon q"}));
  query.user_id = ann.id;
  EXPECT_EQ(contents(repo().list_messages(query).items),
            (strings{"anon by ann"}));
  query.session_id = bos.id;
  EXPECT_TRUE(repo().list_messages(query).items.empty());
  // Pages.
  query = message_query{};
  query.page = page(2, 2);
  auto second = repo().list_messages(query);
  EXPECT_EQ(contents(second.items), (strings{"bo q1", "anon by ann"}));
  EXPECT_EQ(second.page.total, 5);
  EXPECT_EQ(second.page.pages, 3);
  query.page = page(3, 2);
  EXPECT_EQ(contents(repo().list_messages(query).items), (strings{"anon q"}));
  query.page = page(4, 2);
  auto past = repo().list_messages(query);
  EXPECT_TRUE(past.items.empty());
  EXPECT_EQ(past.page.total, 5);
  query.page = page(1, 1);
  EXPECT_EQ(repo().list_messages(query).page.pages, 5);
  query.page = page(1, 100);
  EXPECT_EQ(repo().list_messages(query).items.size(), 5u);
}

TEST_P(admin_repo, list_messages_after_an_id) {
  auto ann = repo().create_user(user_request("Ann", "ann@example.com"));
  auto anns = session_for(ann.id);
  auto other = session_for(0);
  auto q1 = say(anns, "q1");
  auto a1 = answer(q1, "a1");
  say(other, "elsewhere");
  auto q2 = say(anns, "q2");
  message_query query;
  query.session_id = anns.id;
  query.after_id = q1.id;
  auto newer = repo().list_messages(query);
  EXPECT_EQ(contents(newer.items), (strings{"a1", "q2"}));
  EXPECT_EQ(newer.page.total, 2) << "the total counts what is after the id";
  query.after_id = q2.id;
  EXPECT_TRUE(repo().list_messages(query).items.empty());
  query.after_id = 0;
  EXPECT_EQ(contents(repo().list_messages(query).items),
            (strings{"q1", "a1", "q2"}));
  // With the other filters and across sessions.
  query = message_query{};
  query.after_id = a1.id;
  EXPECT_EQ(contents(repo().list_messages(query).items),
            (strings{"elsewhere", "q2"}));
  query.user_id = ann.id;
  EXPECT_EQ(contents(repo().list_messages(query).items), (strings{"q2"}));
}

TEST_P(admin_repo, list_messages_orders_by_created_at_then_id) {
  auto session = session_for(0);
  auto a = say(session, "a");
  auto b = say(session, "b");
  auto c = say(session, "c");
  set_column("messages", "created_at", a.id, "2025-01-02T00:00:00.000000Z");
  set_column("messages", "created_at", b.id, "2025-01-02T00:00:00.000000Z");
  set_column("messages", "created_at", c.id, "2025-01-01T00:00:00.000000Z");
  message_query query;
  query.session_id = session.id;
  auto page_of_all = repo().list_messages(query);
  EXPECT_EQ(contents(page_of_all.items), (strings{"c", "a", "b"}));
  auto& first = page_of_all.items.at(0);
  EXPECT_EQ(first.id, c.id);
  EXPECT_EQ(first.session_id, session.id);
  EXPECT_TRUE(first.is_user);
  EXPECT_EQ(first.role, "user");
  EXPECT_EQ(first.message_type, "text");
  EXPECT_EQ(first.created_at, "2025-01-01T00:00:00.000000Z");
}

// -- settings -----------------------------------------------------------------

TEST_P(admin_repo, list_settings_all_or_by_category) {
  EXPECT_EQ(keys(repo().list_settings("")),
            (strings{"ai_response_timeout_seconds", "enable_advanced_ai",
                     "max_message_length", "session_idle_timeout_minutes",
                     "welcome_message"}));
  EXPECT_EQ(keys(repo().list_settings("chat")),
            (strings{"max_message_length", "session_idle_timeout_minutes",
                     "welcome_message"}));
  EXPECT_EQ(keys(repo().list_settings("ai")),
            (strings{"ai_response_timeout_seconds", "enable_advanced_ai"}));
  EXPECT_TRUE(repo().list_settings("nope").empty());
  EXPECT_TRUE(repo().list_settings("CHAT").empty());
  auto chat = repo().list_settings("chat");
  EXPECT_EQ(chat.at(0).value, "4000");
  EXPECT_EQ(chat.at(0).category, "chat");
  EXPECT_EQ(chat.at(0).description, "Maximum characters in one chat message");
  EXPECT_GT(chat.at(0).id, 0);
  EXPECT_FALSE(chat.at(0).created_at.empty());
}

TEST_P(admin_repo, find_setting_by_key) {
  auto found = repo().find_setting("welcome_message");
  EXPECT_EQ(found.key, "welcome_message");
  EXPECT_EQ(found.value, "Hello! How can I help you today?");
  EXPECT_EQ(found.category, "chat");
  EXPECT_EQ(error_code([&] { repo().find_setting("missing"); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().find_setting("WELCOME_MESSAGE"); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().find_setting(""); }),
            storage_errc::not_found);
}

TEST_P(admin_repo, put_setting_updates_existing_keys) {
  auto before = repo().find_setting("max_message_length");
  setting_patch patch;
  patch.value = "2000";
  auto updated = repo().put_setting("max_message_length", patch);
  EXPECT_EQ(updated.id, before.id);
  EXPECT_EQ(updated.value, "2000");
  EXPECT_EQ(updated.description, before.description); // not set: kept
  EXPECT_EQ(updated.category, "chat");
  EXPECT_EQ(updated.created_at, before.created_at);
  EXPECT_GE(updated.updated_at, before.updated_at);
  auto found = repo().find_setting("max_message_length");
  EXPECT_EQ(found.value, "2000");
  EXPECT_EQ(found.description, before.description);
  EXPECT_EQ(found.updated_at, updated.updated_at);
  patch.value = "";
  patch.set_description = true;
  patch.description = "Shorter now";
  repo().put_setting("max_message_length", patch);
  found = repo().find_setting("max_message_length");
  EXPECT_EQ(found.value, "");
  EXPECT_EQ(found.description, "Shorter now");
  EXPECT_EQ(repo().list_settings("").size(), 5u);
}

TEST_P(admin_repo, put_setting_creates_new_keys_in_general) {
  setting_patch patch;
  patch.value = "dark";
  auto created = repo().put_setting("ui_theme", patch);
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.key, "ui_theme");
  EXPECT_EQ(created.value, "dark");
  EXPECT_EQ(created.description, "");
  EXPECT_EQ(created.category, "general");
  EXPECT_EQ(created.created_at, created.updated_at);
  auto found = repo().find_setting("ui_theme");
  EXPECT_EQ(found.id, created.id);
  EXPECT_EQ(found.value, "dark");
  EXPECT_EQ(found.category, "general");
  EXPECT_EQ(keys(repo().list_settings("general")), (strings{"ui_theme"}));
  patch.set_description = true;
  patch.description = "Colours";
  auto with_description = repo().put_setting("ui_tone", patch);
  EXPECT_EQ(repo().find_setting("ui_tone").description, "Colours");
  EXPECT_EQ(with_description.category, "general");
  EXPECT_EQ(repo().list_settings("").size(), 7u);
}

TEST_P(admin_repo, put_setting_rejects_bad_keys_and_values) {
  setting_patch patch;
  patch.value = "x";
  EXPECT_EQ(error_code([&] { repo().put_setting("", patch); }),
            storage_errc::constraint);
  EXPECT_EQ(error_code([&] { repo().put_setting(std::string(129, 'k'), patch); }),
            storage_errc::constraint);
  EXPECT_EQ(repo().put_setting(std::string(128, 'k'), patch).key.size(), 128u);
  patch.value = std::string(65536, 'v');
  EXPECT_EQ(error_code([&] { repo().put_setting("big", patch); }),
            storage_errc::constraint);
  patch.value = std::string(65535, 'v');
  EXPECT_EQ(repo().put_setting("big", patch).value.size(), 65535u);
  EXPECT_EQ(repo().find_setting("big").value.size(), 65535u);
}

// -- transactions -------------------------------------------------------------

TEST_P(admin_repo, joins_the_callers_transaction) {
  db().begin();
  auto user = repo().create_user(user_request("Ann", "ann@example.com"));
  auto session = session_for(user.id);
  setting_patch patch;
  patch.value = "1";
  repo().put_setting("new_key", patch);
  EXPECT_EQ(repo().list_users({}).page.total, 1);
  EXPECT_TRUE(db().in_transaction());
  db().rollback();
  EXPECT_EQ(repo().list_users({}).page.total, 0);
  EXPECT_EQ(error_code([&] { repo().find_session(session.id, false); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().find_setting("new_key"); }),
            storage_errc::not_found);
  db().begin();
  auto again = repo().create_user(user_request("Ann", "ann@example.com"));
  repo().remove_user(again.id);
  db().commit();
  EXPECT_EQ(repo().list_users({}).page.total, 0);
}

TEST_P(admin_repo, not_found_inside_a_transaction_keeps_it_usable) {
  db().begin();
  EXPECT_EQ(error_code([&] { repo().remove_session(4242); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().update_user(4242, user_patch{}); }),
            storage_errc::not_found);
  auto user = repo().create_user(user_request("Ann", "ann@example.com"));
  db().commit();
  EXPECT_EQ(repo().find_user(user.id).name, "Ann");
}

TEST_P(admin_repo, keeps_working_after_a_failed_statement) {
  // Makes writes fail at the database (not in our checks) on every backend.
  auto read_only = [&](bool on) {
    switch (db().backend()) {
      case db_backend::sqlite:
        db().sql() << (on ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0");
        break;
      case db_backend::postgresql:
        db().sql() << (on ? "SET default_transaction_read_only = on"
                          : "SET default_transaction_read_only = off");
        break;
      case db_backend::mysql:
        db().sql() << (on ? "SET SESSION TRANSACTION READ ONLY"
                          : "SET SESSION TRANSACTION READ WRITE");
        break;
    }
  };
  auto request = user_request("Ann", "ann@example.com");
  request.avatar_url = "https://a";
  read_only(true);
  error_of([&] { repo().create_user(request); });
  EXPECT_FALSE(db().in_transaction());
  read_only(false);
  // The insert statement failed above; reused as is, SOCI 4.0.3 would send
  // the old avatar_url instead of NULL on PostgreSQL.
  auto bo = repo().create_user(user_request("Bo", "bo@example.com"));
  EXPECT_EQ(repo().find_user(bo.id).avatar_url, "");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM users WHERE id = :id "
                   "AND avatar_url IS NULL",
                   bo.id),
            1);
  EXPECT_FALSE(repo().find_user_by_email("ann@example.com"));
  // The same for an update and a delete.
  user_patch patch;
  patch.set_name = true;
  patch.name = "Bob";
  read_only(true);
  error_of([&] { repo().update_user(bo.id, patch); });
  error_of([&] { repo().remove_user(bo.id); });
  read_only(false);
  EXPECT_EQ(repo().find_user(bo.id).name, "Bo");
  EXPECT_EQ(repo().update_user(bo.id, patch).name, "Bob");
  repo().remove_user(bo.id);
  EXPECT_EQ(repo().list_users({}).page.total, 0);
}

INSTANTIATE_TEST_SUITE_P(storage, admin_repo, testing::ValuesIn(all_targets()),
                         target_name);
