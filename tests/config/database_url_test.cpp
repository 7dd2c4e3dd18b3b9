#include "config/database_url.hpp"

#include <gtest/gtest.h>

#include <string>

#include "config/config_error.hpp"

using namespace parley;

namespace {

/// The message of the config_error that parsing `url` throws, or a failure.
std::string parse_error(std::string_view url) {
  try {
    parse_database_url(url);
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no config_error for '" << url << "'";
  return {};
}

} // namespace

TEST(database_url, sqlite_relative_path) {
  auto url = parse_database_url("sqlite:///./data/parley.db");
  EXPECT_EQ(url.backend, db_backend::sqlite);
  EXPECT_EQ(url.path, "./data/parley.db");
  EXPECT_EQ(url.soci_backend(), "sqlite3");
  EXPECT_EQ(url.soci_connect_string(), "db=\"./data/parley.db\"");
  EXPECT_EQ(url.redacted(), "sqlite:///./data/parley.db");
}

TEST(database_url, sqlite_absolute_path) {
  auto url = parse_database_url("sqlite:////abs/x.db");
  EXPECT_EQ(url.path, "/abs/x.db");
  EXPECT_EQ(url.soci_connect_string(), "db=\"/abs/x.db\"");
  EXPECT_EQ(url.redacted(), "sqlite:////abs/x.db");
}

TEST(database_url, sqlite_memory) {
  auto url = parse_database_url("sqlite:///:memory:");
  EXPECT_EQ(url.path, ":memory:");
  EXPECT_EQ(url.soci_connect_string(), "db=\":memory:\"");
}

TEST(database_url, sqlite_path_with_space_is_kept) {
  // SOCI 4.0.3 joins the pieces of a double-quoted value split at spaces.
  auto url = parse_database_url("sqlite:///./my data/x.db");
  EXPECT_EQ(url.path, "./my data/x.db");
  EXPECT_EQ(url.soci_connect_string(), "db=\"./my data/x.db\"");
}

TEST(database_url, sqlite_errors) {
  EXPECT_NE(parse_error("sqlite://").find("no database path"),
            std::string::npos);
  EXPECT_NE(parse_error("sqlite:///").find("no database path"),
            std::string::npos);
  EXPECT_NE(parse_error("sqlite://host/x.db").find("sqlite:///"),
            std::string::npos);
  EXPECT_NE(parse_error("sqlite:///x.db?mode=ro").find("query"),
            std::string::npos);
  EXPECT_NE(parse_error("sqlite:///a\"b.db").find("'\"'"), std::string::npos);
  EXPECT_NE(parse_error("sqlite:/// x.db").find("space"), std::string::npos);
}

TEST(database_url, postgresql_full) {
  auto url = parse_database_url("postgresql://alice:s3cret@db.example:6543/chat");
  EXPECT_EQ(url.backend, db_backend::postgresql);
  EXPECT_EQ(url.scheme, "postgresql");
  EXPECT_EQ(url.user, "alice");
  EXPECT_EQ(url.password, "s3cret");
  EXPECT_EQ(url.host, "db.example");
  EXPECT_EQ(url.port, 6543);
  EXPECT_EQ(url.database, "chat");
  EXPECT_EQ(url.soci_backend(), "postgresql");
  EXPECT_EQ(url.soci_connect_string(),
            "host='db.example' port=6543 dbname='chat' user='alice' "
            "password='s3cret'");
  EXPECT_EQ(url.redacted(), "postgresql://alice:***@db.example:6543/chat");
}

TEST(database_url, postgres_alias_and_defaults) {
  auto url = parse_database_url("postgres://db/chat");
  EXPECT_EQ(url.backend, db_backend::postgresql);
  EXPECT_EQ(url.port, 0);
  EXPECT_TRUE(url.user.empty());
  EXPECT_TRUE(url.password.empty());
  // Empty parts are left out so libpq applies its own defaults.
  EXPECT_EQ(url.soci_connect_string(), "host='db' dbname='chat'");
  EXPECT_EQ(url.redacted(), "postgres://db/chat");
}

TEST(database_url, user_without_password) {
  auto url = parse_database_url("postgresql://bob@db/chat");
  EXPECT_EQ(url.user, "bob");
  EXPECT_TRUE(url.password.empty());
  EXPECT_EQ(url.soci_connect_string(), "host='db' dbname='chat' user='bob'");
  EXPECT_EQ(url.redacted(), "postgresql://bob@db/chat");
}

TEST(database_url, percent_decoding_of_user_and_password) {
  auto url = parse_database_url(
    "postgresql://us%40er:p%40ss%3Aw%2Fo%25rd@db:5432/chat");
  EXPECT_EQ(url.user, "us@er");
  EXPECT_EQ(url.password, "p@ss:w/o%rd");
  EXPECT_EQ(url.host, "db");
  EXPECT_EQ(url.redacted(), "postgresql://us%40er:***@db:5432/chat");
}

TEST(database_url, unencoded_specials_in_password) {
  // The password runs to the last '@', so '/', '?' and '@' stay in it.
  auto url = parse_database_url("postgresql://u:a/b?c@d@db/chat");
  EXPECT_EQ(url.password, "a/b?c@d");
  EXPECT_EQ(url.host, "db");
  EXPECT_EQ(url.database, "chat");
}

TEST(database_url, quoting_for_libpq) {
  auto url = parse_database_url("postgresql://o%27hara:it%27s%5Cx@db/chat");
  EXPECT_EQ(url.user, "o'hara");
  EXPECT_EQ(url.password, "it's\\x");
  EXPECT_EQ(url.soci_connect_string(),
            "host='db' dbname='chat' user='o\\'hara' "
            "password='it\\'s\\\\x'");
  // SOCI's MySQL parser unescapes the same way.
  auto mysql = parse_database_url("mysql://o%27hara:it%27s%5Cx@db/chat");
  EXPECT_EQ(mysql.soci_connect_string(),
            "host='db' db='chat' user='o\\'hara' password='it\\'s\\\\x'");
}

TEST(database_url, postgresql_whitespace_uses_a_libpq_uri) {
  // SOCI 4.0.3 splits the key='value' form at every space; see the .cpp.
  auto url = parse_database_url("postgresql://u%20x:a%20b%27c@db:5432/chat");
  EXPECT_EQ(url.password, "a b'c");
  EXPECT_EQ(url.soci_connect_string(),
            "postgresql://u%20x:a%20b%27c@db:5432/chat"
            "?application_name=parley");
  auto ipv6 = parse_database_url("postgres://u:a%20b@[::1]/chat");
  EXPECT_EQ(ipv6.soci_connect_string(),
            "postgresql://u:a%20b@[::1]/chat?application_name=parley");
  // MySQL's parser in SOCI keeps spaces inside quotes.
  auto mysql = parse_database_url("mysql://u:a%20b@db/chat");
  EXPECT_EQ(mysql.soci_connect_string(),
            "host='db' db='chat' user='u' password='a b'");
}

TEST(database_url, ipv6_host) {
  auto url = parse_database_url("postgresql://u:p@[::1]:5432/chat");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 5432);
  EXPECT_EQ(url.soci_connect_string(),
            "host='::1' port=5432 dbname='chat' user='u' password='p'");
  EXPECT_EQ(url.redacted(), "postgresql://u:***@[::1]:5432/chat");
  auto no_port = parse_database_url("postgresql://[fe80::1]/chat");
  EXPECT_EQ(no_port.host, "fe80::1");
  EXPECT_EQ(no_port.port, 0);
}

