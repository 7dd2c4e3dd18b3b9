// The browser UI served by Parley itself (--web-dir), over real HTTP from
// the real binary: pages and assets with their types, security and cache
// headers, encodings chosen by Accept-Encoding, 304s, HEAD, refused methods
// and paths, client-side routes of the admin console; GET /api/chat/config;
// and what happens when the folder or the web config is missing or bad.

#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/rest_client.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string index_html
  = "<!doctype html><html><head><title>Northwind chat</title>"
    "<script type=\"module\" src=\"/assets/app-abc123.js\"></script>"
    "</head><body><div id=\"app\"></div></body></html>\n";
const std::string admin_html
  = "<!doctype html><html><head><title>Parley admin</title></head>"
    "<body><div id=\"admin\"></div></body></html>\n";
const std::string app_js = "import './chat.js'; console.log('chat');\n";
// The server never decodes the siblings: any bytes tell which one came.
const std::string app_br = std::string{"\x0b\x01\x80", 3} + "brotli-bytes";
const std::string app_gz = std::string{"\x1f\x8b\x08", 3} + "gzip-bytes";
const std::string favicon = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";

const std::string csp
  = "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class web_serving_e2e : public e2e_fixture {
protected:
  web_serving_e2e() {
    put("index.html", index_html);
    put("admin.html", admin_html);
    put("favicon.svg", favicon);
    put("assets/app-abc123.js", app_js);
    put("assets/app-abc123.js.br", app_br);
    put("assets/app-abc123.js.gz", app_gz);
    put(".hidden", "a dotfile");
    put(".git/config", "[core]");
  }

  void put(const std::string& relative, const std::string& bytes) {
    auto path = web_dir() / relative;
    fs::create_directories(path.parent_path());
    tmp_.write("web/" + relative, bytes);
  }

  fs::path web_dir() const {
    return tmp_ / "web";
  }

  void start_with_site(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--web-dir", web_dir().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    start_server(args);
  }

  http_response get(const std::string& target,
                    const http_headers& headers = {}) {
    return http_request(host(), port(), "GET", target, {}, headers);
  }

  /// Expects the JSON 404 every unknown path gets.
  void expect_not_found(const std::string& target) {
    SCOPED_TRACE(target);
    auto res = get(target);
    EXPECT_EQ(res.status, 404u) << res.body;
    auto body = json::parse(res.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.value("success", true) == false)
      << res.body;
    EXPECT_TRUE(contains(res.header("Content-Type"), "application/json"))
      << res.header("Content-Type");
    EXPECT_FALSE(contains(res.body, "a dotfile")) << res.body;
    EXPECT_FALSE(contains(res.body, "[core]")) << res.body;
  }

  /// The server started with `args` (and the test's database), expected
  /// to refuse to start; returns its output.
  std::string failed_start(const std::vector<std::string>& args) {
    std::vector<std::string> all{"--host", "127.0.0.1", "--port", "0",
                                 "--database-url", database_url(),
                                 "--knowledge-dir",
                                 (tmp_ / "knowledge").string()};
    all.insert(all.end(), args.begin(), args.end());
    server_process failing{server_process::default_executable(), all,
                           {{"PARLEY_ADMIN_TOKEN", test_admin_token}},
                           tmp_.str()};
    auto status = failing.wait_exit(exit_timeout);
    auto log = failing.log();
    EXPECT_TRUE(status.exited && status.code != 0)
      << status.to_string() << "\n" << log;
    EXPECT_FALSE(contains(log, "listening on")) << log;
    return log;
  }
};

