// The load generator's frame scanner (tools/loadgen/frame_scanner): the
// fields it reads from real server frames, members hidden in strings and
// nested values, and malformed text.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tools/loadgen/frame_scanner.hpp"

using namespace parley::loadgen;

namespace {

TEST(loadgen_frame_scanner, reads_a_session_frame) {
  server_frame f;
  ASSERT_TRUE(scan_server_frame(
    R"({"resume_token":"abc","resumed":false,"seq":1,"session_id":7,)"
    R"("status":"active","type":"session"})",
    f));
  EXPECT_EQ(f.type, "session");
  EXPECT_FALSE(f.reply_to);
  EXPECT_FALSE(f.message_id);
}

TEST(loadgen_frame_scanner, reads_an_ack) {
  server_frame f;
  ASSERT_TRUE(scan_server_frame(
    R"({"id":"17","message_id":42,"seq":2,"type":"ack"})", f));
  EXPECT_EQ(f.type, "ack");
  EXPECT_EQ(f.id, "17");
  ASSERT_TRUE(f.message_id);
  EXPECT_EQ(*f.message_id, 42);
}

TEST(loadgen_frame_scanner, reads_typing_delta_and_message) {
  server_frame f;
  ASSERT_TRUE(scan_server_frame(R"({"reply_to":42,"seq":3,"type":"typing"})",
                                f));
  EXPECT_EQ(f.type, "typing");
  EXPECT_EQ(f.reply_to.value_or(0), 42);
  ASSERT_TRUE(scan_server_frame(
    R"({"offset":0,"reply_to":42,"seq":4,"text":"Hel","type":"delta"})", f));
  EXPECT_EQ(f.type, "delta");
  EXPECT_EQ(f.reply_to.value_or(0), 42);
  ASSERT_TRUE(scan_server_frame(
    R"({"created_at":"2025-08-03T12:00:00.000000Z","finish_reason":"completed",)"
    R"("id":43,"reply_to":42,"response_time":0.002,"role":"assistant",)"
    R"("seq":5,"source":"fallback","text":"Hello! How can I help?",)"
    R"("tokens_used":9,"type":"message"})",
    f));
  EXPECT_EQ(f.type, "message");
  EXPECT_EQ(f.reply_to.value_or(0), 42);
  EXPECT_EQ(f.id, "43"); // an integer id as its digits
}

TEST(loadgen_frame_scanner, reads_an_error) {
  server_frame f;
  ASSERT_TRUE(scan_server_frame(
    R"({"client_id":"c-17","code":"rate_limited","message":"slow down",)"
    R"("retry_after_ms":840,"seq":12,"type":"error"})",
    f));
  EXPECT_EQ(f.type, "error");
  EXPECT_EQ(f.code, "rate_limited");
  EXPECT_EQ(f.client_id, "c-17");
}

TEST(loadgen_frame_scanner, a_null_reply_to_is_absent) {
  server_frame f;
  ASSERT_TRUE(scan_server_frame(
    R"({"type":"message","reply_to":null,"role":"agent","seq":9})", f));
  EXPECT_FALSE(f.reply_to);
}

TEST(loadgen_frame_scanner, members_inside_strings_and_nested_values_do_not_count) {
  // The text quotes a frame, with escaped quotes and backslashes; a nested
  // object and an array carry keys of the same names.
  nlohmann::json frame{
    {"type", "message"},
    {"reply_to", 5},
    {"text", R"(say {"type":"ack","reply_to":99} \" and a \\)"},
    {"meta", {{"reply_to", 77}, {"type", "typing"}, {"list", {1, "}", "]"}}}},
    {"tags", {"reply_to", {{"type", "x"}}}}};
  // The scanned fields are views into the text: it must outlive them.
  const auto text = frame.dump();
  server_frame f;
  ASSERT_TRUE(scan_server_frame(text, f)) << text;
  EXPECT_EQ(f.type, "message");
  EXPECT_EQ(f.reply_to.value_or(0), 5);
}

TEST(loadgen_frame_scanner, takes_white_space_anywhere) {
  server_frame f;
  ASSERT_TRUE(scan_server_frame(
    " {\n  \"type\" : \"ack\" ,\t\"id\":\"3\",\r\n \"message_id\" : 8 }\n", f));
  EXPECT_EQ(f.type, "ack");
  EXPECT_EQ(f.id, "3");
  EXPECT_EQ(f.message_id.value_or(0), 8);
}

TEST(loadgen_frame_scanner, refuses_malformed_text) {
  const std::vector<std::string> bad{
    "",
    "hello",
    "[1,2]",
    R"({"type":"ack")",                  // not closed
    R"({"type":"ack"} x)",               // junk after it
    R"({"type" "ack"})",                 // no colon
    R"({"type":"ack",})",                // trailing comma
    R"({type:"ack"})",                   // unquoted key
    R"({"type":"ack","text":"unclosed})", // unclosed string
    R"({"type":"ack","meta":{"a":[1,2}})", // unclosed nesting
    R"({"type":})",                      // no value
    R"({"seq":1})",                      // no type
    R"({"type":7})",                     // type not a string
  };
  for (const auto& text : bad) {
    server_frame f;
    EXPECT_FALSE(scan_server_frame(text, f)) << text;
  }
}

