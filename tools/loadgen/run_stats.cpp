#include "tools/loadgen/run_stats.hpp"

#include <algorithm>

namespace parley::loadgen {

const char* to_string(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::connect_failed:
      return "connect_failed";
    case error_kind::handshake_failed:
      return "handshake_failed";
    case error_kind::closed_early:
      return "closed_early";
    case error_kind::timeout:
      return "timeout";
    case error_kind::bad_frame:
      return "bad_frame";
  }
  return "unknown";
}

void run_stats::connection_failed(error_kind why) noexcept {
  error(why);
}

void run_stats::message_sent(bool warmup, clock::time_point when) noexcept {
  if (warmup) {
    ++warmup_sent_;
    return;
  }
  ++sent_;
  if (!first_sent_ || when < *first_sent_)
    first_sent_ = when;
}

void run_stats::answered(bool warmup, clock::duration latency,
                         std::uint32_t frames,
                         clock::time_point when) noexcept {
  if (!record_answer(warmup, latency, when))
    return;
  reply_frames_ += frames;
  ++frames_per_reply_[std::min<std::size_t>(frames, max_frames_counted)];
}

bool run_stats::record_answer(bool warmup, clock::duration latency,
                              clock::time_point when) noexcept {
  if (warmup) {
    ++warmup_answered_;
    return false;
  }
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(latency)
                  .count();
  latency_.record(micros < 0 ? 0 : static_cast<std::uint64_t>(micros));
  if (!last_answer_ || when > *last_answer_)
    last_answer_ = when;
  return true;
}

void run_stats::error(error_kind kind, std::uint64_t count) noexcept {
  errors_[static_cast<std::size_t>(kind)] += count;
}

void run_stats::error_frame(std::string_view code) {
  auto i = error_frames_.find(code);
  if (i == error_frames_.end())
    error_frames_.emplace(std::string{code}, 1);
  else
    ++i->second;
}

void run_stats::http_response(unsigned status, bool warmup,
                              clock::duration latency,
                              clock::time_point when) noexcept {
  ++http_statuses_[status];
  if (status >= 200 && status < 300)
    record_answer(warmup, latency, when);
  else
    ++http_non_2xx_;
}

void run_stats::merge(const run_stats& other) {
  connections_opened_ += other.connections_opened_;
  sessions_ += other.sessions_;
  frames_received_ += other.frames_received_;
  sent_ += other.sent_;
  warmup_sent_ += other.warmup_sent_;
  warmup_answered_ += other.warmup_answered_;
  latency_.merge(other.latency_);
  for (std::size_t i = 0; i < errors_.size(); ++i)
    errors_[i] += other.errors_[i];
  for (const auto& [code, n] : other.error_frames_)
    error_frames_[code] += n;
  reply_frames_ += other.reply_frames_;
  for (std::size_t i = 0; i < frames_per_reply_.size(); ++i)
    frames_per_reply_[i] += other.frames_per_reply_[i];
  for (const auto& [status, n] : other.http_statuses_)
    http_statuses_[status] += n;
  http_non_2xx_ += other.http_non_2xx_;
  if (other.first_sent_ && (!first_sent_ || *other.first_sent_ < *first_sent_))
    first_sent_ = other.first_sent_;
  if (other.last_answer_
      && (!last_answer_ || *other.last_answer_ > *last_answer_))
    last_answer_ = other.last_answer_;
}

std::uint64_t run_stats::total_errors() const noexcept {
  std::uint64_t total = http_non_2xx_;
  for (auto n : errors_)
    total += n;
  for (const auto& entry : error_frames_)
    total += entry.second;
  return total;
}

double run_stats::frames_per_reply() const noexcept {
  auto n = answered();
  return n == 0 ? 0.0
                : static_cast<double>(reply_frames_) / static_cast<double>(n);
}

std::uint32_t run_stats::min_frames_per_reply() const noexcept {
  for (std::size_t i = 0; i < frames_per_reply_.size(); ++i)
    if (frames_per_reply_[i] != 0)
      return static_cast<std::uint32_t>(i);
  return 0;
}

std::uint32_t run_stats::max_frames_per_reply() const noexcept {
  for (auto i = frames_per_reply_.size(); i-- > 0;)
    if (frames_per_reply_[i] != 0)
      return static_cast<std::uint32_t>(i);
  return 0;
}

std::uint64_t run_stats::http_responses() const noexcept {
  std::uint64_t total = 0;
  for (const auto& entry : http_statuses_)
    total += entry.second;
  return total;
}

std::optional<double> run_stats::measured_seconds() const noexcept {
  if (!first_sent_ || !last_answer_ || *last_answer_ < *first_sent_)
    return std::nullopt;
  return std::chrono::duration<double>(*last_answer_ - *first_sent_).count();
}

} // namespace parley::loadgen
