#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tools/loadgen/latency_histogram.hpp"

namespace parley::loadgen {

/// The ways a connection or a message can fail, besides an error frame
/// (counted by its `code`) and an HTTP status.
enum class error_kind {
  connect_failed,   // TCP connect refused or timed out
  handshake_failed, // the WebSocket upgrade was refused or timed out
  closed_early,     // the connection ended before its work was done
  timeout,          // no answer (or greeting) within --timeout-ms
  bad_frame,        // a frame or response that could not be read, or that
                    // names a message this connection does not wait for
};

inline constexpr std::size_t error_kind_count = 5;

const char* to_string(error_kind kind) noexcept;

/// Everything one worker thread counts, recorded without locks and merged
/// into one at the end. Warm-up messages are counted apart and left out of
/// latency, frames per reply and throughput. Pure.
class run_stats {
public:
  using clock = std::chrono::steady_clock;

  /// Frames per reply: exact counts up to this, the rest in the last slot.
  static constexpr std::size_t max_frames_counted = 64;

  void connection_opened() noexcept {
    ++connections_opened_;
  }

  /// A connection that never opened: connect_failed or handshake_failed.
  void connection_failed(error_kind why) noexcept;

  void session_started() noexcept {
    ++sessions_;
  }

  void frame_received() noexcept {
    ++frames_received_;
  }

  void message_sent(bool warmup, clock::time_point when) noexcept;

  /// An answered message: its latency, and how many frames concerned it
  /// (ack, typing, deltas and the final message).
  void answered(bool warmup, clock::duration latency, std::uint32_t frames,
                clock::time_point when) noexcept;

  void error(error_kind kind, std::uint64_t count = 1) noexcept;

  /// An `error` frame, by its code ("" when it had none).
  void error_frame(std::string_view code);

  /// An HTTP response: its status; 2xx count as answers (latency recorded).
  void http_response(unsigned status, bool warmup, clock::duration latency,
                     clock::time_point when) noexcept;

  void merge(const run_stats& other);

  // -- reading ----------------------------------------------------------------

  std::uint64_t connections_opened() const noexcept {
    return connections_opened_;
  }

  std::uint64_t connections_failed() const noexcept {
    return errors_[static_cast<std::size_t>(error_kind::connect_failed)]
           + errors_[static_cast<std::size_t>(error_kind::handshake_failed)];
  }

  std::uint64_t sessions() const noexcept {
    return sessions_;
  }

  std::uint64_t frames_received() const noexcept {
    return frames_received_;
  }

  std::uint64_t sent() const noexcept {
    return sent_;
  }

  std::uint64_t warmup_sent() const noexcept {
    return warmup_sent_;
  }

  /// Measured answers (warm-up left out).
  std::uint64_t answered() const noexcept {
    return latency_.count();
  }

  std::uint64_t warmup_answered() const noexcept {
    return warmup_answered_;
  }

  const latency_histogram& latency() const noexcept {
    return latency_;
  }

  std::uint64_t errors(error_kind kind) const noexcept {
    return errors_[static_cast<std::size_t>(kind)];
  }

  /// Error frames by code.
  const std::map<std::string, std::uint64_t, std::less<>>&
  error_frames() const noexcept {
    return error_frames_;
  }

  /// Every error: the kinds, the error frames and the HTTP responses that
  /// were not 2xx.
  std::uint64_t total_errors() const noexcept;

  /// Frames per measured reply.
  std::uint64_t reply_frames() const noexcept {
    return reply_frames_;
  }

  double frames_per_reply() const noexcept;

  /// Fewest and most frames of a measured reply (0 when none; the most is
  /// capped at max_frames_counted).
  std::uint32_t min_frames_per_reply() const noexcept;
  std::uint32_t max_frames_per_reply() const noexcept;

  /// HTTP responses by status (measured and warm-up).
  const std::map<unsigned, std::uint64_t>& http_statuses() const noexcept {
    return http_statuses_;
  }

  std::uint64_t http_responses() const noexcept;

  /// The measured phase: the first measured send to the last measured
  /// answer; nullopt when nothing was answered.
  std::optional<double> measured_seconds() const noexcept;

private:
  /// Counts an answer; false for a warm-up one (not measured).
  bool record_answer(bool warmup, clock::duration latency,
                     clock::time_point when) noexcept;

  std::uint64_t connections_opened_ = 0;
  std::uint64_t sessions_ = 0;
  std::uint64_t frames_received_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t warmup_sent_ = 0;
  std::uint64_t warmup_answered_ = 0;
  latency_histogram latency_; // microseconds
  std::array<std::uint64_t, error_kind_count> errors_{};
  std::map<std::string, std::uint64_t, std::less<>> error_frames_;
  std::uint64_t reply_frames_ = 0;
  std::array<std::uint64_t, max_frames_counted + 1> frames_per_reply_{};
  // A map: a handful of statuses, each counted in a node made once.
  std::map<unsigned, std::uint64_t> http_statuses_;
  std::uint64_t http_non_2xx_ = 0;
  std::optional<clock::time_point> first_sent_;
  std::optional<clock::time_point> last_answer_;
};

} // namespace parley::loadgen
