// The web UI's files in memory: loading (limits, dotfiles, precompressed
// siblings), the path mapping and what it refuses, content types,
// encodings, ETags and 304s, cache and security headers.

#include "transport/static_site.hpp"

#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace parley::transport {
namespace {

namespace fs = std::filesystem;
using parley::test::temp_dir;

const std::string index_html = "<!doctype html><title>chat</title>";
const std::string admin_html = "<!doctype html><title>admin</title>";
const std::string app_js = "console.log('app');";
const std::string app_br = "BR-bytes-of-app.js";
const std::string app_gz = "GZ-bytes-of-app.js";

/// A folder as Vite builds it, plus things that must not be served.
class static_site_test : public ::testing::Test {
protected:
  static_site_test() {
    put("index.html", index_html);
    put("admin.html", admin_html);
    put("favicon.svg", "<svg/>");
    put("assets/app-abc123.js", app_js);
    put("assets/app-abc123.js.br", app_br);
    put("assets/app-abc123.js.gz", app_gz);
    put("assets/style-def456.css", "body{}");
    put("assets/style-def456.css.gz", "GZ-css");
    put("robots.txt", "User-agent: *\n");
    put("archive.tar.gz", "an archive, not an encoding");
    put(".env", "SECRET=1");
    put(".hidden/inside.html", "hidden");
    put("assets/.DS_Store", "junk");
  }

  void put(const std::string& relative, const std::string& bytes) {
    auto path = dir_.path() / relative;
    fs::create_directories(path.parent_path());
    dir_.write(relative, bytes);
  }

  std::shared_ptr<const static_site> site() {
    std::string error;
    auto loaded = static_site::load(dir_.path(), error);
    EXPECT_TRUE(loaded) << error;
    EXPECT_TRUE(error.empty()) << error;
    return loaded;
  }

  static static_response get(const static_site& s, std::string_view path,
                             std::string_view accept_encoding = {},
                             std::string_view if_none_match = {}) {
    return s.lookup({"GET", path, accept_encoding, if_none_match});
  }

  temp_dir dir_{"parley-static"};
};

// -- loading -----------------------------------------------------------------

TEST_F(static_site_test, loads_files_and_attaches_precompressed_siblings) {
  auto s = site();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->built());
  for (const char* file : {"index.html", "admin.html", "favicon.svg",
                           "assets/app-abc123.js", "assets/style-def456.css",
                           "robots.txt", "archive.tar.gz"})
    EXPECT_TRUE(s->has(file)) << file;
  // Siblings are encodings of their file, not paths of their own; an
  // archive whose base name is no file stays a file.
  EXPECT_FALSE(s->has("assets/app-abc123.js.br"));
  EXPECT_FALSE(s->has("assets/app-abc123.js.gz"));
  EXPECT_EQ(get(*s, "/assets/app-abc123.js.br").status, 404u);
  EXPECT_EQ(get(*s, "/assets/app-abc123.js.gz").status, 404u);
  EXPECT_EQ(get(*s, "/archive.tar.gz").status, 200u);
  EXPECT_EQ(s->file_count(), 7u);
  EXPECT_GT(s->total_bytes(), app_js.size() + app_br.size() + app_gz.size());
}

TEST_F(static_site_test, skips_dotfiles_and_dot_folders) {
  auto s = site();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->has(".env"));
  EXPECT_FALSE(s->has(".hidden/inside.html"));
  EXPECT_FALSE(s->has("assets/.DS_Store"));
}

