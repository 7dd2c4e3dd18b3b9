// REST contract: /api/users and /api/users/{id}, on every test backend.

#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rest_fixture.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class rest_users : public rest_fixture {};

PARLEY_REST_SUITE(rest_users);

std::string user_path(std::int64_t id) {
  return "/api/users/" + std::to_string(id);
}

TEST_P(rest_users, create_returns_201_with_the_user) {
  auto email = unique_email("jane");
  json body{{"name", "Jane Smith"},
            {"email", email},
            {"avatar_url", "https://example.com/avatar.jpg"},
            {"preferences", {{"theme", "dark"}, {"lang", "de"}}}};
  auto reply = api().post("/api/users", body);
  ASSERT_TRUE(is_success(reply, 201));
  const auto& data = reply.data();
  ASSERT_TRUE(data.is_object()) << reply.describe();
  ASSERT_TRUE(data.contains("id") && data["id"].is_number_integer())
    << reply.describe();
  EXPECT_EQ(data.value("message", ""), "User created successfully")
    << reply.describe();
  ASSERT_TRUE(data.contains("user")) << reply.describe();
  const auto& user = data["user"];
  ASSERT_TRUE(is_user_object(user)) << reply.describe();
  EXPECT_EQ(user["id"], data["id"]);
  EXPECT_EQ(user["name"], "Jane Smith");
  EXPECT_EQ(user["email"], email);
  EXPECT_EQ(user["avatar_url"], "https://example.com/avatar.jpg");
  EXPECT_EQ(user["status"], "active");
  EXPECT_EQ(user["preferences"], body["preferences"]);
  EXPECT_GE(user["updated_at"].get<std::string>(),
            user["created_at"].get<std::string>())
    << user;
}

TEST_P(rest_users, create_without_optional_fields_gives_null_and_empty) {
  auto email = unique_email("min");
  auto user = create_user("Min Imal", email);
  EXPECT_TRUE(user["avatar_url"].is_null()) << user;
  EXPECT_EQ(user["preferences"], json::object()) << user;
  // GET shows the same.
  auto reply = api().get(user_path(user["id"].get<std::int64_t>()));
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_EQ(reply.data(), user) << reply.describe();
}

TEST_P(rest_users, get_put_delete_round_trip) {
  auto user = create_user("Round Trip", unique_email("rt"));
  auto id = user["id"].get<std::int64_t>();
  auto path = user_path(id);

  auto got = api().get(path);
  ASSERT_TRUE(is_success(got, 200));
  ASSERT_TRUE(is_user_object(got.data())) << got.describe();
  EXPECT_EQ(got.data(), user) << got.describe();

  auto new_email = unique_email("rt-new");
  json patch{{"name", "Renamed"},
             {"email", new_email},
             {"avatar_url", "https://example.com/b.png"},
             {"status", "inactive"},
             {"preferences", {{"theme", "light"}}}};
  auto put = api().put(path, patch);
  ASSERT_TRUE(is_success(put, 200));
  const auto& updated = put.data();
  ASSERT_TRUE(is_user_object(updated)) << put.describe();
  EXPECT_EQ(updated["id"], id);
  EXPECT_EQ(updated["name"], "Renamed");
  EXPECT_EQ(updated["email"], new_email);
  EXPECT_EQ(updated["avatar_url"], "https://example.com/b.png");
  EXPECT_EQ(updated["status"], "inactive");
  EXPECT_EQ(updated["preferences"], json({{"theme", "light"}}));
  EXPECT_EQ(updated["created_at"], user["created_at"]);
  EXPECT_GE(updated["updated_at"].get<std::string>(),
            user["updated_at"].get<std::string>());

  // A partial update changes only what it names.
  auto partial = api().put(path, {{"name", "Only Name"}});
  ASSERT_TRUE(is_success(partial, 200));
  EXPECT_EQ(partial.data()["name"], "Only Name") << partial.describe();
  EXPECT_EQ(partial.data()["email"], new_email) << partial.describe();
  EXPECT_EQ(partial.data()["status"], "inactive") << partial.describe();
  EXPECT_EQ(partial.data()["preferences"], json({{"theme", "light"}}))
    << partial.describe();

  auto again = api().get(path);
  ASSERT_TRUE(is_success(again, 200));
  EXPECT_EQ(again.data(), partial.data()) << again.describe();

  auto removed = api().del(path);
  ASSERT_TRUE(is_success(removed, 200));
  EXPECT_EQ(removed.data(),
            json({{"id", id}, {"message", "User deleted successfully"}}))
    << removed.describe();

  EXPECT_TRUE(is_error(api().get(path), 404));
  EXPECT_TRUE(is_error(api().put(path, {{"name", "Ghost"}}), 404));
  EXPECT_TRUE(is_error(api().del(path), 404));
  // The email is free again.
  auto reused = api().post("/api/users",
                           {{"name", "Reuse"}, {"email", new_email}});
  EXPECT_TRUE(is_success(reused, 201));
}