TEST_F(web_serving_e2e, pages_have_their_type_and_security_headers) {
  start_with_site();
  auto page = get("/");
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.body, index_html);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.header("Content-Security-Policy"), csp);
  EXPECT_EQ(page.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(page.header("Cache-Control"), "no-cache");
  EXPECT_EQ(page.header("Content-Length"), std::to_string(index_html.size()));
  EXPECT_EQ(page.header("Content-Encoding"), "");
  EXPECT_FALSE(page.header("ETag").empty());
  EXPECT_EQ(get("/index.html").body, index_html);

  // The admin console's page, also for its client-side routes.
  for (const char* target : {"/admin", "/admin/", "/admin/sessions/3",
                             "/admin/sessions/3?tab=events"}) {
    SCOPED_TRACE(target);
    auto admin = get(target);
    EXPECT_EQ(admin.status, 200u);
    EXPECT_EQ(admin.body, admin_html);
    EXPECT_EQ(admin.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(admin.header("Content-Security-Policy"), csp);
    EXPECT_EQ(admin.header("Cache-Control"), "no-cache");
  }

  auto icon = get("/favicon.svg");
  EXPECT_EQ(icon.status, 200u);
  EXPECT_EQ(icon.body, favicon);
  EXPECT_EQ(icon.header("Content-Type"), "image/svg+xml; charset=utf-8");
  EXPECT_EQ(icon.header("Cache-Control"), "no-cache");
  EXPECT_EQ(icon.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(icon.header("Content-Security-Policy"), "") << "not a page";
}

TEST_F(web_serving_e2e, assets_are_immutable_and_encoded_as_accepted) {
  start_with_site();
  const std::string js = "/assets/app-abc123.js";
  struct expectation {
    std::string accept; // empty: no Accept-Encoding header
    std::string encoding;
    const std::string* body;
  };
  const expectation cases[] = {
    {"", "", &app_js},
    {"gzip, deflate, br", "br", &app_br},
    {"br", "br", &app_br},
    {"gzip", "gzip", &app_gz},
    {"br;q=0, gzip", "gzip", &app_gz},
    {"gzip;q=1, br;q=0.5", "gzip", &app_gz},
    {"deflate", "", &app_js},
    {"br;q=0, gzip;q=0", "", &app_js},
  };
  std::vector<std::string> tags;
  for (const auto& c : cases) {
    SCOPED_TRACE("Accept-Encoding: " + c.accept);
    http_headers headers;
    if (!c.accept.empty())
      headers.emplace_back("Accept-Encoding", c.accept);
    auto res = get(js, headers);
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, *c.body);
    EXPECT_EQ(res.header("Content-Encoding"), c.encoding);
    EXPECT_EQ(res.header("Content-Length"), std::to_string(c.body->size()));
    EXPECT_EQ(res.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(res.header("Cache-Control"),
              "public, max-age=31536000, immutable");
    EXPECT_EQ(res.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
    tags.push_back(res.header("ETag"));
  }
  // One tag per representation: identity, br and gzip differ.
  EXPECT_NE(tags[0], tags[1]);
  EXPECT_NE(tags[0], tags[3]);
  EXPECT_NE(tags[1], tags[3]);
  EXPECT_EQ(tags[0], tags[6]);
  EXPECT_EQ(tags[1], tags[2]);
  // The siblings are no paths of their own.
  expect_not_found("/assets/app-abc123.js.br");
  expect_not_found("/assets/app-abc123.js.gz");
}

TEST_F(web_serving_e2e, a_matching_if_none_match_is_304) {
  start_with_site();
  auto page = get("/");
  auto tag = page.header("ETag");
  ASSERT_FALSE(tag.empty());
  auto again = get("/", {{"If-None-Match", tag}});
  EXPECT_EQ(again.status, 304u);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(again.header("ETag"), tag);
  EXPECT_EQ(again.header("Cache-Control"), "no-cache");
  EXPECT_EQ(get("/", {{"If-None-Match", "\"old\", " + tag}}).status, 304u);
  EXPECT_EQ(get("/", {{"If-None-Match", "W/" + tag}}).status, 304u);
  EXPECT_EQ(get("/", {{"If-None-Match", "*"}}).status, 304u);
  auto changed = get("/", {{"If-None-Match", "\"something-else\""}});
  EXPECT_EQ(changed.status, 200u);
  EXPECT_EQ(changed.body, index_html);

  // A tag is one representation's: br's tag does not stand for gzip.
  const std::string js = "/assets/app-abc123.js";
  auto br = get(js, {{"Accept-Encoding", "br"}});
  auto br_tag = br.header("ETag");
  auto cached = get(js, {{"Accept-Encoding", "br"}, {"If-None-Match", br_tag}});
  EXPECT_EQ(cached.status, 304u);
  EXPECT_EQ(cached.header("Vary"), "Accept-Encoding");
  auto other = get(js, {{"Accept-Encoding", "gzip"},
                        {"If-None-Match", br_tag}});
  EXPECT_EQ(other.status, 200u);
  EXPECT_EQ(other.body, app_gz);
}

TEST_F(web_serving_e2e, head_sends_the_headers_without_the_body) {
  start_with_site();
  auto head = http_request(host(), port(), "HEAD", "/");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(index_html.size()));
  EXPECT_EQ(head.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(head.header("ETag"), get("/").header("ETag"));
  // On the wire: the header, then nothing before the server closes.
  raw_socket socket{host(), port()};
  ASSERT_TRUE(socket.send_all(http_request_text(
    "HEAD", "/assets/app-abc123.js",
    host() + ":" + std::to_string(port()), {},
    {{"Accept-Encoding", "br"}, {"Connection", "close"}})));
  std::string received;
  EXPECT_EQ(socket.wait_closed(5s, &received), raw_status::eof);
  auto end = received.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << received;
  EXPECT_EQ(received.size(), end + 4) << "a body came:\n" << received;
  EXPECT_TRUE(contains(received, "Content-Length: "
                                   + std::to_string(app_br.size())))
    << received;
  EXPECT_TRUE(contains(received, "Content-Encoding: br")) << received;
}

TEST_F(web_serving_e2e, other_methods_are_405) {
  start_with_site();
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    for (const char* target : {"/", "/assets/app-abc123.js", "/admin/x",
                               "/nope"}) {
      SCOPED_TRACE(std::string{method} + " " + target);
      auto res = http_request(host(), port(), method, target, "{}",
                              {{"Content-Type", "application/json"}});
      EXPECT_EQ(res.status, 405u) << res.body;
      EXPECT_EQ(res.header("Allow"), "GET, HEAD");
      auto body = json::parse(res.body, nullptr, false);
      EXPECT_TRUE(body.is_object() && body.value("success", true) == false)
        << res.body;
    }
  }
}

TEST_F(web_serving_e2e, paths_that_escape_or_hide_are_404) {
  // A file next to the folder that an escape would reach.
  tmp_.write("secret.txt", "outside the web folder");
  start_with_site();
  for (const char* target :
       {"/../x", "/../secret.txt", "/%2e%2e/x", "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt", "/assets%2f..", "/assets%2F..%2Fsecret.txt",
        "/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt", "/..%5csecret.txt", "/assets\\..\\index.html",
        "/.hidden", "/%2ehidden", "/.git/config", "/assets/./app-abc123.js",
        "//index.html", "/index.html%00.png", "/admin/../.hidden",
        "/admin/.hidden", "/nope", "/assets/missing-000.js", "/assets/"}) {
    expect_not_found(target);
  }
  // Nothing an escape would reach came out, and the server still serves.
  EXPECT_EQ(get("/").status, 200u);
  EXPECT_EQ(http_get(host(), port(), "/health").status, 200u);
}

TEST_F(web_serving_e2e, the_chat_config_is_public) {
  start_with_site();
  rest_client visitor{host(), port(), ""};
  auto res = visitor.get("/api/chat/config");
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(res.header("Cache-Control"), "no-cache");
  const auto& data = res.data();
  EXPECT_TRUE(contains(data.value("title", ""), "Northwind Supply"))
    << res.describe();
  EXPECT_FALSE(data.value("greeting", "").empty()) << res.describe();
  auto suggestions = data.value("suggestions", json{});
  ASSERT_TRUE(suggestions.is_array()) << res.describe();
  EXPECT_GE(suggestions.size(), 4u);
  for (const auto& s : suggestions) {
    EXPECT_NE(s.value("label", ""), "") << s;
    EXPECT_NE(s.value("text", ""), "") << s;
  }
  EXPECT_EQ(data.value("max_message_bytes", 0), 16384) << res.describe();
  auto head = http_request(host(), port(), "HEAD", "/api/chat/config");
  EXPECT_EQ(head.status, 200u);
  auto post = visitor.send_json_text("POST", "/api/chat/config", "{}");
  EXPECT_TRUE(is_error(post, 405));
  EXPECT_EQ(post.header("Allow"), "GET");
}

TEST_F(web_serving_e2e, the_chat_config_comes_from_web_config) {
  tmp_.write("web.json", R"({
    "title": "Test Shop",
    "greeting": "Welcome to the test shop.",
    "suggestions": [{"label": "Order", "text": "Where is my order 555?"}]
  })");
  start_with_site({"--web-config", (tmp_ / "web.json").string(),
                   "--max-message-bytes", "2000"});
  auto res = rest_client{host(), port(), ""}.get("/api/chat/config");
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(res.data(),
            (json{{"title", "Test Shop"},
                  {"greeting", "Welcome to the test shop."},
                  {"suggestions",
                   json::array({{{"label", "Order"},
                                 {"text", "Where is my order 555?"}}})},
                  {"max_message_bytes", 2000}}))
    << res.describe();
}

TEST_F(web_serving_e2e, a_bad_web_config_or_web_dir_stops_the_start) {
  tmp_.write("web.json", R"({"title": "T", "greeting": "", "suggestions": [
    {"label": "", "text": "x"}]})");
  auto log = failed_start({"--web-dir", web_dir().string(), "--web-config",
                           (tmp_ / "web.json").string()});
  EXPECT_TRUE(contains(log, "suggestions[0].label: must not be empty")) << log;
  EXPECT_TRUE(contains(log, "web.json")) << log;

  auto missing = (tmp_ / "no-such-folder").string();
  log = failed_start({"--web-dir", missing});
  EXPECT_TRUE(contains(log, "--web-dir / PARLEY_WEB_DIR: '" + missing
                              + "' does not exist"))
    << log;

  // A file over the limit (8 MiB) is named.
  put("assets/huge.js", std::string(8 * 1024 * 1024 + 1, 'x'));
  log = failed_start({"--web-dir", web_dir().string()});
  EXPECT_TRUE(contains(log, "huge.js")) << log;
  EXPECT_TRUE(contains(log, "at most 8388608")) << log;
}

