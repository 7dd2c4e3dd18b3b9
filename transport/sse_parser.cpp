#include "transport/sse_parser.hpp"

#include <limits>
#include <utility>

namespace parley::llm {

namespace {

constexpr std::string_view bom = "\xEF\xBB\xBF";
constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

/// The `retry` field's value if it is only ASCII digits and fits; the spec
/// ignores the field otherwise (it says nothing about overflow: ignored too).
std::optional<std::uint64_t> parse_retry(std::string_view value) {
  if (value.empty())
    return std::nullopt;
  std::uint64_t result = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (char c : value) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (result > (max - digit) / 10)
      return std::nullopt;
    result = result * 10 + digit;
  }
  return result;
}

} // namespace

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    auto lead = static_cast<unsigned char>(bytes[i]);
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    // Continuation bytes needed and the bounds of the first one: they rule
    // out overlong forms, surrogates and code points above U+10FFFF.
    std::size_t needed = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      needed = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      needed = 2;
      if (lead == 0xE0)
        lower = 0xA0;
      else if (lead == 0xED)
        upper = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      needed = 3;
      if (lead == 0xF0)
        lower = 0x90;
      else if (lead == 0xF4)
        upper = 0x8F;
    } else {
      out.append(replacement);
      ++i;
      continue;
    }
    std::size_t seen = 1;
    for (; seen <= needed && i + seen < bytes.size(); ++seen) {
      auto byte = static_cast<unsigned char>(bytes[i + seen]);
      if (byte < lower || byte > upper)
        break;
      lower = 0x80;
      upper = 0xBF;
    }
    if (seen > needed) {
      out.append(bytes.substr(i, needed + 1));
    } else {
      // The offending byte (if any) starts over as a new sequence.
      out.append(replacement);
    }
    i += seen;
  }
  return out;
}

sse_parser::sse_parser(std::size_t max_event_bytes)
  : max_event_bytes_(max_event_bytes) {
  // Nothing to do.
}

std::vector<sse_event> sse_parser::feed(std::string_view bytes) {
  std::vector<sse_event> out;
  if (failed_)
    return out;
  // The decoder strips one BOM at the very start of the stream; it may
  // arrive split over several feeds, so match it byte by byte.
  while (!bom_done_ && !bytes.empty()) {
    if (bytes.front() == bom[bom_matched_]) {
      bytes.remove_prefix(1);
      if (++bom_matched_ == bom.size())
        bom_done_ = true;
    } else {
      // Not a BOM after all: the bytes held back were data.
      bom_done_ = true;
      consume(bom.substr(0, bom_matched_), out);
    }
  }
  if (bom_done_)
    consume(bytes, out);
  return out;
}

bool sse_parser::has_pending() const noexcept {
  return !line_.empty() || !data_.empty() || (!bom_done_ && bom_matched_ > 0);
}

void sse_parser::consume(std::string_view bytes, std::vector<sse_event>& out) {
  std::size_t pos = 0;
  while (pos < bytes.size() && !failed_) {
    if (skip_lf_) {
      // The LF of a CRLF whose CR ended the previous piece.
      skip_lf_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    auto end = bytes.find_first_of("\r\n", pos);
    auto piece = bytes.substr(pos, end == std::string_view::npos
                                     ? std::string_view::npos
                                     : end - pos);
    // The data buffer is counted too: one event's memory is what we bound.
    if (line_.size() + piece.size() + data_.size() > max_event_bytes_) {
      fail("an event stream line or event exceeds "
           + std::to_string(max_event_bytes_) + " bytes");
      return;
    }
    line_.append(piece);
    if (end == std::string_view::npos)
      return;
    skip_lf_ = bytes[end] == '\r';
    pos = end + 1;
    process_line(out);
    line_.clear();
  }
}

void sse_parser::process_line(std::vector<sse_event>& out) {
  if (line_.empty()) {
    dispatch(out);
    return;
  }
  if (line_.front() == ':')
    return; // a comment (servers send them as keep-alives)
  // Lines are complete here, so a UTF-8 sequence cut by a feed boundary has
  // been joined again; only truly invalid bytes get replaced.
  auto line = to_valid_utf8(line_);
  std::string_view field = line;
  std::string_view value;
  if (auto colon = field.find(':'); colon != std::string_view::npos) {
    value = field.substr(colon + 1);
    field = field.substr(0, colon);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1); // only one space, by the spec
  }
  if (field == "event") {
    event_type_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      id_buffer_.assign(value);
  } else if (field == "retry") {
    if (auto ms = parse_retry(value)) {
      event_retry_ = ms;
      retry_ = ms;
    }
  }
  // Any other field is ignored.
}

void sse_parser::dispatch(std::vector<sse_event>& out) {
  last_event_id_ = id_buffer_;
  if (data_.empty()) {
    // A block without data is not an event (it may still have set an id or
    // a retry time).
    event_type_.clear();
    event_retry_.reset();
    return;
  }
  data_.pop_back(); // the '\n' after the last data line
  sse_event event;
  if (!event_type_.empty())
    event.type = std::move(event_type_);
  event.data = std::move(data_);
  event.id = last_event_id_;
  event.retry = event_retry_;
  out.push_back(std::move(event));
  data_.clear();
  event_type_.clear();
  event_retry_.reset();
}

void sse_parser::fail(std::string reason) {
  failed_ = true;
  error_ = std::move(reason);
  // Give the memory back now; nothing buffered can be used any more.
  std::string{}.swap(line_);
  std::string{}.swap(data_);
  std::string{}.swap(event_type_);
}

} // namespace parley::llm