TEST_P(rest_users, duplicate_email_is_409) {
  auto email = unique_email("dup");
  auto first = create_user("First", email);
  auto second = api().post("/api/users", {{"name", "Second"}, {"email", email}});
  EXPECT_TRUE(is_error(second, 409));

  // Changing another user's email to a taken one is a conflict too.
  auto other = create_user("Other", unique_email("dup-other"));
  auto put = api().put(user_path(other["id"].get<std::int64_t>()),
                       {{"email", email}});
  EXPECT_TRUE(is_error(put, 409));
  // Neither request changed anything.
  auto list = get_all("/api/users?search=" + url_encode(email));
  ASSERT_EQ(list.size(), 1u) << json(list).dump();
  EXPECT_EQ(list[0]["id"], first["id"]);
  auto unchanged = api().get(user_path(other["id"].get<std::int64_t>()));
  ASSERT_TRUE(is_success(unchanged, 200));
  EXPECT_EQ(unchanged.data()["email"], other["email"]) << unchanged.describe();
}

TEST_P(rest_users, create_rejects_missing_and_invalid_fields_with_400) {
  auto email = unique_email("bad");
  const json bodies[] = {
    json::object(),
    {{"name", "No Email"}},
    {{"email", email}},                         // no name
    {{"name", "X"}, {"email", 42}},
    {{"name", 42}, {"email", email}},
    {{"name", nullptr}, {"email", email}},
    {{"name", "X"}, {"email", nullptr}},
    {{"name", "X"}, {"email", "no-at-sign"}},
    {{"name", "X"}, {"email", email}, {"preferences", "dark"}},
    {{"name", "X"}, {"email", email}, {"preferences", json::array({1, 2})}},
    {{"name", "X"}, {"email", email}, {"avatar_url", 7}},
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body.dump());
    EXPECT_TRUE(is_error(api().post("/api/users", body), 400));
  }
  // None of them created the user.
  EXPECT_TRUE(get_all("/api/users?search=" + url_encode(email)).empty());
}

TEST_P(rest_users, update_rejects_invalid_fields_with_400) {
  auto user = create_user("Valid", unique_email("upd"));
  auto path = user_path(user["id"].get<std::int64_t>());
  const json bodies[] = {
    {{"name", 42}},
    {{"email", 42}},
    {{"email", "no-at-sign"}},
    {{"status", 1}},
    {{"preferences", "dark"}},
    {{"avatar_url", json::array()}},
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body.dump());
    EXPECT_TRUE(is_error(api().put(path, body), 400));
  }
  auto after = api().get(path);
  ASSERT_TRUE(is_success(after, 200));
  EXPECT_EQ(after.data(), user) << after.describe();
}

TEST_P(rest_users, ids_that_are_not_positive_integers_are_400) {
  for (std::string id : {"abc", "1abc", "1.5", "-1", "0", "0x10", "%20",
                         "99999999999999999999999"}) {
    SCOPED_TRACE("id: " + id);
    EXPECT_TRUE(is_error(api().get("/api/users/" + id), 400));
    EXPECT_TRUE(is_error(api().put("/api/users/" + id, {{"name", "X"}}), 400));
    EXPECT_TRUE(is_error(api().del("/api/users/" + id), 400));
  }
  // A well-formed id that does not exist is 404.
  EXPECT_TRUE(is_error(api().get("/api/users/9223372036854775807"), 404));
  EXPECT_TRUE(is_error(api().get("/api/users/987654321"), 404));
}

