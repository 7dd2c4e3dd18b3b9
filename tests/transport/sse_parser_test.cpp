#include "transport/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace parley::llm;

namespace {

/// Comparable form of an event, for readable failures.
std::string show(const sse_event& event) {
  std::string result = "{type=" + event.type + " data=" + event.data
                       + " id=" + event.id + " retry=";
  result += event.retry ? std::to_string(*event.retry) : "-";
  return result + "}";
}

std::vector<std::string> show(const std::vector<sse_event>& events) {
  std::vector<std::string> result;
  for (const auto& event : events)
    result.push_back(show(event));
  return result;
}

std::vector<sse_event>
parse_all(std::string_view stream,
          std::size_t max = sse_parser::default_max_event_bytes) {
  sse_parser parser{max};
  auto events = parser.feed(stream);
  EXPECT_FALSE(parser.failed()) << parser.error();
  return events;
}

/// Feeds `stream` one piece at a time, cut at `cuts`.
std::vector<sse_event> parse_split(std::string_view stream,
                                   const std::vector<std::size_t>& cuts) {
  sse_parser parser;
  std::vector<sse_event> events;
  std::size_t from = 0;
  auto take = [&](std::size_t to) {
    for (auto& event : parser.feed(stream.substr(from, to - from)))
      events.push_back(std::move(event));
    from = to;
  };
  for (auto cut : cuts)
    take(cut);
  take(stream.size());
  EXPECT_FALSE(parser.failed()) << parser.error();
  return events;
}

// Every feature at once: BOM, CRLF / CR / LF, comments, multi-line data,
// event types, ids, retry, a field without a colon, a space-less value, a
// block without data, unknown fields, and non-ASCII text.
const std::string sample =
  "\xEF\xBB\xBF"
  ": keep-alive comment\r\n"
  "data: first\r\n"
  "\r\n"
  "event: update\n"
  "id: 7\n"
  "data: line one\n"
  "data:line two\n"
  "data:  two spaces\n"
  "\n"
  "retry: 2500\r"
  "data: caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\r"
  "\r"
  "id\n"
  "data\n"
  "\n"
  "event: ignored-no-data\n"
  "unknown: field\n"
  "\n"
  "data: {\"k\": [1, 2]}\r\n"
  "\r\n"
  "data: unterminated";

const std::vector<std::string> sample_events = {
  "{type=message data=first id= retry=-}",
  "{type=update data=line one\nline two\n two spaces id=7 retry=-}",
  "{type=message data=caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 id=7 "
  "retry=2500}",
  "{type=message data= id= retry=-}",
  "{type=message data={\"k\": [1, 2]} id= retry=-}",
};

} // namespace

TEST(sse_parser, sample_stream_in_one_piece) {
  sse_parser parser;
  auto events = parser.feed(sample);
  EXPECT_EQ(show(events), sample_events);
  EXPECT_TRUE(parser.has_pending()); // "data: unterminated" is not an event
  EXPECT_EQ(parser.retry(), 2500u);
  EXPECT_EQ(parser.last_event_id(), "");
}

TEST(sse_parser, sample_stream_split_at_every_byte_position) {
  for (std::size_t cut = 0; cut <= sample.size(); ++cut)
    EXPECT_EQ(show(parse_split(sample, {cut})), sample_events)
      << "cut at " << cut;
}

TEST(sse_parser, sample_stream_split_at_every_pair_of_positions) {
  // Two cuts cover a piece of one byte in the middle of CRLF, the BOM and a
  // UTF-8 sequence.
  for (std::size_t a = 0; a <= sample.size(); ++a)
    for (std::size_t b = a; b <= sample.size(); ++b)
      ASSERT_EQ(show(parse_split(sample, {a, b})), sample_events)
        << "cuts at " << a << " and " << b;
}

TEST(sse_parser, sample_stream_byte_by_byte) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < sample.size(); ++i)
    cuts.push_back(i);
  EXPECT_EQ(show(parse_split(sample, cuts)), sample_events);
}