TEST_F(static_site_test, a_file_over_the_limit_is_a_clear_error) {
  put("assets/big.js", std::string(2000, 'x'));
  static_site_limits limits;
  limits.max_file_bytes = 1000;
  std::string error;
  EXPECT_FALSE(static_site::load(dir_.path(), error, limits));
  EXPECT_NE(error.find("big.js"), std::string::npos) << error;
  EXPECT_NE(error.find("at most 1000"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
}

TEST_F(static_site_test, a_folder_over_the_total_limit_is_a_clear_error) {
  static_site_limits limits;
  limits.max_total_bytes = 100; // the fixture's files are more
  std::string error;
  EXPECT_FALSE(static_site::load(dir_.path(), error, limits));
  EXPECT_NE(error.find("more than 100 bytes"), std::string::npos) << error;
  limits = {};
  limits.max_files = 3;
  EXPECT_FALSE(static_site::load(dir_.path(), error, limits));
  EXPECT_NE(error.find("more than 3 files"), std::string::npos) << error;
}

TEST(static_site, a_missing_folder_is_an_error) {
  temp_dir dir;
  std::string error;
  EXPECT_FALSE(static_site::load(dir.path() / "nope", error));
  EXPECT_NE(error.find("not a folder"), std::string::npos) << error;
}

TEST(static_site, an_empty_folder_serves_nothing) {
  temp_dir dir;
  std::string error;
  auto s = static_site::load(dir.path(), error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->file_count(), 0u);
  EXPECT_EQ(s->lookup({"GET", "/", {}, {}}).status, 404u);
  EXPECT_EQ(s->lookup({"GET", "/admin", {}, {}}).status, 404u);
}

// -- paths ----------------------------------------------------------------------

TEST_F(static_site_test, maps_the_pages_and_client_routes) {
  auto s = site();
  ASSERT_TRUE(s);
  EXPECT_EQ(get(*s, "/").body, index_html);
  EXPECT_EQ(get(*s, "/index.html").body, index_html);
  for (const char* path : {"/admin", "/admin/", "/admin/sessions",
                           "/admin/sessions/3", "/admin/sessions/3/",
                           "/admin.html"}) {
    auto r = get(*s, path);
    EXPECT_EQ(r.status, 200u) << path;
    EXPECT_EQ(r.body, admin_html) << path;
  }
  EXPECT_EQ(get(*s, "/assets/app-abc123.js").body, app_js);
  EXPECT_EQ(get(*s, "/robots.txt").status, 200u);
  for (const char* path : {"/nope", "/index", "/assets/", "/assets",
                           "/administrator", "/adminx/y", "/assets/app.js",
                           "/Index.html", "", "index.html"})
    EXPECT_EQ(get(*s, path).status, 404u) << "'" << path << "'";
}

TEST_F(static_site_test, refuses_paths_that_escape_or_hide) {
  auto s = site();
  ASSERT_TRUE(s);
  // The paths as the router hands them over, percent-decoded: /%2e%2e/x is
  // /../x, /assets%2f.. is /assets/.. (the router refuses escaped slashes
  // before decoding; what gets through must not escape either).
  for (const char* path :
       {"/../x", "/..", "/../index.html", "/assets/../index.html",
        "/assets/..", "/assets/./app-abc123.js", "/./index.html",
        "/admin/../index.html", "/admin/..", "/admin/./x",
        "/.env", "/.hidden/inside.html", "/assets/.DS_Store", "/admin/.env",
        "//index.html", "/assets//app-abc123.js", "/assets\\app-abc123.js",
        "/..\\index.html", "/admin/..\\x"}) {
    auto r = get(*s, path);
    EXPECT_EQ(r.status, 404u) << path;
    EXPECT_TRUE(r.body.empty()) << path;
  }
  using namespace std::string_literals;
  EXPECT_EQ(get(*s, "/index.html\0.png"s).status, 404u);
  EXPECT_EQ(get(*s, "/admin/x\0"s).status, 404u);
}

TEST(static_site, page_paths) {
  for (const char* path : {"/", "/index.html", "/admin", "/admin/",
                           "/admin.html", "/admin/sessions/3"})
    EXPECT_TRUE(is_page_path(path)) << path;
  for (const char* path : {"/assets/app.js", "/favicon.svg", "/administrator",
                           "/nope", ""})
    EXPECT_FALSE(is_page_path(path)) << path;
}

TEST(static_site, an_unbuilt_site_says_so_on_its_pages) {
  auto s = static_site::unbuilt();
  EXPECT_FALSE(s->built());
  for (const char* path : {"/", "/admin", "/admin/sessions/3"}) {
    auto r = s->lookup({"GET", path, {}, {}});
    EXPECT_EQ(r.status, 503u) << path;
    EXPECT_NE(r.body.find("not built"), std::string_view::npos) << r.body;
    EXPECT_NE(r.body.find("--web-dir"), std::string_view::npos) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  }
  EXPECT_EQ(s->lookup({"GET", "/assets/app.js", {}, {}}).status, 404u);
  EXPECT_EQ(s->lookup({"GET", "/favicon.ico", {}, {}}).status, 404u);
}

TEST_F(static_site_test, other_methods_are_405) {
  auto s = site();
  ASSERT_TRUE(s);
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    auto r = s->lookup({method, "/", {}, {}});
    EXPECT_EQ(r.status, 405u) << method;
    EXPECT_EQ(r.header("Allow"), "GET, HEAD");
  }
  auto head = s->lookup({"HEAD", "/", {}, {}});
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.body, index_html) << "the caller drops it, after its length";
}