TEST(database_url, mysql_spellings) {
  for (auto scheme : {"mysql", "mysql+pymysql", "mariadb", "MySQL"}) {
    auto url = parse_database_url(std::string{scheme}
                                  + "://root:pw@127.0.0.1:3307/parley");
    EXPECT_EQ(url.backend, db_backend::mysql) << scheme;
    EXPECT_EQ(url.soci_backend(), "mysql");
    EXPECT_EQ(url.soci_connect_string(),
              "host='127.0.0.1' port=3307 db='parley' user='root' "
              "password='pw'");
  }
  EXPECT_EQ(parse_database_url("mysql+pymysql://u:p@h/d").redacted(),
            "mysql+pymysql://u:***@h/d");
}

TEST(database_url, to_string_names_backends) {
  EXPECT_STREQ(to_string(db_backend::sqlite), "sqlite");
  EXPECT_STREQ(to_string(db_backend::postgresql), "postgresql");
  EXPECT_STREQ(to_string(db_backend::mysql), "mysql");
}

TEST(database_url, server_errors) {
  EXPECT_NE(parse_error("postgresql:///chat").find("no host"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://u:p@:5432/chat").find("no host"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://db").find("no database name"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://db/").find("no database name"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://db:0/chat").find("port '0'"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://db:65536/chat").find("port '65536'"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://db:/chat").find("port ''"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://db:54x/chat").find("port '54x'"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://db/chat?sslmode=require").find("query"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://::1:5432/chat").find("brackets"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://[::1/chat").find("']'"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://[::1]x/chat").find("IPv6"),
            std::string::npos);
  EXPECT_NE(parse_error("oracle://db/chat").find("unknown scheme 'oracle'"),
            std::string::npos);
  EXPECT_NE(parse_error("just-a-path.db").find("not a URL"),
            std::string::npos);
  EXPECT_NE(parse_error("").find("not a URL"), std::string::npos);
  // The port 65535 itself is fine.
  EXPECT_EQ(parse_database_url("postgresql://db:65535/chat").port, 65535);
  EXPECT_EQ(parse_database_url("postgresql://db:1/chat").port, 1);
}

TEST(database_url, errors_never_contain_the_password) {
  const std::string secret = "Hunter2Secret";
  for (std::string url : {
         "postgresql://u:" + secret + "@db:99999/chat",
         "postgresql://u:" + secret + "@db",
         "postgresql://u:" + secret + "@/chat",
         "postgresql://u:" + secret + "@db/chat?x=1",
         "postgresql://u:" + secret + "%zz@db/chat",
         "postgresql://u:" + secret + "@::1:5/chat",
         "oracle://u:" + secret + "@db/chat",
         "u:" + secret + "@db/chat",
       }) {
    auto what = parse_error(url);
    EXPECT_FALSE(what.empty()) << url;
    EXPECT_EQ(what.find(secret), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(database_url, bad_percent_encoding) {
  EXPECT_NE(parse_error("postgresql://u:%4@db/chat").find("password"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://%G1:p@db/chat").find("user name"),
            std::string::npos);
}