TEST_P(rest_users, list_paginates_a_search) {
  auto token = unique("page");
  std::vector<std::int64_t> created;
  for (int i = 0; i < 23; ++i)
    created.push_back(
      create_user("Pager " + std::to_string(i),
                  token + "-" + std::to_string(i) + "@example.com")["id"]
        .get<std::int64_t>());
  auto base = "/api/users?search=" + token;

  auto first = api().get(base);
  ASSERT_TRUE(is_success(first, 200));
  EXPECT_TRUE(has_pagination(first, 1, 10, 23, 3));

  std::vector<std::int64_t> seen;
  for (int page = 1; page <= 3; ++page) {
    auto reply = api().get(base + "&page=" + std::to_string(page) + "&limit=10");
    ASSERT_TRUE(is_success(reply, 200));
    EXPECT_TRUE(has_pagination(reply, page, 10, 23, 3));
    for (const auto& user : reply.data()) {
      EXPECT_TRUE(is_user_object(user));
      seen.push_back(user["id"].get<std::int64_t>());
    }
  }
  // The pages together are every match exactly once.
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, created);

  auto past = api().get(base + "&page=4&limit=10");
  ASSERT_TRUE(is_success(past, 200));
  EXPECT_TRUE(has_pagination(past, 4, 10, 23, 3));

  auto one = api().get(base + "&limit=1&page=23");
  ASSERT_TRUE(is_success(one, 200));
  EXPECT_TRUE(has_pagination(one, 23, 1, 23, 23));

  auto all = api().get(base + "&limit=100");
  ASSERT_TRUE(is_success(all, 200));
  EXPECT_TRUE(has_pagination(all, 1, 100, 23, 1));

  auto exact = api().get(base + "&limit=23");
  ASSERT_TRUE(is_success(exact, 200));
  EXPECT_TRUE(has_pagination(exact, 1, 23, 23, 1));
}

TEST_P(rest_users, list_defaults_to_page_1_limit_10) {
  create_user("Default Limit", unique_email("deflt"));
  auto reply = api().get("/api/users");
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_TRUE(has_consistent_pagination(reply, 1, 10));
  for (const auto& user : reply.data())
    EXPECT_TRUE(is_user_object(user));
}

TEST_P(rest_users, search_matches_name_or_email_case_insensitively) {
  auto token = unique("srch");
  auto in_name = create_user("Ann " + token + " Lee", unique_email("a"));
  auto in_email = create_user("Bob", "bob." + token + "@example.com");
  create_user("Carl", unique_email("c")); // matches nothing

  auto ids = [&](const std::string& search) {
    std::vector<std::int64_t> result;
    for (const auto& user : get_all("/api/users?search=" + url_encode(search)))
      result.push_back(user["id"].get<std::int64_t>());
    std::sort(result.begin(), result.end());
    return result;
  };
  std::vector<std::int64_t> both{in_name["id"].get<std::int64_t>(),
                                 in_email["id"].get<std::int64_t>()};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(ids(token), both);
  std::string upper = token;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  EXPECT_EQ(ids(upper), both) << "search is case-insensitive: " << upper;
  EXPECT_EQ(ids("ann " + token), std::vector<std::int64_t>{
                                     in_name["id"].get<std::int64_t>()});
  EXPECT_EQ(ids("BOB." + upper), std::vector<std::int64_t>{
                                    in_email["id"].get<std::int64_t>()});

  auto none = api().get("/api/users?search=" + url_encode(token + "-nothing"));
  ASSERT_TRUE(is_success(none, 200));
  EXPECT_TRUE(has_pagination(none, 1, 10, 0, 0));
  EXPECT_EQ(none.data(), json::array()) << none.describe();
}

