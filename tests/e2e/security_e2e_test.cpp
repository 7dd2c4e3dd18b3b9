// Who may do what, against the real server: the admin token on every admin
// endpoint (the route table's own list), the public chat without one, the
// token file Parley generates, session ownership over REST, the Origin of
// WebSocket upgrades, CORS, and secrets that never show in logs, health
// output or error messages.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/rest_client.hpp"
#include "transport/rest_routes.hpp"

namespace parley::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using transport::rest_access;
using transport::rest_operations;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>{in},
          std::istreambuf_iterator<char>{}};
}

/// Permission bits of `file` itself (not of what a symlink points to).
unsigned mode_of(const fs::path& file) {
  struct stat info{};
  if (::lstat(file.c_str(), &info) != 0)
    return 0;
  return info.st_mode & 07777;
}

bool is_regular(const fs::path& file) {
  struct stat info{};
  return ::lstat(file.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool is_hex_token(const std::string& text) {
  return text.size() == 64
         && std::all_of(text.begin(), text.end(), [](char c) {
              return std::isdigit(static_cast<unsigned char>(c)) != 0
                     || (c >= 'a' && c <= 'f');
            });
}

/// The headers of a WebSocket upgrade request, with `origin` when given.
http_headers upgrade_headers(const std::string& origin) {
  http_headers headers{{"Connection", "Upgrade"},
                       {"Upgrade", "websocket"},
                       {"Sec-WebSocket-Version", "13"},
                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!origin.empty())
    headers.emplace_back("Origin", origin);
  return headers;
}

class security_e2e : public e2e_fixture {
protected:
  /// Staff: sends the admin token.
  rest_client admin() {
    return rest_client{host(), port()};
  }

  /// A visitor: sends no Authorization header.
  rest_client visitor() {
    return rest_client{host(), port(), ""};
  }

  /// "http://127.0.0.1:PORT": the origin of a page served by this host, as
  /// a browser would write it (the clients' Host header is the same).
  std::string own_origin() {
    return "http://" + host() + ":" + std::to_string(port());
  }

  /// How many sessions the database holds.
  std::int64_t session_count() {
    auto reply = admin().get("/api/sessions?status=all&limit=1");
    if (reply.status != 200)
      throw std::runtime_error("cannot count sessions: " + reply.describe());
    return reply.json["pagination"]["total"].get<std::int64_t>();
  }

  /// A WebSocket upgrade from a page of `origin`: the session id of the
  /// greeting, or the ws_error's text when the upgrade was refused.
  std::string try_websocket(const std::string& origin) {
    ws_client client;
    if (!origin.empty())
      client.set_upgrade_headers({{"Origin", origin}});
    try {
      client.connect(host(), port(), "/ws");
    } catch (const ws_error& e) {
      return std::string{"refused: "} + e.what();
    }
    auto greeting = client.read_json(frame_timeout);
    client.close();
    if (type_of(greeting) != "session")
      return "no session frame: " + greeting.dump();
    return "session " + greeting["session_id"].dump();
  }

  /// Expects the upgrade from `origin` to be refused with 403 and the JSON
  /// error envelope, before any session was created.
  void expect_refused_upgrade(const std::string& origin) {
    SCOPED_TRACE("Origin: " + origin);
    auto before = session_count();
    auto res = http_request(host(), port(), "GET", "/ws", {},
                            upgrade_headers(origin));
    EXPECT_EQ(res.status, 403u) << res.body;
    auto body = json::parse(res.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.value("success", true) == false
                && body.value("error", "") != "")
      << res.body;
    EXPECT_TRUE(starts_with(try_websocket(origin), "refused: "));
    EXPECT_EQ(session_count(), before) << "a refused upgrade made a session";
  }

  /// `op`'s path with its {id} (or {key}) filled in.
  static std::string concrete(const transport::rest_operation& op,
                              const std::string& id) {
    auto path = op.path;
    for (const char* param : {"{id}", "{key}"})
      if (auto at = path.find(param); at != std::string::npos)
        path.replace(at, std::string{param}.size(),
                     std::string{param} == "{id}" ? id : "welcome_message");
    return path;
  }
};

// -- the admin token -----------------------------------------------------------

TEST_F(security_e2e, every_admin_endpoint_refuses_a_missing_or_wrong_token) {
  start_server();
  auto staff = admin();
  auto user = staff.post("/api/users",
                         {{"name", "Sam"}, {"email", "sam@example.com"}});
  ASSERT_TRUE(is_success(user, 201));
  auto user_id = user.data()["user"]["id"].dump();
  auto chat = visitor().post("/api/chat/send", {{"message", "hello"},
                                                {"user_email", "v@example.com"}});
  ASSERT_TRUE(is_success(chat, 201));
  auto session_id = chat.data()["session_id"].dump();
  auto welcome = staff.get("/api/settings/welcome_message");
  ASSERT_TRUE(is_success(welcome, 200));

  const std::string token = test_admin_token;
  const std::vector<std::pair<std::string, http_headers>> refusals{
    {"no Authorization header", {}},
    {"an empty one", {{"Authorization", ""}}},
    {"a wrong token", bearer("wrong-token-0123456789abcdef")},
    {"the token and more", bearer(token + "x")},
    {"the token's first half", bearer(token.substr(0, token.size() / 2))},
    {"the token without a scheme", {{"Authorization", token}}},
    {"the token as Basic", {{"Authorization", "Basic " + token}}},
  };
  auto client = visitor();
  std::size_t checked = 0;
  for (const auto& op : rest_operations()) {
    if (op.access != rest_access::admin)
      continue;
    std::vector<std::string> methods{op.method};
    if (op.method == "GET")
      methods.emplace_back("HEAD");
    // A malformed id does not get past the token either.
    for (const auto& id : {op.path.find("{id}") == std::string::npos
                             ? std::string{}
                             : std::string{"abc"},
                           op.path.find("/api/users/") == 0 ? user_id
                                                            : session_id}) {
      if (id.empty())
        continue;
      for (const auto& method : methods) {
        for (const auto& [what, headers] : refusals) {
          auto sent = headers;
          std::string body;
          if (method == "POST" || method == "PUT") {
            sent.emplace_back("Content-Type", "application/json");
            body = R"({"value":"changed","text":"hi","name":"x"})";
          }
          auto path = concrete(op, id);
          SCOPED_TRACE(method + " " + path + " with " + what);
          auto reply = client.send(method, path, body, sent);
          ++checked;
          if (method == "HEAD")
            EXPECT_EQ(reply.status, 401u) << reply.describe();
          else
            EXPECT_TRUE(is_error(reply, 401));
          EXPECT_TRUE(starts_with(reply.header("WWW-Authenticate"), "Bearer"))
            << reply.describe();
          EXPECT_FALSE(contains(reply.body, token.substr(0, 16)))
            << "an error shows the token: " << reply.describe();
        }
      }
    }
  }
  EXPECT_GE(checked, 20u * 7u);

  // Nothing the refused calls asked for happened.
  auto after = staff.get("/api/users/" + user_id);
  EXPECT_TRUE(is_success(after, 200)) << "a refused DELETE deleted the user";
  EXPECT_EQ(after.data()["name"], "Sam") << after.describe();
  EXPECT_TRUE(is_success(staff.get("/api/sessions/" + session_id), 200));
  EXPECT_EQ(staff.get("/api/settings/welcome_message").data()["value"],
            welcome.data()["value"]);
  auto messages = staff.get("/api/messages?session_id=" + session_id);
  ASSERT_TRUE(is_success(messages, 200));
  EXPECT_EQ(messages.data().size(), 2u)
    << "a refused agent-message was stored: " << messages.describe();

  // With the token, every admin endpoint answers (whatever it answers).
  for (const auto& op : rest_operations()) {
    if (op.access != rest_access::admin)
      continue;
    auto path = concrete(op, op.path.find("/api/users/") == 0 ? user_id
                                                              : session_id);
    auto reply = op.method == "POST" || op.method == "PUT"
                   ? staff.send_json_text(op.method, path, "{}")
                   : staff.send(op.method, path);
    EXPECT_NE(reply.status, 401u) << reply.describe();
    EXPECT_TRUE(reply.is_json()) << reply.describe();
  }
}

TEST_F(security_e2e, the_chat_and_health_need_no_token) {
  start_server();
  auto health = http_get(host(), port(), "/health");
  EXPECT_EQ(health.status, 200u) << health.body;
  auto anyone = visitor();
  auto sent = anyone.post("/api/chat/send", {{"message", "hello"},
                                             {"user_email", "a@example.com"}});
  EXPECT_TRUE(is_success(sent, 201));
  auto alias = anyone.post("/api/messages", {{"message", "hello"},
                                             {"user_email", "a@example.com"}});
  EXPECT_TRUE(is_success(alias, 201));
  // A stray Authorization header changes nothing for them.
  auto with_wrong = anyone.send(
    "POST", "/api/chat/send", R"({"message":"hi","user_email":"a@b.c"})",
    {{"Content-Type", "application/json"},
     {"Authorization", "Bearer not-the-admin-token"}});
  EXPECT_TRUE(is_success(with_wrong, 201));
  // The browser chat's settings are public too.
  EXPECT_TRUE(is_success(anyone.get("/api/chat/config"), 200));
  ws_client client;
  auto session = open_session(client);
  EXPECT_GT(session.session_id, 0);
  client.close();
  // Unknown paths stay 404 for everyone: nothing to protect there.
  EXPECT_TRUE(is_error(anyone.get("/api/nope"), 404));
}

// -- the generated token file --------------------------------------------------

TEST_F(security_e2e, a_generated_token_is_kept_private_and_reused) {
  // Empty values count as unset: no token configured, the default folder.
  const std::map<std::string, std::string> env{{"PARLEY_ADMIN_TOKEN", ""},
                                               {"PARLEY_DATA_DIR", ""}};
  start_server({}, env);
  auto file = tmp_.path() / "data" / "admin_token";
  ASSERT_TRUE(is_regular(file)) << file;
  EXPECT_EQ(mode_of(file), 0600u);
  auto content = read_all(file);
  ASSERT_FALSE(content.empty());
  EXPECT_EQ(content.back(), '\n');
  auto token = content.substr(0, content.size() - 1);
  EXPECT_TRUE(is_hex_token(token)) << "32 random bytes in hex";

  EXPECT_TRUE(is_success(rest_client(host(), port(), token).get("/api/users"),
                         200));
  EXPECT_TRUE(is_error(rest_client(host(), port()).get("/api/users"), 401))
    << "the fixture's token is not this server's";
  auto first_log = server().log();
  EXPECT_TRUE(contains(first_log, "admin token: generated")) << first_log;
  EXPECT_TRUE(contains(first_log, "data/admin_token")) << first_log;
  EXPECT_FALSE(contains(first_log, token)) << "the log shows the token";
  stop_server();

  start_server({}, env);
  EXPECT_EQ(read_all(file), content) << "a restart replaced the token";
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_TRUE(is_success(rest_client(host(), port(), token).get("/api/users"),
                         200));
  EXPECT_TRUE(contains(server().log(), "admin token: read from"))
    << server().log();
  EXPECT_FALSE(contains(server().log(), token)) << "the log shows the token";
}

TEST_F(security_e2e, the_data_folder_is_created_where_it_is_configured) {
  auto dir = tmp_.path() / "var" / "lib" / "parley";
  start_server({}, {{"PARLEY_ADMIN_TOKEN", ""},
                    {"PARLEY_DATA_DIR", dir.string()}});
  auto file = dir / "admin_token";
  ASSERT_TRUE(is_regular(file)) << file;
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_FALSE(fs::exists(tmp_.path() / "data"));
  EXPECT_TRUE(contains(server().log(), file.string()))
    << "the log names the file: " << server().log();
}

TEST_F(security_e2e, a_short_admin_token_stops_the_start_with_one_line) {
  const std::string short_token = "fifteen-chars-x";
  server_process parley{
    server_process::default_executable(),
    {"--host", "127.0.0.1", "--port", "0", "--database-url", database_url()},
    {{"PARLEY_ADMIN_TOKEN", short_token}},
    tmp_.str()};
  auto status = parley.wait_exit(exit_timeout);
  EXPECT_TRUE(status.is_exit(2)) << status.to_string();
  auto lines = parley.lines();
  ASSERT_EQ(lines.size(), 1u) << parley.log();
  EXPECT_TRUE(contains(lines[0], "PARLEY_ADMIN_TOKEN")) << lines[0];
  EXPECT_TRUE(contains(lines[0], "at least 16 characters")) << lines[0];
  EXPECT_FALSE(contains(lines[0], short_token)) << lines[0];
  EXPECT_FALSE(fs::exists(tmp_.path() / "data" / "admin_token"));
}

// -- session ownership ---------------------------------------------------------

TEST_F(security_e2e, only_the_token_holder_writes_to_a_session) {
  start_server();
  auto anyone = visitor();
  const std::string email = "owner@example.com";
  auto opened = anyone.post("/api/chat/send", {{"message", "hello"},
                                               {"user_email", email},
                                               {"client_id", "c-1"}});
  ASSERT_TRUE(is_success(opened, 201));
  auto sid = opened.data()["session_id"];
  auto token = opened.data()["resume_token"].get<std::string>();
  ws_client other_socket;
  auto other = open_session(other_socket); // another visitor's session
  // A session staff created (no actor is live for it: loaded on demand).
  auto created = admin().post("/api/sessions",
                              {{"user_id", opened.data()["user_id"]},
                               {"title", "by staff"}});
  ASSERT_TRUE(is_success(created, 201));
  auto staff_sid = created.data()["id"];
  auto staff_token = created.data()["resume_token"].get<std::string>();

  auto post = [&](const json& session_id, const json* resume_token,
                  const std::string& client_id = "c-1") {
    json body{{"message", "what did I say?"},
              {"user_email", email},
              {"session_id", session_id},
              {"client_id", client_id}};
    if (resume_token != nullptr)
      body["resume_token"] = *resume_token;
    return anyone.post("/api/chat/send", body);
  };
  const json wrong = "0000000000000000000000000000000000000000000000000000000000000000";
  const json others = other.resume_token;
  const json staffs = staff_token;
  const json empty = "";
  const json nothing = nullptr;
  const json mine = token;
  // Without the token, or with another's, the same answer as for a session
  // that does not exist: nobody learns which sessions exist. The client id
  // is the first message's, which must not bring its answer back either.
  std::vector<rest_reply> refused{
    post(sid, nullptr),          post(sid, &nothing), post(sid, &empty),
    post(sid, &wrong),           post(sid, &others),  post(sid, &staffs),
    post(staff_sid, &mine),      post(staff_sid, nullptr),
    post(other.session_id, &mine),
    post(987654321, &mine),      post(987654321, nullptr),
  };
  for (const auto& reply : refused) {
    EXPECT_TRUE(is_error(reply, 403));
    EXPECT_EQ(reply.body, refused.front().body)
      << "the refusals differ:\n  " << reply.describe() << "\n  "
      << refused.front().describe();
    EXPECT_FALSE(contains(reply.body, token)) << reply.describe();
    EXPECT_FALSE(contains(reply.body, "hello")) << reply.describe();
  }
  auto rows = admin().get("/api/messages?session_id=" + sid.dump());
  ASSERT_TRUE(is_success(rows, 200));
  EXPECT_EQ(rows.data().size(), 2u) << "a refused message was stored: "
                                    << rows.describe();
  auto other_rows = admin().get("/api/messages?session_id="
                                + std::to_string(other.session_id));
  ASSERT_TRUE(is_success(other_rows, 200));
  EXPECT_TRUE(other_rows.data().empty()) << other_rows.describe();
  // The other visitor's socket saw nothing either.
  auto frames = ping_barrier(other_socket);
  EXPECT_EQ(frames.size(), 1u) << dump(frames);

  // With the right token: stored and answered, in that session only.
  auto allowed = post(sid, &mine, "c-2");
  ASSERT_TRUE(is_success(allowed, 201));
  EXPECT_EQ(allowed.data()["session_id"], sid);
  EXPECT_FALSE(allowed.data().contains("resume_token"));
  EXPECT_EQ(allowed.data()["message"]["message"], "what did I say?");
  auto in_staff_session = post(staff_sid, &staffs, "c-3");
  ASSERT_TRUE(is_success(in_staff_session, 201));
  EXPECT_EQ(in_staff_session.data()["session_id"], staff_sid);
  // A retry of the first message with the token returns its answer.
  auto retried = post(sid, &mine, "c-1");
  ASSERT_TRUE(is_success(retried, 201));
  EXPECT_EQ(retried.data()["message"]["id"], opened.data()["message"]["id"]);
  other_socket.close();
}

// -- the Origin of WebSocket upgrades ------------------------------------------

TEST_F(security_e2e, by_default_only_pages_of_this_host_open_the_chat) {
  start_server();
  EXPECT_TRUE(starts_with(try_websocket(""), "session "))
    << "clients that are not browsers send no Origin";
  EXPECT_TRUE(starts_with(try_websocket(own_origin()), "session "));
  expect_refused_upgrade("https://evil.example");
  expect_refused_upgrade("http://" + host() + ":" + std::to_string(port() + 1));
  expect_refused_upgrade("null");
}

TEST_F(security_e2e, listed_origins_open_the_chat_too) {
  start_server({"--allowed-origins",
                "https://shop.example, http://localhost:8080"});
  EXPECT_TRUE(starts_with(try_websocket("https://shop.example"), "session "));
  EXPECT_TRUE(starts_with(try_websocket("https://SHOP.example:443"),
                          "session "));
  EXPECT_TRUE(starts_with(try_websocket("http://localhost:8080"), "session "));
  EXPECT_TRUE(starts_with(try_websocket(own_origin()), "session "));
  EXPECT_TRUE(starts_with(try_websocket(""), "session "));
  expect_refused_upgrade("https://evil.example");
  expect_refused_upgrade("http://shop.example");
  expect_refused_upgrade("https://shop.example.evil.example");
}

TEST_F(security_e2e, a_star_lets_every_origin_open_the_chat) {
  start_server({}, {{"ALLOWED_ORIGINS", "*"}});
  EXPECT_TRUE(starts_with(try_websocket("https://evil.example"), "session "));
  EXPECT_TRUE(starts_with(try_websocket("null"), "session "));
  EXPECT_TRUE(starts_with(try_websocket(""), "session "));
}

// -- CORS ----------------------------------------------------------------------

TEST_F(security_e2e, cors_headers_follow_the_allowed_origins) {
  start_server({"--allowed-origins", "https://shop.example"});
  auto staff = admin();
  auto with_origin = [&](const std::string& origin) {
    return staff.send("GET", "/api/users", {}, {{"Origin", origin}});
  };
  for (const auto& origin : {std::string{"https://shop.example"}, own_origin()}) {
    SCOPED_TRACE(origin);
    auto reply = with_origin(origin);
    EXPECT_TRUE(is_success(reply, 200));
    EXPECT_EQ(reply.header("Access-Control-Allow-Origin"), origin);
    EXPECT_EQ(reply.header("Vary"), "Origin");
    EXPECT_EQ(reply.header("Access-Control-Allow-Credentials"), "");
  }
  // Another site gets its answer without CORS headers: its page cannot
  // read it (and without the token it is a 401 anyway).
  auto foreign = with_origin("https://evil.example");
  EXPECT_EQ(foreign.header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(foreign.header("Vary"), "");
  // A page that may call the API may read its errors too.
  auto refused = visitor().send("GET", "/api/users", {},
                                {{"Origin", "https://shop.example"}});
  EXPECT_TRUE(is_error(refused, 401));
  EXPECT_EQ(refused.header("Access-Control-Allow-Origin"),
            "https://shop.example");
  auto chat = visitor().send(
    "POST", "/api/chat/send", R"({"message":"hi","user_email":"a@b.c"})",
    {{"Content-Type", "application/json"}, {"Origin", "https://shop.example"}});
  EXPECT_TRUE(is_success(chat, 201));
  EXPECT_EQ(chat.header("Access-Control-Allow-Origin"), "https://shop.example");
  // /health is not part of the API.
  auto health = http_request(host(), port(), "GET", "/health", {},
                             {{"Origin", "https://shop.example"}});
  EXPECT_EQ(health.header("Access-Control-Allow-Origin"), "");
}

TEST_F(security_e2e, preflights_name_the_paths_methods) {
  start_server({"--allowed-origins", "https://shop.example"});
  auto preflight = [&](const std::string& target, const std::string& origin) {
    http_headers headers{{"Access-Control-Request-Method", "POST"},
                         {"Access-Control-Request-Headers",
                          "authorization, content-type"}};
    if (!origin.empty())
      headers.emplace_back("Origin", origin);
    // No token: browsers never send credentials with a preflight.
    return visitor().send("OPTIONS", target, {}, headers);
  };
  for (const auto& [target, methods] :
       std::vector<std::pair<std::string, std::string>>{
         {"/api/users", "GET, POST"},
         {"/api/users/7", "GET, PUT, DELETE"},
         {"/api/chat/send", "POST"},
         {"/api/messages", "GET, POST"},
         {"/api/sessions/7/agent-message", "POST"},
         {"/api/settings/welcome_message", "GET, PUT"}}) {
    SCOPED_TRACE(target);
    auto ok = preflight(target, "https://shop.example");
    EXPECT_EQ(ok.status, 204u) << ok.describe();
    EXPECT_EQ(ok.body, "");
    EXPECT_EQ(ok.header("Access-Control-Allow-Origin"), "https://shop.example");
    EXPECT_EQ(ok.header("Vary"), "Origin");
    EXPECT_EQ(ok.header("Access-Control-Allow-Methods"), methods);
    EXPECT_EQ(ok.header("Access-Control-Allow-Headers"),
              "Authorization, Content-Type");
    EXPECT_FALSE(ok.header("Access-Control-Max-Age").empty());
    auto same_host = preflight(target, own_origin());
    EXPECT_EQ(same_host.status, 204u) << same_host.describe();

    auto foreign = preflight(target, "https://evil.example");
    EXPECT_TRUE(is_error(foreign, 403));
    for (const auto& [name, value] : foreign.headers)
      EXPECT_FALSE(starts_with(name, "Access-Control-")) << name;
    // Not a browser's preflight: OPTIONS answers with the methods.
    auto plain = preflight(target, "");
    EXPECT_EQ(plain.status, 204u) << plain.describe();
    EXPECT_EQ(plain.header("Allow"), methods);
    EXPECT_EQ(plain.header("Access-Control-Allow-Origin"), "");
  }
  EXPECT_TRUE(is_error(preflight("/api/nope", "https://shop.example"), 404));
}

// -- secrets -------------------------------------------------------------------

// Every secret Parley knows, set at once; then everything a client or an
// operator can see is searched for each: the whole log at trace level,
// /health, /api/llm/health, and the error answers of refused requests.
TEST_F(security_e2e, secrets_never_show) {
  auto pid = std::to_string(::getpid());
  const std::string admin_token = "admin-secret-" + pid + "-f00dfeedcafe";
  const std::string llm_key = "llm-key-secret-" + pid + "-0123";
  const std::string openai_key = "sk-openai-secret-" + pid + "-4567";
  const std::string db_password = "db-password-secret-" + pid;

  // 1. A server database with a password that cannot be reached: the start
  // fails, and says why without the password.
  {
    server_process failing{
      server_process::default_executable(),
      {"--host", "127.0.0.1", "--port", "0", "--log-level", "trace",
       "--database-url",
       "postgresql://parley:" + db_password + "@127.0.0.1:1/parley"},
      {{"PARLEY_ADMIN_TOKEN", admin_token}},
      tmp_.str()};
    auto status = failing.wait_exit(exit_timeout);
    EXPECT_FALSE(status.is_exit(0)) << failing.log();
    auto log = failing.log();
    EXPECT_TRUE(contains(log, "127.0.0.1")) << "the failure names the server: "
                                            << log;
    EXPECT_FALSE(contains(log, db_password)) << log;
    EXPECT_FALSE(contains(log, admin_token)) << log;
  }

  // 2. SQLite, an LLM key for an LLM that is not there, an unused OpenAI
  // key, the admin token; trace logging.
  server_process parley{
    server_process::default_executable(),
    {"--host", "127.0.0.1", "--port", "0", "--database-url", database_url(),
     "--log-level", "trace", "--knowledge-dir",
     (tmp_.path() / "knowledge").string()},
    {{"PARLEY_ADMIN_TOKEN", admin_token},
     {"LLM_WEBSOCKET_URL", "ws://127.0.0.1:1/chat"},
     {"LLM_API_KEY", llm_key},
     {"OPENAI_API_KEY", openai_key}},
    tmp_.str()};
  ASSERT_TRUE(parley.wait_until_listening(start_timeout)) << parley.log();
  // The LLM's connection was tried (and failed) at least once.
  EXPECT_TRUE(parley.wait_for_line("LLM connection ended", milliseconds{10000}))
    << parley.log();
  const auto& h = parley.host();
  auto p = parley.port();
  std::vector<std::string> seen; // every body a client got

  rest_client staff{h, p, admin_token};
  rest_client anyone{h, p, ""};
  auto health = http_get(h, p, "/health");
  EXPECT_EQ(health.status, 200u) << health.body;
  seen.push_back(health.body);
  auto llm_health = staff.get("/api/llm/health");
  EXPECT_EQ(llm_health.status, 200u) << llm_health.describe();
  seen.push_back(llm_health.body);
  // Wrong tokens that contain the right one, in the header and the path.
  for (const auto& presented :
       {admin_token + "x", "x" + admin_token, admin_token.substr(0, 20)}) {
    auto refused = anyone.send("GET", "/api/users?token=" + presented, {},
                               bearer(presented));
    EXPECT_TRUE(is_error(refused, 401));
    seen.push_back(refused.body);
  }
  auto odd = anyone.send("GET", "/api/settings", {},
                         {{"Authorization", "Bearer " + admin_token + "\xff"}});
  EXPECT_TRUE(is_error(odd, 401));
  seen.push_back(odd.body);

  // Sessions and their tokens: over REST and over the socket, right and
  // wrong.
  auto opened = anyone.post("/api/chat/send", {{"message", "hello"},
                                               {"user_email", "s@example.com"}});
  ASSERT_TRUE(is_success(opened, 201));
  auto rest_token = opened.data()["resume_token"].get<std::string>();
  auto sid = opened.data()["session_id"];
  for (const auto& presented : {rest_token, rest_token + "0"}) {
    auto reply = anyone.post("/api/chat/send",
                             {{"message", "again"},
                              {"user_email", "s@example.com"},
                              {"session_id", sid},
                              {"resume_token", presented}});
    seen.push_back(reply.body);
  }
  ws_client client;
  client.connect(h, p, "/ws");
  auto greeting = client.read_json(frame_timeout);
  ASSERT_EQ(type_of(greeting), "session") << greeting;
  auto ws_token = greeting["resume_token"].get<std::string>();
  auto ws_sid = greeting["session_id"].get<std::int64_t>();
  client.send_json({{"type", "message"}, {"text", "hi"}, {"id", "m1"}});
  client.read_until_type("message", frame_timeout);
  client.close();
  ws_client resumed;
  resumed.connect(h, p, resume_target(ws_sid, ws_token, 0));
  EXPECT_EQ(type_of(resumed.read_json(frame_timeout)), "session");
  resumed.close();
  ws_client wrong;
  wrong.connect(h, p, resume_target(ws_sid, rest_token, 0));
  auto refusal = wrong.read_json(frame_timeout);
  EXPECT_EQ(refusal.value("code", ""), "invalid_resume") << refusal;
  seen.push_back(refusal.dump());
  wrong.close();
  // What the REST API tells staff about sessions holds no tokens either.
  auto sessions = staff.get("/api/sessions?status=all");
  EXPECT_TRUE(is_success(sessions, 200));
  seen.push_back(sessions.body);
  seen.push_back(staff.get("/api/sessions/" + sid.dump()
                           + "?include_messages=true")
                   .body);

  parley.terminate();
  EXPECT_TRUE(parley.wait_exit(exit_timeout).is_exit(0));
  auto log = parley.log();
  EXPECT_TRUE(contains(log, "admin token: set by PARLEY_ADMIN_TOKEN")) << log;
  EXPECT_TRUE(contains(log, "api_key=set")) << "the key's presence is logged";
  const std::vector<std::pair<std::string, std::string>> secrets{
    {"the admin token", admin_token},
    {"LLM_API_KEY", llm_key},
    {"OPENAI_API_KEY", openai_key},
    {"the REST session's resume token", rest_token},
    {"the WebSocket session's resume token", ws_token},
  };
  for (const auto& [name, secret] : secrets) {
    EXPECT_FALSE(contains(log, secret)) << name << " is in the log:\n" << log;
    // A part long enough to be telling.
    EXPECT_FALSE(contains(log, secret.substr(0, 24)))
      << "a part of " << name << " is in the log:\n" << log;
    for (const auto& body : seen) {
      // The one answer that is meant to carry a resume token: the call that
      // created the session.
      EXPECT_FALSE(contains(body, secret)) << name << " is in:\n" << body;
    }
  }
  EXPECT_TRUE(contains(opened.body, rest_token));
}

} // namespace
} // namespace parley::test
