// Who may do what, as pure functions: the route table's public and admin
// endpoints, the admin token check, the origins of web pages, CORS.

#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "transport/admin_auth.hpp"
#include "transport/cors.hpp"
#include "transport/origin_policy.hpp"
#include "transport/rest_routes.hpp"

namespace parley::transport {
namespace {

const std::string token = "0123456789abcdef-the-admin-token";

/// The path of `op` with its parameter filled in, for match_rest.
std::string concrete(const rest_operation& op) {
  auto path = op.path;
  for (auto [param, value] : {std::pair{"{id}", "7"}, {"{key}", "k"}})
    if (auto at = path.find(param); at != std::string::npos)
      path.replace(at, std::string{param}.size(), value);
  return path;
}

std::string header(const header_fields& fields, const std::string& name) {
  for (const auto& [key, value] : fields)
    if (key == name)
      return value;
  return {};
}

// -- the route table -----------------------------------------------------------

TEST(rest_access, only_the_chat_is_public) {
  std::set<std::string> open;
  for (const auto& op : rest_operations())
    if (op.access == rest_access::anyone)
      open.insert(op.method + " " + op.path);
  EXPECT_EQ(open, (std::set<std::string>{"POST /api/chat/send",
                                         "POST /api/messages",
                                         "GET /api/chat/config"}));
}

TEST(rest_access, the_table_lists_every_method_of_every_path) {
  std::set<std::string> paths;
  for (const auto& op : rest_operations()) {
    paths.insert(op.path);
    auto match = match_rest(op.method, concrete(op));
    EXPECT_EQ(match.kind, rest_match_kind::matched) << op.method << op.path;
    EXPECT_EQ(match.endpoint, op.endpoint) << op.method << " " << op.path;
    EXPECT_EQ(match.access, op.access) << op.method << " " << op.path;
  }
  EXPECT_EQ(paths.size(), rest_paths().size());
  EXPECT_EQ(rest_operations().size(), 24u);
}

TEST(rest_access, a_bad_id_still_knows_its_endpoint_is_admin_only) {
  auto match = match_rest("GET", "/api/users/abc");
  EXPECT_EQ(match.kind, rest_match_kind::bad_id);
  EXPECT_EQ(match.access, rest_access::admin);
  EXPECT_EQ(authorize(match, "", admin_credential{token}),
            admin_auth::missing);
  EXPECT_EQ(match_rest("HEAD", "/api/users").access, rest_access::admin);
}

// -- the admin token -----------------------------------------------------------

TEST(admin_auth, every_admin_endpoint_needs_the_token) {
  admin_credential credential{token};
  for (const auto& op : rest_operations()) {
    if (op.access != rest_access::admin)
      continue;
    SCOPED_TRACE(op.method + " " + op.path);
    auto match = match_rest(op.method, concrete(op));
    EXPECT_EQ(authorize(match, "", credential), admin_auth::missing);
    EXPECT_EQ(authorize(match, "   ", credential), admin_auth::missing);
    EXPECT_EQ(authorize(match, "Bearer wrong-token-of-some-length",
                        credential),
              admin_auth::invalid);
    EXPECT_EQ(authorize(match, "Bearer " + token, credential),
              admin_auth::granted);
  }
}

TEST(admin_auth, public_endpoints_need_nothing) {
  admin_credential credential{token};
  for (const auto& [method, target] :
       {std::pair{"POST", "/api/chat/send"}, {"POST", "/api/messages"},
        {"GET", "/api/chat/config"}, {"HEAD", "/api/chat/config"}}) {
    auto match = match_rest(method, target);
    EXPECT_EQ(authorize(match, "", credential), admin_auth::granted);
    EXPECT_EQ(authorize(match, "Bearer wrong", credential),
              admin_auth::granted);
  }
}

TEST(admin_auth, the_header_is_bearer_and_the_token) {
  admin_credential credential{token};
  auto match = match_rest("GET", "/api/users");
  auto check = [&](const std::string& header) {
    return authorize(match, header, credential);
  };
  EXPECT_EQ(check("Bearer " + token), admin_auth::granted);
  EXPECT_EQ(check("bearer " + token), admin_auth::granted);
  EXPECT_EQ(check("BEARER  " + token + " "), admin_auth::granted);
  EXPECT_EQ(check("Bearer\t" + token), admin_auth::granted);
  EXPECT_EQ(check(token), admin_auth::invalid);
  EXPECT_EQ(check("Bearer"), admin_auth::invalid);
  EXPECT_EQ(check("Bearer "), admin_auth::invalid);
  EXPECT_EQ(check("Bearer" + token), admin_auth::invalid);
  EXPECT_EQ(check("Basic " + token), admin_auth::invalid);
  EXPECT_EQ(check("Token " + token), admin_auth::invalid);
  EXPECT_EQ(check("Bearer " + token + "x"), admin_auth::invalid);
  EXPECT_EQ(check("Bearer " + token.substr(0, token.size() - 1)),
            admin_auth::invalid);
  EXPECT_EQ(check("Bearer " + token.substr(0, 16)), admin_auth::invalid);
  EXPECT_EQ(check("Bearer " + token + token), admin_auth::invalid);
  EXPECT_EQ(check("Bearer " + token + " extra"), admin_auth::invalid);
}

TEST(admin_auth, a_credential_compares_whole_tokens) {
  admin_credential credential{token};
  EXPECT_TRUE(credential.matches(token));
  EXPECT_FALSE(credential.matches(""));
  EXPECT_FALSE(credential.matches(token + '\0'));
  EXPECT_FALSE(credential.matches(std::string(token.size(), 'a')));
  // Without a token, nothing matches, not even the empty string.
  admin_credential none;
  EXPECT_FALSE(none.matches(""));
  EXPECT_FALSE(none.matches(token));
  admin_credential empty{""};
  EXPECT_FALSE(empty.matches(""));
  EXPECT_EQ(authorize(match_rest("GET", "/api/users"), "Bearer ", empty),
            admin_auth::invalid);
}

TEST(admin_auth, refusals_say_what_to_send_and_nothing_else) {
  EXPECT_NE(std::string{refusal_message(admin_auth::missing)}.find("Bearer"),
            std::string::npos);
  EXPECT_NE(std::string{refusal_message(admin_auth::invalid)}, "");
  EXPECT_EQ(std::string{admin_challenge}.rfind("Bearer", 0), 0u);
}

// -- origins -------------------------------------------------------------------

TEST(origin_policy, by_default_only_the_servers_own_host) {
  origin_policy same_host;
  EXPECT_TRUE(same_host.allows("http://localhost:3001", "localhost:3001"));
  EXPECT_TRUE(same_host.allows("http://LocalHost:3001", "localhost:3001"));
  EXPECT_TRUE(same_host.allows("http://127.0.0.1:3001", "127.0.0.1:3001"));
  EXPECT_TRUE(same_host.allows("https://chat.example", "chat.example"));
  EXPECT_TRUE(same_host.allows("https://chat.example", "chat.example:443"));
  EXPECT_TRUE(same_host.allows("https://chat.example:443", "chat.example"));
  EXPECT_TRUE(same_host.allows("http://chat.example", "chat.example"));
  EXPECT_TRUE(same_host.allows("http://[::1]:3001", "[::1]:3001"));
  EXPECT_FALSE(same_host.allows("http://localhost:3002", "localhost:3001"));
  EXPECT_FALSE(same_host.allows("http://chat.example", "chat.example:443"));
  EXPECT_FALSE(same_host.allows("https://evil.example", "chat.example"));
  EXPECT_FALSE(same_host.allows("https://chat.example.evil", "chat.example"));
  EXPECT_FALSE(same_host.allows("https://evilchat.example", "chat.example"));
  EXPECT_FALSE(same_host.allows("https://chat.example", ""));
  EXPECT_FALSE(same_host.allows("null", "chat.example"));
  EXPECT_FALSE(same_host.allows("file://", "chat.example"));
  EXPECT_FALSE(same_host.allows("chat.example", "chat.example"));
  EXPECT_FALSE(same_host.allows("https://chat.example/", "chat.example"));
  EXPECT_FALSE(same_host.allows("https://chat.example/x", "chat.example"));
  EXPECT_FALSE(same_host.allows("https://u@chat.example", "chat.example"));
  EXPECT_FALSE(same_host.allows("https://chat.example:0", "chat.example:0"));
  EXPECT_FALSE(same_host.allows("https://chat example", "chat example"));
}

TEST(origin_policy, listed_origins_are_allowed_as_well) {
  origin_policy listed{{"https://shop.example", "http://localhost:8080"},
                       false};
  EXPECT_TRUE(listed.allows("https://shop.example", "chat.example"));
  EXPECT_TRUE(listed.allows("https://SHOP.example:443", "chat.example"));
  EXPECT_TRUE(listed.allows("http://localhost:8080", "chat.example"));
  EXPECT_TRUE(listed.allows("https://chat.example", "chat.example"));
  EXPECT_FALSE(listed.allows("http://shop.example", "chat.example"));
  EXPECT_FALSE(listed.allows("https://shop.example:8443", "chat.example"));
  EXPECT_FALSE(listed.allows("https://www.shop.example", "chat.example"));
  EXPECT_FALSE(listed.allows("http://localhost:8081", "chat.example"));
  EXPECT_FALSE(listed.allows("null", "chat.example"));
}

TEST(origin_policy, a_star_allows_every_origin) {
  origin_policy any{{}, true};
  EXPECT_TRUE(any.allows_any());
  EXPECT_TRUE(any.allows("https://anything.example", "chat.example"));
  EXPECT_TRUE(any.allows("null", "chat.example"));
}

// -- CORS ----------------------------------------------------------------------

TEST(cors, an_allowed_origin_is_echoed) {
  origin_policy listed{{"https://shop.example"}, false};
  auto headers = cors_headers(listed, "https://shop.example", "chat.example");
  EXPECT_EQ(header(headers, "Access-Control-Allow-Origin"),
            "https://shop.example");
  EXPECT_EQ(header(headers, "Vary"), "Origin");
  EXPECT_EQ(header(headers, "Access-Control-Allow-Credentials"), "");
  // Echoed as sent: browsers compare the header with their own text.
  EXPECT_EQ(header(cors_headers(listed, "https://shop.example:443",
                                "chat.example"),
                   "Access-Control-Allow-Origin"),
            "https://shop.example:443");
}

TEST(cors, others_get_no_cors_headers) {
  origin_policy listed{{"https://shop.example"}, false};
  EXPECT_TRUE(cors_headers(listed, "https://evil.example", "chat.example")
                .empty());
  EXPECT_TRUE(cors_headers(listed, "", "chat.example").empty());
  EXPECT_TRUE(cors_headers(listed, "null", "chat.example").empty());
}

TEST(cors, a_preflight_for_an_allowed_origin) {
  origin_policy listed{{"https://shop.example"}, false};
  auto answer = answer_preflight(listed, "https://shop.example",
                                 "chat.example", "GET, POST");
  EXPECT_EQ(answer.status, 204u);
  EXPECT_EQ(header(answer.headers, "Access-Control-Allow-Origin"),
            "https://shop.example");
  EXPECT_EQ(header(answer.headers, "Vary"), "Origin");
  EXPECT_EQ(header(answer.headers, "Access-Control-Allow-Methods"),
            "GET, POST");
  EXPECT_EQ(header(answer.headers, "Access-Control-Allow-Headers"),
            "Authorization, Content-Type");
  EXPECT_EQ(header(answer.headers, "Access-Control-Max-Age"),
            std::to_string(cors_max_age_seconds));
}

TEST(cors, a_preflight_for_another_origin_is_refused) {
  origin_policy same_host;
  auto answer = answer_preflight(same_host, "https://evil.example",
                                 "chat.example", "GET, POST");
  EXPECT_EQ(answer.status, 403u);
  EXPECT_FALSE(answer.error.empty());
  for (const auto& [name, value] : answer.headers)
    EXPECT_NE(name.rfind("Access-Control-", 0), 0u) << name;
}

TEST(cors, options_without_origin_or_path) {
  origin_policy same_host;
  auto plain = answer_preflight(same_host, "", "chat.example", "GET");
  EXPECT_EQ(plain.status, 204u);
  EXPECT_EQ(header(plain.headers, "Allow"), "GET");
  EXPECT_EQ(header(plain.headers, "Access-Control-Allow-Origin"), "");
  auto nowhere = answer_preflight(same_host, "https://chat.example",
                                  "chat.example", "");
  EXPECT_EQ(nowhere.status, 404u);
}

} // namespace
} // namespace parley::transport