// -- headers ----------------------------------------------------------------------

TEST(static_site, content_types_by_extension) {
  const std::pair<const char*, const char*> cases[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"a/b.HTML", "text/html; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"app.mjs", "text/javascript; charset=utf-8"},
    {"style.css", "text/css; charset=utf-8"},
    {"logo.svg", "image/svg+xml; charset=utf-8"},
    {"data.json", "application/json; charset=utf-8"},
    {"app.js.map", "application/json; charset=utf-8"},
    {"site.webmanifest", "application/manifest+json; charset=utf-8"},
    {"robots.txt", "text/plain; charset=utf-8"},
    {"logo.png", "image/png"},
    {"favicon.ico", "image/x-icon"},
    {"font.woff2", "font/woff2"},
    {"README", "application/octet-stream"},
    {"x.unknown", "application/octet-stream"},
    {"dir.d/noext", "application/octet-stream"},
  };
  for (const auto& [name, type] : cases)
    EXPECT_EQ(content_type_for(name), type) << name;
}

TEST_F(static_site_test, every_response_has_the_security_headers) {
  auto s = site();
  ASSERT_TRUE(s);
  for (const char* path : {"/", "/admin/x", "/assets/app-abc123.js",
                           "/favicon.svg"}) {
    auto r = get(*s, path);
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r.header("Referrer-Policy"), "no-referrer") << path;
  }
  for (const char* path : {"/", "/index.html", "/admin", "/admin/sessions/3"}) {
    auto r = get(*s, path);
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(r.header("Content-Security-Policy"), content_security_policy);
    EXPECT_EQ(r.header("X-Frame-Options"), "DENY") << path;
  }
  auto script = get(*s, "/assets/app-abc123.js");
  EXPECT_EQ(script.header("Content-Security-Policy"), "");
  EXPECT_EQ(script.header("X-Frame-Options"), "");
  // The policy forbids inline script and framing.
  EXPECT_NE(content_security_policy.find("script-src 'self';"),
            std::string_view::npos);
  EXPECT_EQ(content_security_policy.find("unsafe-inline"),
            std::string_view::npos);
  EXPECT_NE(content_security_policy.find("frame-ancestors 'none'"),
            std::string_view::npos);
}

TEST_F(static_site_test, assets_are_immutable_and_pages_revalidate) {
  auto s = site();
  ASSERT_TRUE(s);
  EXPECT_EQ(get(*s, "/assets/app-abc123.js").header("Cache-Control"),
            "public, max-age=31536000, immutable");
  EXPECT_EQ(get(*s, "/assets/style-def456.css", "gzip").header("Cache-Control"),
            "public, max-age=31536000, immutable");
  for (const char* path : {"/", "/admin", "/favicon.svg", "/robots.txt"})
    EXPECT_EQ(get(*s, path).header("Cache-Control"), "no-cache") << path;
}

TEST_F(static_site_test, picks_the_encoding_the_client_accepts) {
  auto s = site();
  ASSERT_TRUE(s);
  const auto* js = "/assets/app-abc123.js";
  auto check = [&](std::string_view accept, std::string_view encoding,
                   const std::string& body) {
    SCOPED_TRACE(std::string{"Accept-Encoding: "} + std::string{accept});
    auto r = get(*s, js, accept);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("Content-Encoding"), encoding);
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(r.header("Content-Type"), "text/javascript; charset=utf-8")
      << "the type is the file's, whatever its encoding";
  };
  check("", "", app_js);
  check("gzip, deflate, br", "br", app_br);
  check("br", "br", app_br);
  check("gzip", "gzip", app_gz);
  check("GZIP", "gzip", app_gz);
  check("x-gzip", "gzip", app_gz);
  check("deflate", "", app_js);
  check("identity", "", app_js);
  check("br;q=0, gzip", "gzip", app_gz);
  check("br;q=0.0, gzip;q=0.000", "", app_js);
  check("gzip;q=1.0, br;q=0.5", "gzip", app_gz);
  check("gzip;q=0.5, br;q=0.5", "br", app_br);
  check("br ; q=0.8 , gzip ; q=0.9", "gzip", app_gz);
  check("*", "br", app_br);
  check("*;q=0", "", app_js);
  check("*, br;q=0", "gzip", app_gz);
  check("gzip;q=oops, br;q=2", "", app_js);
  // Only gzip exists for the stylesheet; nothing at all for the page.
  auto css = get(*s, "/assets/style-def456.css", "br, gzip");
  EXPECT_EQ(css.header("Content-Encoding"), "gzip");
  EXPECT_EQ(css.body, "GZ-css");
  EXPECT_EQ(get(*s, "/assets/style-def456.css", "br")
              .header("Content-Encoding"),
            "");
  auto page = get(*s, "/", "br, gzip");
  EXPECT_EQ(page.header("Content-Encoding"), "");
  EXPECT_EQ(page.header("Vary"), "") << "no alternatives, nothing varies";
}

