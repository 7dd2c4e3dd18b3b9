#include "config/database_url.hpp"

#include <algorithm>
#include <cctype>

#include "config/config_error.hpp"
#include "config/option_values.hpp"
#include "config/url_encoding.hpp"

namespace parley {

namespace {

using detail::to_lower;

constexpr const char* supported_schemes
  = "sqlite, postgresql, postgres, mysql, mysql+pymysql, mariadb";

[[noreturn]] void fail(const std::string& what) {
  throw config_error("DATABASE_URL: " + what);
}

// `what` names the part ("user name", "password"); the text itself is never
// part of the message because it may be a secret.
std::string decode_part(std::string_view text, const char* what) {
  auto decoded = percent_decode(text);
  if (!decoded)
    fail(std::string{"invalid percent-encoding in the "} + what);
  return std::move(*decoded);
}

/// Encodes all but RFC 3986's unreserved characters and `keep`.
std::string percent_encode(std::string_view text, std::string_view keep = {}) {
  static constexpr const char* digits = "0123456789ABCDEF";
  std::string result;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
        || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += digits[c >> 4];
      result += digits[c & 0x0F];
    }
  }
  return result;
}

bool has_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isspace(c) != 0; });
}

std::uint16_t parse_port(std::string_view text) {
  auto bad = [&] {
    fail("port '" + std::string{text} + "' is not a port number (1..65535)");
  };
  if (text.empty() || text.size() > 5)
    bad();
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      bad();
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535)
    bad();
  return static_cast<std::uint16_t>(value);
}

// Quotes a value for libpq's and SOCI-MySQL's `key='value'` syntax: both
// read a backslash as "take the next character literally".
std::string quote(std::string_view value) {
  std::string result = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'')
      result += '\\';
    result += c;
  }
  result += '\'';
  return result;
}

void parse_sqlite(std::string_view rest, database_url& result) {
  // SQLAlchemy spelling: an empty authority, then the path.
  if (rest.empty())
    fail("sqlite URL has no database path (use sqlite:///path/to/file.db "
         "or sqlite:///:memory:)");
  if (rest.front() != '/')
    fail("sqlite URL must look like sqlite:///path/to/file.db (three "
         "slashes before a relative path, four before an absolute one)");
  auto path = rest.substr(1);
  if (path.empty())
    fail("sqlite URL has no database path (use sqlite:///path/to/file.db "
         "or sqlite:///:memory:)");
  if (path.find('?') != std::string_view::npos)
    fail("query parameters ('?...') are not supported");
  // SOCI 4.0.3's sqlite3 backend only understands db="..." without any
  // escape, and fails on a quoted value that starts with a space.
  if (path.find('"') != std::string_view::npos)
    fail("sqlite path must not contain '\"' (SOCI cannot pass it on)");
  if (path.front() == ' ')
    fail("sqlite path must not start with a space (SOCI cannot pass it on)");
  result.path = std::string{path};
}

void parse_server(std::string_view rest, database_url& result) {
  // User info follows SQLAlchemy: the user name ends at ':' or '@' and may
  // not contain '/'; a password runs to the last '@', so an unencoded '/',
  // '?' or '@' in it does not leak it into the host or the error messages.
  auto user_end = rest.find_first_of(":/@");
  if (user_end != std::string_view::npos && rest[user_end] == '@') {
    result.user = decode_part(rest.substr(0, user_end), "user name");
    rest.remove_prefix(user_end + 1);
  } else if (user_end != std::string_view::npos && rest[user_end] == ':') {
    auto at = rest.rfind('@');
    if (at != std::string_view::npos && at > user_end) {
      result.user = decode_part(rest.substr(0, user_end), "user name");
      result.password = decode_part(
        rest.substr(user_end + 1, at - user_end - 1), "password");
      rest.remove_prefix(at + 1);
    }
  }
  if (rest.find('?') != std::string_view::npos)
    fail("query parameters ('?...') are not supported");
  auto slash = rest.find('/');
  auto host_port = rest.substr(0, slash);
  if (slash != std::string_view::npos)
    result.database = std::string{rest.substr(slash + 1)};
  std::string_view port_text;
  bool has_port = false;
  if (!host_port.empty() && host_port.front() == '[') {
    auto close = host_port.find(']');
    if (close == std::string_view::npos)
      fail("IPv6 host has no closing ']'");
    result.host = std::string{host_port.substr(1, close - 1)};
    auto after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        fail("unexpected text after the IPv6 host (expected ':port')");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = host_port.find(':');
    if (colon != std::string_view::npos
        && host_port.find(':', colon + 1) != std::string_view::npos)
      fail("IPv6 hosts must be written in brackets, as in [::1]:5432");
    result.host = std::string{host_port.substr(0, colon)};
    if (colon != std::string_view::npos) {
      port_text = host_port.substr(colon + 1);
      has_port = true;
    }
  }
  if (result.host.empty())
    fail("no host name (expected " + result.scheme
         + "://user:password@host:port/database)");
  if (result.host.find_first_of("[]@ \t") != std::string::npos)
    fail("host '" + result.host + "' is not a valid host name");
  if (has_port)
    result.port = parse_port(port_text);
  if (result.database.empty())
    fail("no database name (expected " + result.scheme
         + "://user:password@host:port/database)");
}

} // namespace