TEST(sse_parser, crlf_split_across_feeds_is_one_line_end) {
  sse_parser parser;
  EXPECT_TRUE(parser.feed("data: a\r").empty());
  // The LF completes the CRLF; it is not an empty line of its own.
  EXPECT_TRUE(parser.feed("\n").empty());
  auto events = parser.feed("\r");
  EXPECT_TRUE(parser.feed("\ndata: b\r\n\r\n").size() == 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a");
}

TEST(sse_parser, cr_then_cr_is_two_line_ends) {
  auto events = parse_all("data: a\r\rdata: b\r\r");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[1].data, "b");
}

TEST(sse_parser, lf_cr_is_two_line_ends) {
  auto events = parse_all("data: a\n\rdata: b\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[1].data, "b");
}

TEST(sse_parser, comments_are_ignored) {
  auto events = parse_all(":\n: ping\n:data: not data\ndata: x\n: mid\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
  // A stream of only comments dispatches nothing.
  EXPECT_TRUE(parse_all(": a\n\n: b\n\n").empty());
}

TEST(sse_parser, multi_line_data_joined_with_lf) {
  auto events = parse_all("data: a\ndata:\ndata: c\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\n\nc");
}

TEST(sse_parser, only_one_leading_space_is_removed) {
  auto events = parse_all("data:   x \n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "  x ");
}

TEST(sse_parser, value_keeps_further_colons) {
  auto events = parse_all("data: a: b:c\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a: b:c");
}

TEST(sse_parser, field_without_colon_has_empty_value) {
  // "data" alone appends an empty line: the event has empty data.
  auto events = parse_all("data\n\ndata\ndata\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[1].data, "\n");
}

TEST(sse_parser, field_names_are_case_sensitive) {
  EXPECT_TRUE(parse_all("Data: x\n\nDATA: y\n\n").empty());
}

TEST(sse_parser, events_without_data_are_not_dispatched) {
  sse_parser parser;
  auto events = parser.feed("event: ping\nid: 3\n\nevent: x\n\n");
  EXPECT_TRUE(events.empty());
  // ...but the id still took effect.
  EXPECT_EQ(parser.last_event_id(), "3");
  events = parser.feed("data: d\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "message"); // the dropped block's type is gone
  EXPECT_EQ(events[0].id, "3");
}

TEST(sse_parser, empty_event_type_means_message) {
  auto events = parse_all("event:\ndata: a\n\nevent: done\ndata: b\n\n"
                          "data: c\n\n");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "message");
  EXPECT_EQ(events[1].type, "done");
  EXPECT_EQ(events[2].type, "message"); // types do not persist
}

TEST(sse_parser, ids_persist_and_can_be_reset) {
  sse_parser parser;
  auto events = parser.feed("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].id, "1");
  EXPECT_EQ(events[1].id, "1");
  EXPECT_EQ(events[2].id, "");
  EXPECT_EQ(parser.last_event_id(), "");
}

TEST(sse_parser, id_with_nul_is_ignored) {
  constexpr char stream[] = "id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n";
  auto events = parse_all(std::string_view{stream, sizeof stream - 1});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].id, "1");
}

TEST(sse_parser, retry_needs_only_digits) {
  sse_parser parser;
  auto events = parser.feed("retry: 100\ndata: a\n\nretry: 1e3\ndata: b\n\n"
                            "retry: -5\nretry:\n"
                            "retry: 99999999999999999999999\n"
                            "data: c\n\n");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].retry, 100u);
  EXPECT_FALSE(events[1].retry);
  EXPECT_FALSE(events[2].retry);
  EXPECT_EQ(parser.retry(), 100u);
  // A retry in a block without data still sets the reconnection time.
  parser.feed("retry: 42\n\n");
  EXPECT_EQ(parser.retry(), 42u);
}

TEST(sse_parser, bom_only_at_the_very_start) {
  auto events = parse_all("\xEF\xBB\xBF" "data: a\n\n"
                          "\xEF\xBB\xBF" "data: b\n\n");
  // The second BOM is part of a field name, so that line is unknown.
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a");
  // Only one BOM is stripped.
  EXPECT_TRUE(parse_all("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\n").empty());
}

TEST(sse_parser, partial_bom_is_data) {
  // EF BB without BF: those bytes start a (non-UTF-8) field name.
  auto events = parse_all("\xEF\xBB" "data: a\n\ndata: b\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "b");
  sse_parser parser;
  EXPECT_TRUE(parser.feed("\xEF").empty());
  EXPECT_TRUE(parser.has_pending());
  EXPECT_TRUE(parser.feed("\xBB").empty());
  EXPECT_EQ(parser.feed("\xBF" "data: ok\n\n").size(), 1u);
}

TEST(sse_parser, invalid_utf8_becomes_replacement_characters) {
  auto events = parse_all("data: a\xFF" "b\xC3\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

TEST(sse_parser, utf8_split_across_feeds_is_kept) {
  sse_parser parser;
  parser.feed("data: \xE2");
  parser.feed("\x82");
  auto events = parser.feed("\xAC\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "\xE2\x82\xAC");
}

TEST(sse_parser, unterminated_event_at_end_is_pending_not_dispatched) {
  sse_parser parser;
  EXPECT_FALSE(parser.has_pending());
  EXPECT_TRUE(parser.feed("data: a\n").empty());
  EXPECT_TRUE(parser.has_pending());
  EXPECT_EQ(parser.feed("\n").size(), 1u);
  EXPECT_FALSE(parser.has_pending());
}

TEST(sse_parser, many_events_in_one_feed) {
  std::string stream;
  for (int i = 0; i < 1000; ++i)
    stream += "data: " + std::to_string(i) + "\n\n";
  auto events = parse_all(stream);
  ASSERT_EQ(events.size(), 1000u);
  EXPECT_EQ(events[999].data, "999");
}

// -- the size bound -----------------------------------------------------------

TEST(sse_parser, line_longer_than_the_bound_fails) {
  sse_parser parser{64};
  auto events = parser.feed("data: ok\n\n" + std::string(100, 'x'));
  // The event before the long line still came out.
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(parser.failed());
  EXPECT_NE(parser.error().find("64"), std::string::npos) << parser.error();
  // Failed for good.
  EXPECT_TRUE(parser.feed("\n\ndata: more\n\n").empty());
  EXPECT_TRUE(parser.failed());
}

TEST(sse_parser, unterminated_line_fed_in_pieces_fails_at_the_bound) {
  sse_parser parser{64};
  std::size_t fed = 0;
  while (!parser.failed() && fed < 1000) {
    parser.feed("data: xxxx");
    fed += 10;
  }
  EXPECT_TRUE(parser.failed());
  EXPECT_LE(fed, 70u);
}

TEST(sse_parser, event_of_many_short_lines_fails_at_the_bound) {
  sse_parser parser{64};
  std::size_t lines = 0;
  while (!parser.failed() && lines < 1000) {
    parser.feed("data: 0123456789\n");
    ++lines;
  }
  EXPECT_TRUE(parser.failed());
  EXPECT_LT(lines, 10u);
}

TEST(sse_parser, events_up_to_the_bound_pass) {
  // A bound limits one event, not the stream.
  sse_parser parser{64};
  std::size_t count = 0;
  for (int i = 0; i < 100; ++i)
    count += parser.feed("data: " + std::string(50, 'y') + "\n\n").size();
  EXPECT_FALSE(parser.failed()) << parser.error();
  EXPECT_EQ(count, 100u);
}

TEST(sse_parser, comments_count_toward_the_bound_only_per_line) {
  sse_parser parser{32};
  for (int i = 0; i < 100; ++i)
    parser.feed(": " + std::string(20, 'c') + "\n");
  EXPECT_FALSE(parser.failed());
  parser.feed(": " + std::string(40, 'c') + "\n");
  EXPECT_TRUE(parser.failed());
}

// -- to_valid_utf8 ------------------------------------------------------------

TEST(to_valid_utf8, keeps_valid_text) {
  std::string text =
    "plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  EXPECT_EQ(to_valid_utf8(text), text);
}

TEST(to_valid_utf8, replaces_maximal_subparts) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(to_valid_utf8("\x80"), r);
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), r + r);     // overlong lead
  EXPECT_EQ(to_valid_utf8("\xE0\x80\x80"), r + r + r); // overlong 3-byte
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), r + r + r); // surrogate
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), r + r + r + r); // > U+10FFFF
  EXPECT_EQ(to_valid_utf8("\xE2\x82" "a"), r + "a"); // truncated sequence
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98"), r);     // truncated at the end
  EXPECT_EQ(to_valid_utf8("\xE2\xE2\x82\xAC"), r + "\xE2\x82\xAC");
}
