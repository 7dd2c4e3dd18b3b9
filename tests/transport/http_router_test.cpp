#include "transport/http_router.hpp"

#include <gtest/gtest.h>

namespace parley::transport {
namespace {

TEST(http_router, routes_known_paths_by_method_and_upgrade) {
  EXPECT_EQ(route_request("GET", "/health", false).kind, route_kind::health);
  EXPECT_EQ(route_request("HEAD", "/health", false).kind, route_kind::health);
  EXPECT_EQ(route_request("GET", "/ws", true).kind, route_kind::websocket);
  EXPECT_EQ(route_request("GET", "/ws?session_id=1", true).kind,
            route_kind::websocket);
  EXPECT_EQ(route_request("GET", "/ws", false).kind,
            route_kind::upgrade_required);
  auto post = route_request("POST", "/health", false);
  EXPECT_EQ(post.kind, route_kind::method_not_allowed);
  EXPECT_EQ(post.allow, "GET, HEAD");
  EXPECT_EQ(route_request("GET", "/health/", false).kind,
            route_kind::not_found);
}

TEST(http_router, other_paths_are_the_web_uis) {
  for (const char* target :
       {"/", "/index.html", "/admin", "/admin/sessions/3", "/nope",
        "/assets/app-abc123.js", "/favicon.svg?v=2", "/apix", "/wsx",
        "/healthz", "/%2e%2e/x", "/../x"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(route_request("GET", target, false).kind,
              route_kind::static_file);
    EXPECT_EQ(route_request("HEAD", target, false).kind,
              route_kind::static_file);
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "BREW"}) {
      auto other = route_request(method, target, false);
      EXPECT_EQ(other.kind, route_kind::method_not_allowed) << method;
      EXPECT_EQ(other.allow, "GET, HEAD") << method;
    }
  }
  auto decoded = route_request("GET", "/%2e%2e/x?q=1", false);
  EXPECT_EQ(decoded.path, "/../x") << "the static site gets the decoded path";
  // Under /api, /ws and /health nothing is a file, whatever the method.
  for (const char* target : {"/api", "/ws/", "/ws/x", "/health/", "/health/x"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(route_request("GET", target, false).kind, route_kind::not_found);
    EXPECT_EQ(route_request("POST", target, false).kind,
              route_kind::not_found);
  }
  EXPECT_EQ(route_request("POST", "/api/users", false).kind, route_kind::rest);
  // A separator or NUL hidden in an escape names no file.
  for (const char* target : {"/assets%2f..", "/assets%2F..%2Findex.html",
                             "/assets%5capp.js", "/..%5C..%5Cetc",
                             "/index.html%00.png", "/admin%2fx"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(route_request("GET", target, false).kind, route_kind::not_found);
  }
  EXPECT_EQ(route_request("GET", "/a%20b.html", false).kind,
            route_kind::static_file)
    << "other escapes are fine";
  EXPECT_EQ(route_request("GET", "/x?path=%2f", false).kind,
            route_kind::static_file)
    << "the query is not the path";
  EXPECT_EQ(route_request("GET", "*", false).kind, route_kind::not_found);
}

TEST(http_router, decodes_path_and_query) {
  auto r = parse_target("/a%20b?x=1&y=hello+world&z=%41%42&flag&x=2&bad=%zz");
  EXPECT_EQ(r.path, "/a b");
  EXPECT_EQ(r.query["x"], "2") << "a repeated name keeps its last value";
  EXPECT_EQ(r.query["y"], "hello world");
  EXPECT_EQ(r.query["z"], "AB");
  EXPECT_EQ(r.query["flag"], "");
  EXPECT_EQ(r.query["bad"], "%zz") << "malformed escapes stay as sent";
}

TEST(http_router, reads_resume_parameters) {
  auto fresh = parse_resume_params({});
  EXPECT_EQ(fresh.session_id, 0);
  EXPECT_TRUE(fresh.error.empty());
  auto ok = parse_resume_params(
    {{"session_id", "42"}, {"resume_token", "t"}, {"last_seq", "7"}});
  EXPECT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.session_id, 42);
  EXPECT_EQ(ok.resume_token, "t");
  EXPECT_EQ(ok.last_seq, 7);
  EXPECT_FALSE(parse_resume_params({{"session_id", "x"}}).error.empty());
  EXPECT_FALSE(parse_resume_params({{"session_id", "-1"}, {"resume_token", "t"}})
                 .error.empty());
  EXPECT_FALSE(parse_resume_params({{"session_id", "1"}}).error.empty())
    << "a token is required";
  EXPECT_FALSE(parse_resume_params(
                 {{"session_id", "1"}, {"resume_token", "t"}, {"last_seq", "1x"}})
                 .error.empty());
  EXPECT_FALSE(parse_resume_params({{"session_id", "99999999999999999999"},
                                    {"resume_token", "t"}})
                 .error.empty())
    << "out of range";
}

} // namespace
} // namespace parley::transport
