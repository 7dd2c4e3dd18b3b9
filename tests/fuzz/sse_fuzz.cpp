#include <algorithm>
#include <vector>

#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"
#include "transport/sse_parser.hpp"

namespace parley::fuzz {

namespace {

using llm::sse_event;
using llm::sse_parser;

/// Everything a parser said about one stream.
struct transcript {
  std::vector<sse_event> events;
  bool failed = false;
  std::string last_event_id;
  std::optional<std::uint64_t> retry;
  bool pending = false;
};

bool same(const transcript& a, const transcript& b) {
  auto same_event = [](const sse_event& x, const sse_event& y) {
    return x.type == y.type && x.data == y.data && x.id == y.id
           && x.retry == y.retry;
  };
  return std::equal(a.events.begin(), a.events.end(), b.events.begin(),
                    b.events.end(), same_event)
         && a.failed == b.failed && a.last_event_id == b.last_event_id
         && a.retry == b.retry && a.pending == b.pending;
}

/// Feeds `stream` in pieces that end at `cuts` (ascending offsets).
transcript run(std::string_view stream, const std::vector<std::size_t>& cuts,
               std::size_t max_event_bytes) {
  sse_parser parser{max_event_bytes};
  transcript t;
  std::size_t from = 0;
  auto feed = [&](std::size_t to) {
    auto events = parser.feed(stream.substr(from, to - from));
    if (parser.failed())
      FUZZ_CHECK(!parser.error().empty());
    t.events.insert(t.events.end(), events.begin(), events.end());
    from = to;
  };
  for (auto cut : cuts)
    feed(cut);
  feed(stream.size());
  t.failed = parser.failed();
  t.last_event_id = parser.last_event_id();
  t.retry = parser.retry();
  t.pending = parser.has_pending();
  return t;
}

void check_stream(std::string_view stream, std::size_t max_event_bytes) {
  auto whole = run(stream, {}, max_event_bytes);
  for (const auto& event : whole.events) {
    // Lines are decoded as UTF-8 with replacement, as the spec says.
    FUZZ_CHECK(is_valid_utf8(event.data));
    FUZZ_CHECK(is_valid_utf8(event.type));
    FUZZ_CHECK(is_valid_utf8(event.id));
    FUZZ_CHECK(!event.type.empty());
    FUZZ_CHECK(event.data.size() <= max_event_bytes * 3);
  }
  // Where the network cuts the stream does not matter: byte by byte...
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i)
    cuts.push_back(i);
  FUZZ_CHECK(same(run(stream, cuts, max_event_bytes), whole));
  // ...or in pieces of any size.
  cuts.clear();
  lcg random{hash_of(stream)};
  for (std::size_t at = random.below(8); at < stream.size();
       at += 1 + random.below(24))
    cuts.push_back(at);
  FUZZ_CHECK(same(run(stream, cuts, max_event_bytes), whole));
}

} // namespace

int fuzz_sse(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  check_stream(input, sse_parser::default_max_event_bytes);
  check_stream(input, 64); // small enough to fail on long lines and events

  auto valid = llm::to_valid_utf8(input);
  FUZZ_CHECK(is_valid_utf8(valid));
  FUZZ_CHECK(llm::to_valid_utf8(valid) == valid);
  if (is_valid_utf8(input))
    FUZZ_CHECK(valid == input);
  return 0;
}

} // namespace parley::fuzz