const char* to_string(db_backend backend) noexcept {
  switch (backend) {
    case db_backend::sqlite:
      return "sqlite";
    case db_backend::postgresql:
      return "postgresql";
    case db_backend::mysql:
      return "mysql";
  }
  return "unknown";
}

std::string database_url::soci_backend() const {
  switch (backend) {
    case db_backend::sqlite:
      return "sqlite3";
    case db_backend::postgresql:
      return "postgresql";
    case db_backend::mysql:
      return "mysql";
  }
  return "unknown";
}

std::string database_url::soci_connect_string() const {
  if (backend == db_backend::sqlite) {
    // SOCI 4.0.3's sqlite3 backend strips double quotes only (single quotes
    // would become part of the file name) and knows no escapes; the parser
    // rejects paths this cannot carry.
    return "db=\"" + path + "\"";
  }
  if (backend == db_backend::postgresql
      && (has_space(user) || has_space(password) || has_space(database))) {
    // SOCI 4.0.3's PostgreSQL factory re-splits the string at whitespace
    // (to drop its own "singlerow" key) before libpq sees it, which breaks
    // any quoted value containing a space. A libpq URI carries those values
    // percent-encoded; the query parameter keeps SOCI from appending a
    // stray '=' to the last token.
    std::string uri = "postgresql://";
    if (!user.empty() || !password.empty()) {
      uri += percent_encode(user);
      if (!password.empty())
        uri += ':' + percent_encode(password);
      uri += '@';
    }
    if (host.find(':') != std::string::npos)
      uri += '[' + percent_encode(host, ":") + ']';
    else
      uri += percent_encode(host);
    if (port != 0)
      uri += ':' + std::to_string(port);
    uri += '/' + percent_encode(database);
    uri += "?application_name=parley";
    return uri;
  }
  // libpq and SOCI's MySQL parser share the key='value' syntax; only the
  // name of the database key differs.
  std::string result;
  auto add = [&result](const char* key, const std::string& value) {
    if (!result.empty())
      result += ' ';
    result += key;
    result += '=';
    result += value;
  };
  if (!host.empty())
    add("host", quote(host));
  if (port != 0)
    add("port", std::to_string(port));
  if (!database.empty())
    add(backend == db_backend::postgresql ? "dbname" : "db", quote(database));
  if (!user.empty())
    add("user", quote(user));
  if (!password.empty())
    add("password", quote(password));
  return result;
}

std::string database_url::redacted() const {
  std::string result = scheme.empty() ? to_string(backend) : scheme;
  result += "://";
  if (backend == db_backend::sqlite) {
    result += '/';
    result += path;
    return result;
  }
  if (!user.empty() || !password.empty()) {
    result += percent_encode(user);
    if (!password.empty())
      result += ":***";
    result += '@';
  }
  if (host.find(':') != std::string::npos)
    result += '[' + host + ']';
  else
    result += host;
  if (port != 0)
    result += ':' + std::to_string(port);
  result += '/';
  result += database;
  return result;
}

database_url parse_database_url(std::string_view url) {
  // Nothing of a malformed URL is echoed: it may hold the password.
  auto sep = url.find("://");
  auto scheme = url.substr(0, sep);
  if (sep == std::string_view::npos || sep == 0
      || scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
           != std::string_view::npos)
    fail(std::string{"not a URL (expected scheme://...; supported schemes: "}
         + supported_schemes + ")");
  database_url result;
  result.scheme = to_lower(scheme);
  auto rest = url.substr(sep + 3);
  if (result.scheme == "sqlite") {
    result.backend = db_backend::sqlite;
    parse_sqlite(rest, result);
    return result;
  }
  if (result.scheme == "postgresql" || result.scheme == "postgres") {
    result.backend = db_backend::postgresql;
  } else if (result.scheme == "mysql" || result.scheme == "mysql+pymysql"
             || result.scheme == "mariadb") {
    result.backend = db_backend::mysql;
  } else {
    // The scheme is everything before "://" and cannot hold the password.
    fail("unknown scheme '" + result.scheme
         + "' (supported: " + supported_schemes + ")");
  }
  parse_server(rest, result);
  return result;
}

} // namespace parley
