#include "config/web_origin.hpp"

#include <gtest/gtest.h>

using namespace parley;

TEST(web_origin, parses_and_normalises) {
  auto o = parse_web_origin("HTTPS://Shop.Example");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->scheme, "https");
  EXPECT_EQ(o->host, "shop.example");
  EXPECT_EQ(o->port, 443);
  EXPECT_EQ(o->str(), "https://shop.example");
  EXPECT_EQ(parse_web_origin("https://shop.example:443")->str(),
            "https://shop.example");
  EXPECT_EQ(parse_web_origin("http://localhost:8080")->str(),
            "http://localhost:8080");
  EXPECT_EQ(parse_web_origin("http://localhost:8080")->port, 8080);
  EXPECT_EQ(parse_web_origin("http://[::1]:3001")->str(), "http://[::1]:3001");
  EXPECT_EQ(parse_web_origin("http://[::1]")->host, "[::1]");
  EXPECT_EQ(parse_web_origin("chrome-extension://abcdef")->str(),
            "chrome-extension://abcdef");
  EXPECT_EQ(parse_web_origin("chrome-extension://abcdef")->port, 0);
}

TEST(web_origin, refuses_what_is_not_an_origin) {
  for (auto text :
       {"", "null", "shop.example", "://shop.example", "https://",
        "https:///x", "https://shop.example/", "https://shop.example/x",
        "https://shop.example?x", "https://shop.example#x",
        "https://user@shop.example", "https://shop.example:",
        "https://shop.example:0", "https://shop.example:65536",
        "https://shop.example:12a", "https://shop .example",
        "https://shop.example\r\n", "1https://shop.example", "https://[::1",
        "https://[]", "https://[::1]x", "https://sh%6Fp.example"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_web_origin(text));
  }
}

TEST(web_origin, host_headers_take_the_schemes_default_port) {
  auto h = parse_host_port("Chat.Example", "https");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "chat.example");
  EXPECT_EQ(h->port, 443);
  EXPECT_EQ(parse_host_port("chat.example", "http")->port, 80);
  EXPECT_EQ(parse_host_port("chat.example:3001", "http")->port, 3001);
  EXPECT_EQ(parse_host_port("[::1]:3001", "http")->host, "[::1]");
  EXPECT_FALSE(parse_host_port("", "http"));
  EXPECT_FALSE(parse_host_port("chat.example:", "http"));
  EXPECT_FALSE(parse_host_port("chat.example:x", "http"));
}