TEST(static_site, choose_encoding_on_its_own) {
  EXPECT_EQ(choose_encoding("br, gzip", true, true), "br");
  EXPECT_EQ(choose_encoding("br, gzip", false, true), "gzip");
  EXPECT_EQ(choose_encoding("br, gzip", false, false), "");
  EXPECT_EQ(choose_encoding("br;q=0.001", true, true), "br");
  EXPECT_EQ(choose_encoding("br;Q=0", true, true), "");
  EXPECT_EQ(choose_encoding(",,, ;;", true, true), "");
}

TEST_F(static_site_test, etags_are_strong_per_representation) {
  auto s = site();
  ASSERT_TRUE(s);
  const auto* js = "/assets/app-abc123.js";
  std::string plain{get(*s, js).header("ETag")};
  std::string br{get(*s, js, "br").header("ETag")};
  std::string gz{get(*s, js, "gzip").header("ETag")};
  std::set<std::string> tags{plain, br, gz};
  EXPECT_EQ(tags.size(), 3u) << plain << " " << br << " " << gz;
  for (const auto& tag : tags) {
    ASSERT_GE(tag.size(), 3u);
    EXPECT_EQ(tag.front(), '"') << "strong: no W/ " << tag;
    EXPECT_EQ(tag.back(), '"') << tag;
  }
  // The tag is a hash of the bytes: stable across loads, different for
  // different files.
  EXPECT_EQ(plain, std::string{site()->lookup({"GET", js, {}, {}})
                                 .header("ETag")});
  EXPECT_NE(get(*s, "/").header("ETag"), get(*s, "/admin").header("ETag"));
}

TEST_F(static_site_test, if_none_match_gives_304) {
  auto s = site();
  ASSERT_TRUE(s);
  const auto* js = "/assets/app-abc123.js";
  std::string plain{get(*s, js).header("ETag")};
  std::string br{get(*s, js, "br").header("ETag")};
  auto not_modified = get(*s, js, "", plain);
  EXPECT_EQ(not_modified.status, 304u);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.header("ETag"), plain);
  EXPECT_EQ(not_modified.header("Cache-Control"),
            "public, max-age=31536000, immutable");
  EXPECT_EQ(not_modified.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(not_modified.header("X-Content-Type-Options"), "nosniff");
  // Lists, weak forms and * match; another representation's tag does not.
  EXPECT_EQ(get(*s, js, "br", "\"other\", " + br).status, 304u);
  EXPECT_EQ(get(*s, js, "br", "W/" + br).status, 304u);
  EXPECT_EQ(get(*s, js, "br", "*").status, 304u);
  EXPECT_EQ(get(*s, js, "", br).status, 200u) << "br's tag, identity asked";
  EXPECT_EQ(get(*s, js, "br", plain).status, 200u);
  EXPECT_EQ(get(*s, js, "", "\"nope\"").status, 200u);
  EXPECT_EQ(get(*s, js, "", "garbage").status, 200u);
  EXPECT_EQ(get(*s, "/nope", "", "*").status, 404u) << "* needs a file";
  auto page = get(*s, "/admin/sessions/3");
  EXPECT_EQ(get(*s, "/admin", "", page.header("ETag")).status, 304u)
    << "client routes share admin.html's tag";
}

TEST(static_site, etag_matching_on_its_own) {
  EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches(" \"x\" ,\t\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("W/\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("\"x,y\", \"a\"", "\"a\""))
    << "a comma inside a tag is part of it";
  EXPECT_TRUE(etag_matches("*", "\"a\""));
  EXPECT_FALSE(etag_matches("", "\"a\""));
  EXPECT_FALSE(etag_matches("a", "\"a\""));
  EXPECT_FALSE(etag_matches("\"a", "\"a\""));
  EXPECT_FALSE(etag_matches("\"ab\"", "\"a\""));
  EXPECT_FALSE(etag_matches("w/\"b\", \"c\"", "\"a\""));
}

} // namespace
} // namespace parley::transport
