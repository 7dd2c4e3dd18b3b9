#include "transport/protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

using namespace parley;
using namespace parley::protocol;
using json = nlohmann::json;

namespace {

constexpr std::size_t limit = 16;

message_frame as_message(const client_frame& frame) {
  if (auto msg = std::get_if<message_frame>(&frame))
    return *msg;
  if (auto err = std::get_if<error_frame>(&frame))
    ADD_FAILURE() << "expected a message, got error " << err->code << ": "
                  << err->message;
  else
    ADD_FAILURE() << "expected a message, got a ping";
  return {};
}

error_frame as_error(const client_frame& frame) {
  if (auto err = std::get_if<error_frame>(&frame))
    return *err;
  ADD_FAILURE() << "expected an error frame";
  return {};
}

/// The error code parse_client_frame gives `text`, empty if none.
std::string code_of(std::string_view text, std::size_t max = limit) {
  auto frame = parse_client_frame(text, max);
  if (auto err = std::get_if<error_frame>(&frame))
    return err->code;
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- client frames: JSON objects ----------------------------------------------

TEST(protocol_parse, message_with_string_id) {
  auto msg = as_message(
    parse_client_frame(R"({"type":"message","text":"hello","id":"c-1"})",
                       limit));
  EXPECT_EQ(msg.text, "hello");
  EXPECT_EQ(msg.client_id, "c-1");
}

TEST(protocol_parse, message_without_id_or_null_id) {
  auto msg = as_message(
    parse_client_frame(R"({"type":"message","text":"hi"})", limit));
  EXPECT_EQ(msg.text, "hi");
  EXPECT_TRUE(msg.client_id.empty());
  msg = as_message(
    parse_client_frame(R"({"type":"message","text":"hi","id":null})", limit));
  EXPECT_TRUE(msg.client_id.empty());
}

TEST(protocol_parse, integer_ids_become_decimal_text) {
  EXPECT_EQ(as_message(parse_client_frame(
                         R"({"type":"message","text":"a","id":42})", limit))
              .client_id,
            "42");
  EXPECT_EQ(as_message(parse_client_frame(
                         R"({"type":"message","text":"a","id":-7})", limit))
              .client_id,
            "-7");
  EXPECT_EQ(as_message(parse_client_frame(
                         R"({"type":"message","text":"a",)"
                         R"("id":18446744073709551615})",
                         limit))
              .client_id,
            "18446744073709551615");
}

TEST(protocol_parse, bad_ids_are_invalid_frames) {
  for (auto id : {"1.5", "true", "[1]", "{}", "1e3"}) {
    auto err = as_error(parse_client_frame(
      std::string{R"({"type":"message","text":"a","id":)"} + id + "}", limit));
    EXPECT_EQ(err.code, codes::invalid_frame) << id;
    EXPECT_TRUE(contains(err.message, "'id'")) << err.message;
  }
}

TEST(protocol_parse, id_length_limit_in_bytes) {
  auto frame_with_id = [](const std::string& id) {
    return json{{"type", "message"}, {"text", "a"}, {"id", id}}.dump();
  };
  std::string at_limit(max_client_id_bytes, 'x');
  EXPECT_EQ(as_message(parse_client_frame(frame_with_id(at_limit), limit))
              .client_id,
            at_limit);
  auto err = as_error(
    parse_client_frame(frame_with_id(at_limit + "x"), limit));
  EXPECT_EQ(err.code, codes::invalid_frame);
  EXPECT_TRUE(contains(err.message, "128")) << err.message;
  // 64 two-byte characters are 128 bytes; one more is too many.
  std::string umlauts;
  for (int i = 0; i < 64; ++i)
    umlauts += "\xC3\xA4";
  EXPECT_EQ(code_of(frame_with_id(umlauts)), "");
  EXPECT_EQ(code_of(frame_with_id(umlauts + "\xC3\xA4")), codes::invalid_frame);
}

TEST(protocol_parse, ping) {
  auto frame = parse_client_frame(R"({"type":"ping"})", limit);
  EXPECT_TRUE(std::holds_alternative<ping_frame>(frame));
  frame = parse_client_frame(R"(  {"type":"ping","extra":1}  )", limit);
  EXPECT_TRUE(std::holds_alternative<ping_frame>(frame));
}

TEST(protocol_parse, type_errors) {
  EXPECT_EQ(code_of(R"({"text":"hi"})"), codes::invalid_frame);
  EXPECT_EQ(code_of(R"({"type":5,"text":"hi"})"), codes::invalid_frame);
  EXPECT_EQ(code_of(R"({"type":null})"), codes::invalid_frame);
  EXPECT_EQ(code_of(R"({})"), codes::invalid_frame);
  auto err = as_error(parse_client_frame(R"({"type":"shout"})", limit));
  EXPECT_EQ(err.code, codes::unknown_type);
  EXPECT_TRUE(contains(err.message, "shout")) << err.message;
  // Type names are case-sensitive.
  EXPECT_EQ(code_of(R"({"type":"Message","text":"x"})"), codes::unknown_type);
  EXPECT_TRUE(contains(
    as_error(parse_client_frame(R"({"type":1})", limit)).message, "'type'"));
}

TEST(protocol_parse, unknown_type_message_is_short) {
  auto long_type = std::string(500, 'z');
  auto err = as_error(parse_client_frame(
    json{{"type", long_type}}.dump(), limit));
  EXPECT_EQ(err.code, codes::unknown_type);
  EXPECT_LT(err.message.size(), 120u) << err.message;
}

TEST(protocol_parse, text_must_be_a_string) {
  for (auto text : {"", R"(,"text":5)", R"(,"text":null)", R"(,"text":["a"])"}) {
    auto err = as_error(parse_client_frame(
      std::string{R"({"type":"message")"} + text + "}", limit));
    EXPECT_EQ(err.code, codes::invalid_frame) << text;
    EXPECT_TRUE(contains(err.message, "'text'")) << err.message;
  }
}

TEST(protocol_parse, empty_and_blank_text) {
  EXPECT_EQ(code_of(R"({"type":"message","text":""})"), codes::empty_message);
  EXPECT_EQ(code_of(R"({"type":"message","text":" \t\n\r "})"),
            codes::empty_message);
  EXPECT_EQ(code_of(R"({"type":"message","text":" x "})"), "");
  // Surrounding whitespace is kept as sent.
  EXPECT_EQ(
    as_message(parse_client_frame(R"({"type":"message","text":" x "})", limit))
      .text,
    " x ");
}

TEST(protocol_parse, text_limit_exactly_and_one_past) {
  auto frame_with = [](const std::string& text) {
    return json{{"type", "message"}, {"text", text}}.dump();
  };
  EXPECT_EQ(as_message(parse_client_frame(frame_with(std::string(16, 'a')),
                                          limit))
              .text.size(),
            16u);
  auto err = as_error(
    parse_client_frame(frame_with(std::string(17, 'a')), limit));
  EXPECT_EQ(err.code, codes::message_too_long);
  EXPECT_TRUE(contains(err.message, "16 bytes")) << err.message;
}

TEST(protocol_parse, text_limit_counts_utf8_bytes) {
  // "€" is three bytes: five of them are 15 bytes, six are 18 > 16.
  std::string five, six;
  for (int i = 0; i < 5; ++i)
    five += "\xE2\x82\xAC";
  six = five + "\xE2\x82\xAC";
  auto frame_with = [](const std::string& text) {
    return json{{"type", "message"}, {"text", text}}.dump();
  };
  EXPECT_EQ(as_message(parse_client_frame(frame_with(five), limit)).text,
            five);
  EXPECT_EQ(code_of(frame_with(six)), codes::message_too_long);
  // Escaped in JSON, the frame is longer than the text it carries.
  EXPECT_EQ(as_message(parse_client_frame(
                         R"({"type":"message","text":"\u20ac\u20ac"})", 6))
              .text,
            "\xE2\x82\xAC\xE2\x82\xAC");
}

TEST(protocol_parse, structure_checked_before_content) {
  // A bad id is reported even when the text is also empty.
  EXPECT_EQ(code_of(R"({"type":"message","text":"","id":true})"),
            codes::invalid_frame);
}

// -- client frames: anything else is plain text -------------------------------

TEST(protocol_parse, plain_text_is_a_message) {
  auto msg = as_message(parse_client_frame("hello there", limit));
  EXPECT_EQ(msg.text, "hello there");
  EXPECT_TRUE(msg.client_id.empty());
}

TEST(protocol_parse, json_non_objects_are_plain_text) {
  for (auto text : {"42", "\"quoted\"", "[1,2]", "null", "true", "{broken"}) {
    auto msg = as_message(parse_client_frame(text, limit));
    EXPECT_EQ(msg.text, text);
    EXPECT_TRUE(msg.client_id.empty());
  }
}

TEST(protocol_parse, plain_text_rules) {
  EXPECT_EQ(code_of(""), codes::empty_message);
  EXPECT_EQ(code_of("   \n\t"), codes::empty_message);
  EXPECT_EQ(code_of(std::string(16, 'p')), "");
  auto err = as_error(parse_client_frame(std::string(17, 'p'), limit));
  EXPECT_EQ(err.code, codes::message_too_long);
  EXPECT_TRUE(contains(err.message, "16")) << err.message;
  // Multi-byte: 16 bytes of "ü" (8 characters) fit, 18 bytes do not.
  std::string eight, nine;
  for (int i = 0; i < 8; ++i)
    eight += "\xC3\xBC";
  nine = eight + "\xC3\xBC";
  EXPECT_EQ(code_of(eight), "");
  EXPECT_EQ(code_of(nine), codes::message_too_long);
}

TEST(protocol_parse, binary_frame_error) {
  auto err = binary_frame_error();
  EXPECT_EQ(err.code, codes::binary_not_supported);
  EXPECT_FALSE(err.message.empty());
}

TEST(protocol_parse, cancel_names_the_message) {
  auto frame = parse_client_frame(R"({"type":"cancel","reply_to":42})", limit);
  ASSERT_TRUE(std::holds_alternative<cancel_frame>(frame));
  EXPECT_EQ(std::get<cancel_frame>(frame).reply_to, 42);
  EXPECT_EQ(code_of(R"({"type":"cancel"})"), codes::invalid_frame);
  EXPECT_EQ(code_of(R"({"type":"cancel","reply_to":"42"})"),
            codes::invalid_frame);
  EXPECT_EQ(code_of(R"({"type":"cancel","reply_to":0})"), codes::invalid_frame);
}

TEST(protocol_write, delta_frame) {
  auto frame = nlohmann::json::parse(delta_frame(9, 4, 12, "wörld"));
  EXPECT_EQ(frame["type"], "delta");
  EXPECT_EQ(frame["seq"], 9);
  EXPECT_EQ(frame["reply_to"], 4);
  EXPECT_EQ(frame["offset"], 12);
  EXPECT_EQ(frame["text"], "wörld");
}

TEST(protocol_parse, refusals_of_a_message_name_its_id) {
  // The page marks the refused message from the error frame alone.
  auto err = as_error(
    parse_client_frame(R"({"type":"message","text":"","id":"c-1"})", limit));
  EXPECT_EQ(err.code, codes::empty_message);
  EXPECT_EQ(err.client_id, "c-1");
  err = as_error(parse_client_frame(
    json{{"type", "message"}, {"text", std::string(17, 'a')}, {"id", 7}}
      .dump(),
    limit));
  EXPECT_EQ(err.code, codes::message_too_long);
  EXPECT_EQ(err.client_id, "7") << "integer ids as their decimal text";
  err = as_error(
    parse_client_frame(R"({"type":"message","text":5,"id":"c-2"})", limit));
  EXPECT_EQ(err.code, codes::invalid_frame);
  EXPECT_EQ(err.client_id, "c-2");
  err = as_error(
    parse_client_frame(R"({"type":"message","id":"c-3"})", limit));
  EXPECT_EQ(err.code, codes::invalid_frame);
  EXPECT_EQ(err.client_id, "c-3");
  err = as_error(parse_client_frame(
    R"({"type":"message","text":"a\u0000b","id":"c-4"})", limit));
  EXPECT_EQ(err.code, codes::invalid_frame);
  EXPECT_EQ(err.client_id, "c-4");
  // No id, or none that could be read: nothing to name.
  EXPECT_TRUE(as_error(parse_client_frame(R"({"type":"message","text":""})",
                                          limit))
                .client_id.empty());
  EXPECT_TRUE(as_error(parse_client_frame("   ", limit)).client_id.empty());
  EXPECT_TRUE(as_error(parse_client_frame(
                         R"({"type":"message","text":"","id":true})", limit))
                .client_id.empty());
  EXPECT_TRUE(
    as_error(parse_client_frame(
               json{{"type", "message"},
                    {"text", "a"},
                    {"id", std::string(max_client_id_bytes + 1, 'x')}}
                 .dump(),
               limit))
      .client_id.empty());
  EXPECT_TRUE(as_error(parse_client_frame(
                         R"({"type":"message","text":"a","id":"x\u0000"})",
                         limit))
                .client_id.empty())
    << "an id with a NUL is refused itself, not echoed";
}

TEST(protocol_parse, nul_characters_are_refused) {
  // As a JSON escape and as a raw byte in a plain-text frame.
  EXPECT_EQ(code_of(R"({"type":"message","text":"a\u0000b"})"),
            codes::invalid_frame);
  EXPECT_EQ(code_of(R"({"type":"message","text":"ok","id":"x\u0000"})"),
            codes::invalid_frame);
  EXPECT_EQ(code_of(std::string_view{"plain\0text", 10}), codes::invalid_frame);
  EXPECT_TRUE(contains(
    as_error(parse_client_frame(std::string_view{"a\0", 2}, limit)).message,
    "NUL"));
}

// -- server frames ------------------------------------------------------------

TEST(protocol_write, session_frame) {
  auto doc = json::parse(session_frame(1, 77, "tok-abc", true, false));
  EXPECT_EQ(doc, (json{{"type", "session"},
                       {"seq", 1},
                       {"session_id", 77},
                       {"resume_token", "tok-abc"},
                       {"resumed", true},
                       {"status", "active"}}));
  EXPECT_EQ(json::parse(session_frame(0, 1, "t", false, false))["resumed"],
            false);
  // A reloaded page learns that a human agent has the session.
  EXPECT_EQ(json::parse(session_frame(0, 1, "t", true, true))["status"],
            "handoff");
}

TEST(protocol_write, ack_frame) {
  auto doc = json::parse(ack_frame(3, "c-9", 1234));
  EXPECT_EQ(doc, (json{{"type", "ack"},
                       {"seq", 3},
                       {"id", "c-9"},
                       {"message_id", 1234}}));
  auto no_id = json::parse(ack_frame(4, "", 5));
  ASSERT_TRUE(no_id.contains("id"));
  EXPECT_TRUE(no_id["id"].is_null());
  EXPECT_FALSE(doc.contains("text")) << "live acks carry no text";
  EXPECT_FALSE(doc.contains("created_at"));
}

TEST(protocol_write, replayed_ack_frame_carries_the_text) {
  auto doc = json::parse(
    ack_frame(3, "c-9", 1234, "Where is my order?", "2025-08-03T12:00:00.000000Z"));
  EXPECT_EQ(doc, (json{{"type", "ack"},
                       {"seq", 3},
                       {"id", "c-9"},
                       {"message_id", 1234},
                       {"text", "Where is my order?"},
                       {"created_at", "2025-08-03T12:00:00.000000Z"}}));
  auto no_time = json::parse(ack_frame(4, "", 5, "hi"));
  EXPECT_EQ(no_time["text"], "hi");
  EXPECT_FALSE(no_time.contains("created_at"));
  std::string text;
  ASSERT_NO_THROW(text = ack_frame(1, "", 1, std::string_view{"\xFE"}));
  EXPECT_TRUE(json::parse(text)["text"].is_string()) << "bad UTF-8 replaced";
}

TEST(protocol_write, typing_and_pong_frames) {
  EXPECT_EQ(json::parse(typing_frame(5, 42)),
            (json{{"type", "typing"}, {"seq", 5}, {"reply_to", 42}}));
  EXPECT_EQ(json::parse(pong_frame(6)), (json{{"type", "pong"}, {"seq", 6}}));
}

TEST(protocol_write, reply_frame) {
  storage::message_record r;
  r.id = 101;
  r.session_id = 9;
  r.role = "assistant";
  r.content = "Hi \"there\"\n";
  r.source = "fallback";
  r.tokens_used = 12;
  r.response_time = 0.25;
  r.reply_to = 100;
  r.finish_reason = "completed";
  r.created_at = "2024-01-02 03:04:05";
  auto doc = json::parse(reply_frame(8, r));
  EXPECT_EQ(doc, (json{{"type", "message"},
                       {"seq", 8},
                       {"id", 101},
                       {"reply_to", 100},
                       {"role", "assistant"},
                       {"text", "Hi \"there\"\n"},
                       {"source", "fallback"},
                       {"tokens_used", 12},
                       {"response_time", 0.25},
                       {"finish_reason", "completed"},
                       {"created_at", "2024-01-02 03:04:05"}}));
}

TEST(protocol_write, reply_frame_null_reply_to_and_no_finish_reason) {
  storage::message_record r;
  r.id = 5;
  r.role = "agent";
  r.content = "x";
  auto doc = json::parse(reply_frame(2, r));
  ASSERT_TRUE(doc.contains("reply_to"));
  EXPECT_TRUE(doc["reply_to"].is_null());
  EXPECT_FALSE(doc.contains("finish_reason"));
  EXPECT_EQ(doc["role"], "agent");
  EXPECT_EQ(doc["tokens_used"], 0);
  EXPECT_FALSE(doc.contains("handoff")) << "only on a change of hands";
}

TEST(protocol_write, reply_frame_says_when_the_session_changes_hands) {
  storage::message_record r;
  r.id = 5;
  r.role = "assistant";
  r.content = "A human agent will be with you shortly.";
  r.source = "fallback";
  auto taken = json::parse(reply_frame(3, r, true));
  EXPECT_EQ(taken["handoff"], true);
  EXPECT_EQ(taken["text"], r.content);
  r.source = "system";
  auto released = json::parse(reply_frame(4, r, false));
  ASSERT_TRUE(released.contains("handoff"));
  EXPECT_EQ(released["handoff"], false);
}

TEST(protocol_write, error_frame_text) {
  auto doc = json::parse(
    error_frame_text(11, codes::message_too_long, "too long"));
  EXPECT_EQ(doc, (json{{"type", "error"},
                       {"seq", 11},
                       {"code", "message_too_long"},
                       {"message", "too long"}}));
  auto named = json::parse(
    error_frame_text(12, codes::storage_unavailable, "not saved", "c-5"));
  EXPECT_EQ(named, (json{{"type", "error"},
                         {"seq", 12},
                         {"code", "storage_unavailable"},
                         {"message", "not saved"},
                         {"client_id", "c-5"}}));
}

TEST(protocol_write, utf8_survives_and_invalid_bytes_never_throw) {
  storage::message_record r;
  r.content = "Gr\xC3\xBC\xC3\x9F" "e \xF0\x9F\x91\x8B"; // Grüße 👋
  EXPECT_EQ(json::parse(reply_frame(1, r))["text"], r.content);
  r.content = "bad \xFF byte";
  std::string text;
  ASSERT_NO_THROW(text = reply_frame(1, r));
  auto doc = json::parse(text); // still valid JSON
  EXPECT_EQ(doc["text"], "bad \xEF\xBF\xBD byte"); // U+FFFD
  ASSERT_NO_THROW(text = error_frame_text(1, "x", "\xC3"));
  EXPECT_NO_THROW(json::parse(text));
  ASSERT_NO_THROW(text = ack_frame(1, "\xFE", 1));
  EXPECT_NO_THROW(json::parse(text));
  ASSERT_NO_THROW(text = session_frame(1, 1, "\x80", false, false));
  EXPECT_NO_THROW(json::parse(text));
}

TEST(protocol_roundtrip, error_frame_from_parse_serializes) {
  // The parser's error for a long unknown type is cut at a UTF-8 boundary.
  std::string type;
  for (int i = 0; i < 40; ++i)
    type += "\xC3\xA4";
  auto err = as_error(parse_client_frame(json{{"type", type}}.dump(), limit));
  auto doc = json::parse(error_frame_text(1, err.code, err.message));
  EXPECT_EQ(doc["code"], "unknown_type");
  EXPECT_EQ(doc["message"].get<std::string>(), err.message); // no U+FFFD
}