TEST(loadgen_frame_scanner, an_empty_object_has_no_type) {
  server_frame f;
  EXPECT_FALSE(scan_server_frame("{}", f));
  EXPECT_TRUE(scan_object("{ }", [](auto, auto, auto) {}));
}

TEST(loadgen_frame_scanner, scan_object_visits_every_member_in_order) {
  std::vector<std::pair<std::string, json_kind>> seen;
  ASSERT_TRUE(scan_object(
    R"({"s":"x","n":-1.5e3,"t":true,"z":null,"o":{"a":1},"a":[{}]})",
    [&](std::string_view key, std::string_view, json_kind kind) {
      seen.emplace_back(std::string{key}, kind);
    }));
  std::vector<std::pair<std::string, json_kind>> expected{
    {"s", json_kind::string}, {"n", json_kind::number},
    {"t", json_kind::literal}, {"z", json_kind::literal},
    {"o", json_kind::object},  {"a", json_kind::array}};
  EXPECT_EQ(seen, expected);
}

TEST(loadgen_frame_scanner, find_member_reaches_into_nested_objects) {
  // The shape of POST /api/chat/send's 201 answer.
  std::string body =
    R"({"success":true,"data":{"message":{"id":42,"session_id":7},)"
    R"("session_id":7,"user_id":1,"resume_token":"ddd59b"}})";
  json_kind kind;
  auto data = find_member(body, "data", &kind);
  ASSERT_TRUE(data);
  EXPECT_EQ(kind, json_kind::object);
  auto id = find_member(*data, "session_id", &kind);
  ASSERT_TRUE(id);
  EXPECT_EQ(kind, json_kind::number);
  EXPECT_EQ(*id, "7");
  auto token = find_member(*data, "resume_token", &kind);
  ASSERT_TRUE(token);
  EXPECT_EQ(kind, json_kind::string);
  EXPECT_EQ(*token, "ddd59b");
  EXPECT_FALSE(find_member(*data, "absent"));
  EXPECT_FALSE(find_member("not json", "data"));
}

TEST(loadgen_frame_scanner, parse_integer_takes_integers_only) {
  EXPECT_EQ(parse_integer("0").value_or(-1), 0);
  EXPECT_EQ(parse_integer("9007199254740993").value_or(-1), 9007199254740993);
  EXPECT_EQ(parse_integer("-5").value_or(0), -5);
  EXPECT_FALSE(parse_integer(""));
  EXPECT_FALSE(parse_integer("1.5"));
  EXPECT_FALSE(parse_integer("null"));
  EXPECT_FALSE(parse_integer("12x"));
  EXPECT_FALSE(parse_integer("99999999999999999999"));
}

} // namespace