TEST_P(rest_users, search_treats_sql_wildcards_literally) {
  auto token = unique("wild");
  auto percent = create_user("Pct " + token + "%x", unique_email("p"));
  create_user("Other " + token + "ax", unique_email("o"));
  auto reply = get_all("/api/users?search=" + url_encode(token + "%x"));
  ASSERT_EQ(reply.size(), 1u) << json(reply).dump();
  EXPECT_EQ(reply[0]["id"], percent["id"]);
  auto underscore = get_all("/api/users?search=" + url_encode(token + "_x"));
  EXPECT_TRUE(underscore.empty()) << json(underscore).dump();
}

TEST_P(rest_users, bad_page_and_limit_are_400) {
  for (std::string query : {"limit=0", "limit=101", "limit=-1", "limit=abc",
                            "limit=1.5", "limit=1e2", "page=0", "page=-1",
                            "page=abc", "page=2.0",
                            "page=99999999999999999999999",
                            "limit=99999999999999999999999"}) {
    SCOPED_TRACE(query);
    EXPECT_TRUE(is_error(api().get("/api/users?" + query), 400));
  }
  auto edge = api().get("/api/users?limit=100&page=1");
  ASSERT_TRUE(is_success(edge, 200));
  EXPECT_TRUE(has_consistent_pagination(edge, 1, 100));
  auto smallest = api().get("/api/users?limit=1");
  ASSERT_TRUE(is_success(smallest, 200));
  EXPECT_TRUE(has_consistent_pagination(smallest, 1, 1));
}

// JSON strings may hold any code point, U+0000 included. The server may
// refuse such a name (400), but what it accepts it must store as answered:
// a later GET that shows another name (or another email) is corrupted data.
TEST_P(rest_users, control_characters_are_stored_exactly_or_refused) {
  auto token = unique("ctl");
  const std::string names[] = {std::string{"nul\0inside", 10}, "tab\there",
                               "line\nbreak", "bell\x07", "esc\x1b[0m"};
  for (const auto& name : names) {
    SCOPED_TRACE(json(name).dump());
    auto email = unique(token) + "@example.com";
    auto reply = api().post("/api/users", {{"name", name}, {"email", email}});
    if (reply.status == 400) {
      EXPECT_TRUE(is_error(reply, 400));
      continue;
    }
    ASSERT_TRUE(is_success(reply, 201));
    EXPECT_EQ(reply.data()["user"]["name"], name) << reply.describe();
    auto got = api().get(user_path(reply.data()["id"].get<std::int64_t>()));
    ASSERT_TRUE(is_success(got, 200));
    EXPECT_EQ(got.data(), reply.data()["user"]) << got.describe();
  }
  // The same for the email, whose NUL would also cut off the '@...'.
  auto email = std::string("nul\0", 4) + unique(token) + "@example.com";
  auto reply = api().post("/api/users", {{"name", "Nul Mail"}, {"email", email}});
  if (reply.status == 400) {
    EXPECT_TRUE(is_error(reply, 400));
  } else {
    ASSERT_TRUE(is_success(reply, 201));
    auto got = api().get(user_path(reply.data()["id"].get<std::int64_t>()));
    ASSERT_TRUE(is_success(got, 200));
    EXPECT_EQ(got.data()["email"], email) << got.describe();
  }
}

TEST_P(rest_users, unicode_round_trips) {
  auto email = unique_email("uni");
  auto user = create_user("Zoë Ångström 日本 🙂", email,
                          {{"preferences", {{"greeting", "grüß dich"}}}});
  EXPECT_EQ(user["name"], "Zoë Ångström 日本 🙂");
  auto got = api().get(user_path(user["id"].get<std::int64_t>()));
  ASSERT_TRUE(is_success(got, 200));
  EXPECT_EQ(got.data()["name"], "Zoë Ångström 日本 🙂") << got.describe();
  EXPECT_EQ(got.data()["preferences"], json({{"greeting", "grüß dich"}}));
  // A non-ASCII search term (same case: case folding is only promised for
  // ASCII, SQLite's LIKE folds nothing else).
  auto found = get_all("/api/users?search=" + url_encode("Ångström 日本"));
  EXPECT_TRUE(std::any_of(found.begin(), found.end(), [&](const json& u) {
    return u["id"] == user["id"];
  })) << "search for a non-ASCII part of the name found: " << json(found);
}

} // namespace
