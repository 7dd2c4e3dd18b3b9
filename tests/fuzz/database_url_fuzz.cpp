#include <map>

#include "config/config_error.hpp"
#include "config/database_url.hpp"
#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"

namespace parley::fuzz {

namespace {

/// Encodes all but RFC 3986's unreserved characters.
std::string encode(std::string_view text) {
  static constexpr const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                      || (c >= '0' && c <= '9') || c == '-' || c == '.'
                      || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0x0F];
    }
  }
  return out;
}

/// The URL of a parsed value, user info percent-encoded.
std::string url_of(const database_url& url) {
  if (url.backend == db_backend::sqlite)
    return url.scheme + ":///" + url.path;
  // Always with the '@': without it, a ':' after the host and an '@' in
  // the database name would read as user info.
  std::string text = url.scheme + "://" + encode(url.user);
  if (!url.password.empty())
    text += ':' + encode(url.password);
  text += '@';
  text += url.host.find(':') != std::string::npos ? '[' + url.host + ']'
                                                  : url.host;
  if (url.port != 0)
    text += ':' + std::to_string(url.port);
  return text + '/' + url.database;
}

bool same(const database_url& a, const database_url& b) {
  return a.backend == b.backend && a.scheme == b.scheme && a.path == b.path
         && a.host == b.host && a.port == b.port && a.user == b.user
         && a.password == b.password && a.database == b.database;
}

/// Reads libpq's and SOCI-MySQL's `key='value' key=value` syntax back
/// (a backslash takes the next character literally); nothing on a syntax
/// error.
std::optional<std::map<std::string, std::string>>
read_key_values(std::string_view text) {
  std::map<std::string, std::string> result;
  while (!text.empty()) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
      return std::nullopt;
    std::string key{text.substr(0, eq)};
    text.remove_prefix(eq + 1);
    std::string value;
    if (!text.empty() && text.front() == '\'') {
      text.remove_prefix(1);
      bool closed = false;
      while (!text.empty()) {
        char c = text.front();
        text.remove_prefix(1);
        if (c == '\\') {
          if (text.empty())
            return std::nullopt;
          value += text.front();
          text.remove_prefix(1);
        } else if (c == '\'') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed)
        return std::nullopt;
    } else {
      auto end = text.find(' ');
      value = std::string{text.substr(0, end)};
      text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    }
    if (!result.emplace(key, value).second)
      return std::nullopt;
    if (!text.empty()) {
      if (text.front() != ' ')
        return std::nullopt;
      text.remove_prefix(1);
    }
  }
  return result;
}

void check_connect_string(const database_url& url) {
  auto text = url.soci_connect_string();
  if (url.backend == db_backend::sqlite) {
    FUZZ_CHECK(text == "db=\"" + url.path + "\"");
    return;
  }
  if (text.rfind("postgresql://", 0) == 0) {
    // The libpq URI form: each part percent-encoded.
    FUZZ_CHECK(url.backend == db_backend::postgresql);
    FUZZ_CHECK(text.find(' ') == std::string::npos);
    return;
  }
  auto values = read_key_values(text);
  FUZZ_CHECK(values.has_value());
  auto value_of = [&](const char* key) {
    auto it = values->find(key);
    return it == values->end() ? std::string{} : it->second;
  };
  FUZZ_CHECK(value_of("host") == url.host);
  FUZZ_CHECK(value_of(url.backend == db_backend::postgresql ? "dbname" : "db")
             == url.database);
  FUZZ_CHECK(value_of("user") == url.user);
  FUZZ_CHECK(value_of("password") == url.password);
  FUZZ_CHECK(value_of("port")
             == (url.port == 0 ? std::string{} : std::to_string(url.port)));
}

} // namespace

int fuzz_database_url(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  database_url url;
  try {
    url = parse_database_url(input);
  } catch (const config_error& e) {
    // Errors name the part, never the text: it may hold the password.
    FUZZ_CHECK(std::string_view{e.what()}.rfind("DATABASE_URL: ", 0) == 0);
    return 0;
  }
  switch (url.backend) {
    case db_backend::sqlite:
      FUZZ_CHECK(url.scheme == "sqlite");
      FUZZ_CHECK(!url.path.empty());
      FUZZ_CHECK(url.path.find_first_of("\"?") == std::string::npos);
      FUZZ_CHECK(url.path.front() != ' ');
      FUZZ_CHECK(url.soci_backend() == "sqlite3");
      break;
    case db_backend::postgresql:
    case db_backend::mysql:
      FUZZ_CHECK(!url.host.empty());
      FUZZ_CHECK(!url.database.empty());
      FUZZ_CHECK(url.database.find('?') == std::string::npos);
      FUZZ_CHECK(url.host.find_first_of("[]@ \t/?") == std::string::npos);
      break;
  }
  // Written out again, the URL reads the same.
  auto again = parse_database_url(url_of(url));
  FUZZ_CHECK(same(again, url));
  check_connect_string(url);
  // The redacted form does not depend on the password, only on whether
  // there is one.
  auto other = url;
  if (!other.password.empty())
    other.password = other.password == "x" ? "y" : "x";
  FUZZ_CHECK(other.redacted() == url.redacted());
  return 0;
}

} // namespace parley::fuzz
