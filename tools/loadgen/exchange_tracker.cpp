#include "tools/loadgen/exchange_tracker.hpp"

#include <charconv>

namespace parley::loadgen {

exchange_tracker::exchange_tracker(std::size_t capacity, expect_mode expect)
  : slots_(capacity == 0 ? 1 : capacity), expect_(expect) {
  // nop
}

bool exchange_tracker::sent(std::uint64_t number, clock::time_point when,
                            bool warmup) {
  for (auto& s : slots_) {
    if (!s.used) {
      s = slot{};
      s.used = true;
      s.warmup = warmup;
      s.number = number;
      s.sent = when;
      ++outstanding_;
      return true;
    }
  }
  return false;
}

exchange_tracker::slot*
exchange_tracker::by_client_id(std::string_view id) noexcept {
  std::uint64_t number = 0;
  auto end = id.data() + id.size();
  auto [ptr, ec] = std::from_chars(id.data(), end, number);
  if (id.empty() || ec != std::errc{} || ptr != end)
    return nullptr;
  for (auto& s : slots_)
    if (s.used && s.number == number)
      return &s;
  return nullptr;
}

exchange_tracker::slot*
exchange_tracker::by_message_id(std::optional<std::int64_t> id) noexcept {
  if (!id || *id <= 0)
    return nullptr;
  for (auto& s : slots_)
    if (s.used && s.message_id == *id)
      return &s;
  return nullptr;
}

void exchange_tracker::release(slot& s) noexcept {
  s.used = false;
  --outstanding_;
}

exchange_tracker::outcome
exchange_tracker::answer(slot& s, clock::time_point now) noexcept {
  outcome result;
  result.what = event::answer;
  result.warmup = s.warmup;
  result.latency = now - s.sent;
  result.frames = s.frames + 1;
  release(s);
  return result;
}

exchange_tracker::outcome
exchange_tracker::on_frame(const server_frame& frame, clock::time_point now) {
  outcome result;
  const auto& type = frame.type;
  if (expect_ == expect_mode::echo) {
    // Our own frame, back: its id names the message.
    if (type != "message")
      result.what = event::other;
    else if (auto* s = by_client_id(frame.id))
      result = answer(*s, now);
    else
      result.what = event::unmatched;
    return result;
  }
  if (type == "session") {
    result.what = event::session;
  } else if (type == "ack") {
    auto* s = by_client_id(frame.id);
    if (s == nullptr || !frame.message_id || *frame.message_id <= 0) {
      result.what = event::unmatched;
    } else {
      s->message_id = *frame.message_id;
      ++s->frames;
      result.what = event::ack;
    }
  } else if (type == "typing" || type == "delta") {
    auto* s = by_message_id(frame.reply_to);
    if (s == nullptr) {
      result.what = event::unmatched;
    } else {
      ++s->frames;
      result.what = event::progress;
    }
  } else if (type == "message") {
    auto* s = by_message_id(frame.reply_to);
    if (s == nullptr) {
      // A human agent's message or a notice answers nothing of ours.
      result.what = frame.reply_to ? event::unmatched : event::other;
    } else {
      result = answer(*s, now);
    }
  } else if (type == "error") {
    result.code = frame.code;
    if (frame.client_id.empty()) {
      result.what = event::connection_error;
    } else if (auto* s = by_client_id(frame.client_id)) {
      result.what = event::refused;
      result.warmup = s->warmup;
      release(*s);
    } else {
      result.what = event::unmatched;
    }
  }
  return result;
}

std::optional<exchange_tracker::clock::time_point>
exchange_tracker::oldest() const noexcept {
  std::optional<clock::time_point> result;
  for (const auto& s : slots_)
    if (s.used && (!result || s.sent < *result))
      result = s.sent;
  return result;
}

std::size_t exchange_tracker::abandon() noexcept {
  std::size_t measured = 0;
  for (auto& s : slots_) {
    if (s.used && !s.warmup)
      ++measured;
    s.used = false;
  }
  outstanding_ = 0;
  return measured;
}

} // namespace parley::loadgen