TEST_F(web_serving_e2e, without_a_built_ui_the_pages_say_so) {
  // The default folder is `web` next to the executable: a copy of the
  // binary in a folder without one is a server whose UI is not built.
  auto bin = tmp_ / "bin";
  fs::create_directories(bin);
  auto exe = bin / "parley";
  std::error_code ec;
  fs::create_hard_link(server_process::default_executable(), exe, ec);
  if (ec)
    fs::copy_file(server_process::default_executable(), exe);
  server_process server{exe.string(),
                        {"--host", "127.0.0.1", "--port", "0",
                         "--database-url", database_url(), "--knowledge-dir",
                         (tmp_ / "knowledge").string()},
                        {{"PARLEY_ADMIN_TOKEN", test_admin_token}},
                        tmp_.str()};
  ASSERT_TRUE(server.wait_until_listening(start_timeout)) << server.log();
  auto log = server.log();
  EXPECT_TRUE(contains(log, (bin / "web").string())) << log;
  EXPECT_TRUE(contains(log, "not built")) << log;
  for (const char* target : {"/", "/admin", "/admin/sessions/3"}) {
    SCOPED_TRACE(target);
    auto page = http_get(server.host(), server.port(), target);
    EXPECT_EQ(page.status, 503u);
    EXPECT_EQ(page.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(contains(page.body, "not built")) << page.body;
    EXPECT_TRUE(contains(page.body, "--web-dir")) << page.body;
  }
  auto asset = http_get(server.host(), server.port(), "/assets/app.js");
  EXPECT_EQ(asset.status, 404u) << asset.body;
  // Everything else works as before.
  EXPECT_EQ(http_get(server.host(), server.port(), "/health").status, 200u);
  auto config = http_get(server.host(), server.port(), "/api/chat/config");
  EXPECT_EQ(config.status, 200u) << config.body;
  server.terminate();
  EXPECT_TRUE(server.wait_exit(exit_timeout).is_exit(0)) << server.log();
}

} // namespace
} // namespace parley::test
