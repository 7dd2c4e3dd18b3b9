// REST contract: the error classes every endpoint shares (404, 405, 400 for
// malformed bodies, 413, 415, 503), and that no bad input ever gets a 5xx,
// on every test backend.

#include <algorithm>
#include <future>
#include <string>
#include <vector>

#include <soci/soci.h>

#include <gtest/gtest.h>

#include "storage/database.hpp"
#include "tests/e2e/rest_db_probe.hpp"
#include "tests/e2e/rest_fixture.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class rest_errors : public rest_fixture {};

PARLEY_REST_SUITE(rest_errors);

/// The methods in an Allow header ("GET, POST" -> {GET, POST}), sorted.
std::vector<std::string> allowed(const rest_reply& reply) {
  std::vector<std::string> result;
  auto text = reply.header("Allow");
  std::string word;
  for (char ch : text + ",") {
    if (ch == ',' || ch == ' ') {
      if (!word.empty())
        result.push_back(word);
      word.clear();
    } else {
      word += ch;
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

/// The request bodies of POST and PUT endpoints, with a target that exists.
struct body_endpoint {
  std::string method;
  std::string target;
};

std::vector<body_endpoint> body_endpoints(std::int64_t user_id,
                                          std::int64_t session_id) {
  return {
    {"POST", "/api/chat/send"},
    {"POST", "/api/messages"},
    {"POST", "/api/users"},
    {"PUT", "/api/users/" + std::to_string(user_id)},
    {"POST", "/api/sessions"},
    {"PUT", "/api/sessions/" + std::to_string(session_id)},
    {"PUT", "/api/settings/welcome_message"},
  };
}

TEST_P(rest_errors, unknown_ids_get_one_plain_404_per_kind) {
  // Whichever endpoint (and, inside, whichever function) finds the session
  // missing, the client reads the same words, without internal names.
  const std::string sid = "987654321";
  const std::vector<std::pair<std::string, std::string>> session_calls{
    {"GET", "/api/sessions/" + sid},
    {"GET", "/api/sessions/" + sid + "?include_messages=true"},
    {"PUT", "/api/sessions/" + sid},
    {"PUT", "/api/sessions/" + sid + "#status"},
    {"DELETE", "/api/sessions/" + sid},
    {"POST", "/api/sessions/" + sid + "/agent-message"},
    {"POST", "/api/sessions/" + sid + "/release"},
  };
  for (const auto& [method, target] : session_calls) {
    SCOPED_TRACE(method + " " + target);
    rest_reply reply;
    if (method == "GET")
      reply = api().get(target);
    else if (method == "DELETE")
      reply = api().del(target);
    else if (target.find("#status") != std::string::npos)
      reply = api().put(target.substr(0, target.find('#')),
                        {{"status", "inactive"}});
    else if (method == "PUT")
      reply = api().put(target, {{"title", "x"}});
    else
      reply = api().post(target, {{"text", "hello"}});
    ASSERT_TRUE(is_error(reply, 404));
    EXPECT_EQ(reply.json["error"], "no session " + sid) << reply.describe();
  }
  for (auto reply : {api().get("/api/users/" + sid),
                     api().put("/api/users/" + sid, {{"name", "x"}}),
                     api().del("/api/users/" + sid),
                     api().post("/api/sessions", {{"user_id", 987654321}})}) {
    ASSERT_TRUE(is_error(reply, 404));
    EXPECT_EQ(reply.json["error"], "no user " + sid) << reply.describe();
  }
  auto setting = api().get("/api/settings/" + unique("missing"));
  ASSERT_TRUE(is_error(setting, 404));
  EXPECT_EQ(setting.json["error"].get<std::string>().rfind("no setting ", 0),
            0u)
    << setting.describe();
}

TEST_P(rest_errors, unknown_api_paths_are_404) {
  for (std::string target :
       {"/api", "/api/", "/api/nope", "/api/users/1/sessions", "/api/user",
        "/api/users/1/", "/api/llm", "/api/chat", "/api/settings/a/b",
        "/api/USERS", "/api/sessions/1/messages?x=1"}) {
    SCOPED_TRACE(target);
    EXPECT_TRUE(is_error(api().get(target), 404));
  }
  EXPECT_TRUE(is_error(api().post("/api/nope", json::object()), 404));
  EXPECT_TRUE(is_error(api().del("/api/nope/1"), 404));
}

TEST_P(rest_errors, wrong_methods_are_405_with_allow) {
  struct expectation {
    std::string method;
    std::string target;
    std::vector<std::string> allow; // sorted; HEAD may come on top of GET
  };
  const expectation cases[] = {
    {"DELETE", "/api/llm/health", {"GET"}},
    {"POST", "/api/llm/health", {"GET"}},
    {"GET", "/api/chat/send", {"POST"}},
    {"PUT", "/api/chat/send", {"POST"}},
    {"DELETE", "/api/users", {"GET", "POST"}},
    {"PUT", "/api/users", {"GET", "POST"}},
    {"POST", "/api/users/1", {"DELETE", "GET", "PUT"}},
    {"PATCH", "/api/users/1", {"DELETE", "GET", "PUT"}},
    {"DELETE", "/api/sessions", {"GET", "POST"}},
    {"POST", "/api/sessions/1", {"DELETE", "GET", "PUT"}},
    {"PUT", "/api/messages", {"GET", "POST"}},
    {"DELETE", "/api/messages", {"GET", "POST"}},
    {"POST", "/api/settings", {"GET"}},
    {"DELETE", "/api/settings/enable_advanced_ai", {"GET", "PUT"}},
    {"POST", "/api/settings/enable_advanced_ai", {"GET", "PUT"}},
    {"BREW", "/api/users", {"GET", "POST"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    auto reply = c.method == "PUT" || c.method == "POST" || c.method == "PATCH"
                   ? api().send_json_text(c.method, c.target, "{}")
                   : api().send(c.method, c.target);
    EXPECT_TRUE(is_error(reply, 405));
    auto got = allowed(reply);
    got.erase(std::remove(got.begin(), got.end(), "HEAD"), got.end());
    EXPECT_EQ(got, c.allow) << reply.describe();
  }
}

TEST_P(rest_errors, malformed_or_non_object_bodies_are_400) {
  auto user = create_user("Body Target", unique_email("body"));
  auto session = create_session(user["id"].get<std::int64_t>(), "body");
  const std::string bodies[] = {
    "",
    "{",
    "{\"name\": }",
    "{'single': 'quotes'}",
    "{\"a\": 1} trailing",
    "[]",
    "[{\"message\": \"hi\"}]",
    "\"a string\"",
    "42",
    "null",
    "true",
    "{\"message\": \"\xFF\xFE not UTF-8\"}",
  };
  for (const auto& endpoint :
       body_endpoints(user["id"].get<std::int64_t>(),
                      session["id"].get<std::int64_t>())) {
    for (const auto& body : bodies) {
      SCOPED_TRACE(endpoint.method + " " + endpoint.target + " body: " + body);
      EXPECT_TRUE(is_error(
        api().send_json_text(endpoint.method, endpoint.target, body), 400));
    }
  }
  // The targets are unchanged.
  auto got = api().get("/api/users/" + user["id"].dump());
  ASSERT_TRUE(is_success(got, 200));
  EXPECT_EQ(got.data(), user) << got.describe();
}

TEST_P(rest_errors, bodies_that_are_not_json_are_415) {
  auto user = create_user("Media Target", unique_email("media"));
  auto session = create_session(user["id"].get<std::int64_t>(), "media");
  auto email = unique_email("media-new");
  for (const auto& endpoint :
       body_endpoints(user["id"].get<std::int64_t>(),
                      session["id"].get<std::int64_t>())) {
    // A body that would be valid JSON, labelled as something else.
    json body{{"message", "hi"}, {"user_email", email}, {"name", "X"},
              {"email", email}, {"user_id", user["id"]}, {"title", "t"},
              {"value", "v"}};
    for (const http_headers& headers :
         {http_headers{{"Content-Type", "text/plain"}},
          http_headers{{"Content-Type", "application/x-www-form-urlencoded"}},
          http_headers{{"Content-Type", "application/jsonp"}},
          http_headers{}}) {
      SCOPED_TRACE(endpoint.method + " " + endpoint.target + " with "
                   + (headers.empty() ? std::string{"no Content-Type"}
                                      : headers[0].second));
      EXPECT_TRUE(is_error(api().send(endpoint.method, endpoint.target,
                                      body.dump(), headers),
                           415));
    }
  }
  EXPECT_TRUE(get_all("/api/users?search=" + url_encode(email)).empty())
    << "nothing was created";
}

TEST_P(rest_errors, json_content_type_parameters_are_accepted) {
  for (std::string type : {"application/json; charset=utf-8",
                           "application/json;charset=UTF-8",
                           "Application/JSON"}) {
    SCOPED_TRACE(type);
    auto reply = api().send("POST", "/api/users",
                            json({{"name", "Typed"},
                                  {"email", unique_email("typed")}})
                              .dump(),
                            {{"Content-Type", type}});
    EXPECT_TRUE(is_success(reply, 201));
  }
}

TEST_P(rest_errors, bodies_over_1_mib_are_413) {
  const std::size_t limit = 1024 * 1024;
  auto email = unique_email("huge");
  // Valid JSON of exactly 1 MiB: accepted (the user exists afterwards).
  auto fitting = json({{"name", "Fits"}, {"email", email}}).dump();
  fitting.insert(fitting.size() - 1, std::string(limit - fitting.size(), ' '));
  ASSERT_EQ(fitting.size(), limit);
  auto ok = api().send_json_text("POST", "/api/users", fitting);
  EXPECT_TRUE(is_success(ok, 201));

  // One byte more: 413, whatever the endpoint, before the JSON is looked at.
  auto too_big = json({{"message", "x"}, {"user_email", unique_email("big")}})
                   .dump();
  too_big.insert(too_big.size() - 1,
                 std::string(limit + 1 - too_big.size(), ' '));
  ASSERT_EQ(too_big.size(), limit + 1);
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{
         {"POST", "/api/chat/send"},
         {"POST", "/api/users"},
         {"PUT", "/api/settings/welcome_message"}}) {
    SCOPED_TRACE(method + " " + target);
    auto reply = api().send_json_text(method, target, too_big);
    EXPECT_TRUE(is_error(reply, 413));
  }
  // A big body that is not even JSON is 413 too, and the server lives on.
  auto garbage = api().send_json_text("POST", "/api/users",
                                      std::string(4 * limit, 'x'));
  EXPECT_TRUE(is_error(garbage, 413));
  auto health = http_get(server().host(), server().port(), "/health");
  EXPECT_EQ(health.status, 200u) << health.body;
}

TEST_P(rest_errors, no_bad_input_gets_a_5xx) {
  auto user = create_user("Fuzz Target", unique_email("fuzz"));
  auto uid = user["id"].get<std::int64_t>();
  auto session = create_session(uid, "fuzz");
  auto sid = session["id"].get<std::int64_t>();
  auto email = unique_email("fuzz-new");
  std::string deep_open(2000, '[');
  std::string deep_close(2000, ']');
  struct probe {
    std::string method;
    std::string target;
    std::string body; // sent as application/json when not empty
  };
  const probe probes[] = {
    {"GET", "/api/users?page=9223372036854775807&limit=100", ""},
    {"GET", "/api/users?page=9223372036854775808", ""},
    {"GET", "/api/users?limit=%00", ""},
    {"GET", "/api/users?search=%FF%FE", ""},
    {"GET", "/api/users?search=%27%3B%20DROP%20TABLE%20users%3B--", ""},
    {"GET", "/api/sessions?user_id=9223372036854775808", ""},
    {"GET", "/api/sessions?status=%00", ""},
    {"GET", "/api/messages?session_id=-9223372036854775809", ""},
    {"GET", "/api/users/9223372036854775808", ""},
    {"GET", "/api/settings/%FF", ""},
    {"GET", "/api/settings/%", ""},
    {"POST", "/api/users", json({{"name", "X"}, {"email", email},
                                 {"preferences", {{"a", deep_open}}}})
                             .dump()},
    {"POST", "/api/users", "{\"name\":\"X\",\"email\":\"" + email
                             + "\",\"preferences\":{\"x\":" + deep_open
                             + deep_close + "}}"},
    {"POST", "/api/users", "{\"name\":\"X\",\"email\":1e400}"},
    {"POST", "/api/users", "{\"name\":\"X\\u0000Y\",\"email\":\"nul\\u0000"
                             + email + "\"}"},
    {"POST", "/api/users", "{\"name\":\"\\ud800\",\"email\":\"" + email + "\"}"},
    {"POST", "/api/users", "{\"name\":\"" + std::string(100000, 'n')
                             + "\",\"email\":\"long-" + email + "\"}"},
    {"PUT", "/api/users/" + std::to_string(uid),
     "{\"email\":\"" + std::string(5000, 'e') + "@example.com\"}"},
    {"PUT", "/api/users/" + std::to_string(uid), "{\"status\":\"" + std::string(1000, 's') + "\"}"},
    {"POST", "/api/sessions", "{\"user_id\":9223372036854775808,\"title\":\"t\"}"},
    {"POST", "/api/sessions", "{\"user_id\":-1,\"title\":\"t\"}"},
    {"POST", "/api/sessions", "{\"user_id\":" + std::to_string(uid)
                                + ",\"title\":\"" + std::string(100000, 't') + "\"}"},
    {"PUT", "/api/sessions/" + std::to_string(sid),
     "{\"title\":\"" + std::string(100000, 't') + "\"}"},
    {"POST", "/api/chat/send", "{\"message\":\"hi\",\"user_email\":\"a@b\","
                               "\"session_id\":9223372036854775808}"},
    {"POST", "/api/chat/send", "{\"message\":\"hi\",\"user_email\":\"a@b\","
                               "\"session_id\":1e3}"},
    {"POST", "/api/chat/send", "{\"message\":\"hi\",\"user_email\":\""
                               + std::string(5000, 'u') + "@example.com\"}"},
    {"POST", "/api/chat/send", "{\"message\":\"hi\",\"user_email\":\"" + email
                               + "\",\"session_id\":" + std::to_string(sid)
                               + ",\"client_id\":\"" + std::string(5000, 'c') + "\"}"},
    {"POST", "/api/chat/send", "{\"message\":\"hi\",\"user_email\":\"" + email
                               + "\",\"message_type\":\"" + std::string(1000, 'm') + "\"}"},
    {"POST", "/api/chat/send", "{\"message\":\"hi\",\"user_email\":\"" + email
                               + "\",\"metadata\":{\"deep\":" + deep_open
                               + deep_close + "}}"},
    {"PUT", "/api/settings/" + std::string(2000, 'k'), "{\"value\":\"v\"}"},
    {"PUT", "/api/settings/welcome_message", "{\"value\":\"v\",\"value\":3}"},
  };
  for (const auto& p : probes) {
    SCOPED_TRACE(p.method + " " + p.target.substr(0, 120) + " "
                 + p.body.substr(0, 120));
    auto reply = p.body.empty() ? api().send(p.method, p.target)
                                : api().send_json_text(p.method, p.target, p.body);
    EXPECT_LT(reply.status, 500u) << reply.describe();
    EXPECT_TRUE(reply.is_json()) << reply.describe();
    if (reply.status >= 400)
      EXPECT_TRUE(is_error(reply, reply.status));
    else
      EXPECT_TRUE(is_success(reply, reply.status));
  }
  auto health = http_get(server().host(), server().port(), "/health");
  EXPECT_EQ(health.status, 200u) << health.body;
  // The stage is intact.
  auto got = api().get("/api/users/" + std::to_string(uid));
  EXPECT_TRUE(is_success(got, 200));
}

TEST_P(rest_errors, health_endpoints_answer) {
  auto health = api().get("/health");
  ASSERT_EQ(health.status, 200u) << health.describe();
  EXPECT_EQ(health.json.value("status", ""), "healthy") << health.describe();
  EXPECT_EQ(health.json.value("database", ""), "connected") << health.describe();
  auto llm = api().get("/api/llm/health");
  EXPECT_EQ(llm.status, 200u) << llm.describe();
}

// 503 needs a database that stops answering while the server runs. Only
// SQLite lets a test do that without database-administrator rights: a
// second connection that holds the write lock makes every write of the
// server fail with SQLITE_BUSY. Once the lock is gone the server recovers.
class rest_locked_sqlite : public rest_fixture {};

INSTANTIATE_TEST_SUITE_P(backends, rest_locked_sqlite,
                         ::testing::Values("sqlite"),
                         ::parley::test::backend_name);

// (PostgreSQL going away is tested with a private server in
// rest_restart_test.)
TEST_P(rest_locked_sqlite, writes_get_503_while_the_database_is_locked) {
  auto user = create_user("Before Lock", unique_email("lock"));
  rest_db_probe lock{server().database()};
  lock.db().sql() << "BEGIN IMMEDIATE";
  auto email = unique_email("locked");
  // Both at once: each may wait out the server's busy timeout.
  rest_client second{server().host(), server().port()};
  auto blocked_user = std::async(std::launch::async, [&] {
    return api().send_json_text(
      "POST", "/api/users", json({{"name", "Locked"}, {"email", email}}).dump());
  });
  auto blocked_setting = std::async(std::launch::async, [&] {
    return second.send_json_text("PUT", "/api/settings/welcome_message",
                                 "{\"value\":\"written while locked\"}");
  });
  auto user_reply = blocked_user.get();
  auto setting_reply = blocked_setting.get();
  lock.db().sql() << "ROLLBACK";
  EXPECT_TRUE(is_error(user_reply, 503));
  EXPECT_TRUE(is_error(setting_reply, 503));
  // Recovered: writes work again, and the refused ones left nothing behind.
  auto after = api().post("/api/users", {{"name", "After Lock"},
                                         {"email", unique_email("unlocked")}});
  EXPECT_TRUE(is_success(after, 201));
  EXPECT_TRUE(get_all("/api/users?search=" + url_encode(email)).empty())
    << "a user whose creation was answered with 503 exists";
  auto setting = api().get("/api/settings/welcome_message");
  ASSERT_TRUE(is_success(setting, 200));
  EXPECT_NE(setting.data()["value"], "written while locked")
    << setting.describe();
  auto before = api().get("/api/users/" + user["id"].dump());
  ASSERT_TRUE(is_success(before, 200));
  EXPECT_EQ(before.data(), user) << before.describe();
}

} // namespace
