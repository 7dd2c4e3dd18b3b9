#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace parley {

enum class breaker_state {
  /// Requests flow; consecutive failures are counted.
  closed,
  /// Requests are refused until open_duration has passed.
  open,
  /// One probe request decides: success closes, failure reopens.
  half_open,
};

/// "closed", "open" or "half_open", for the health endpoint and logs.
std::string to_string(breaker_state x);

/// Stops calling a backend that keeps failing, then probes it.
///
/// failure_threshold consecutive failures open the breaker. While open it
/// refuses requests; once open_duration has passed since it opened, the next
/// allow_request() moves it to half_open and lets exactly one probe through.
/// Further requests are refused while the probe is outstanding; its success
/// closes the breaker, its failure reopens it with a fresh open time.
///
/// Every request that allow_request() let through must end in
/// record_success() or record_failure(), a timeout counting as a failure:
/// a probe that never reports keeps the breaker half_open for good.
///
/// Pure: the caller passes the time in, so tests need no sleeps.
class circuit_breaker {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  /// A failure_threshold of 0 counts as 1.
  circuit_breaker(std::uint32_t failure_threshold, duration open_duration);

  /// Whether to make a request now. Moves open to half_open once
  /// open_duration has passed, and hands out the single probe.
  bool allow_request(time_point now);

  /// Closed: resets the failure count. Half_open: the probe worked, closes.
  /// Open: a late answer to a request made before the breaker opened; it
  /// says little about the backend now, so the breaker stays open.
  void record_success(time_point now);

  /// Closed: counts, and opens at failure_threshold. Half_open: the probe
  /// failed, reopens from `now`. Open: a late failure is counted but does
  /// not push the reopening back.
  void record_failure(time_point now);

  /// The state as seen from outside at `now`: half_open once open_duration
  /// has passed, even before allow_request() takes the probe, because the
  /// next request will be let through. Does not change anything.
  breaker_state state(time_point now) const noexcept;

  /// Failures since the last success (or since construction).
  std::uint32_t consecutive_failures() const noexcept {
    return failures_;
  }

  /// When it last opened; meaningless while times_opened() is 0.
  time_point opened_at() const noexcept {
    return opened_at_;
  }

  /// How often it went from closed or half_open to open.
  std::uint64_t times_opened() const noexcept {
    return times_opened_;
  }

  std::uint32_t failure_threshold() const noexcept {
    return threshold_;
  }

  duration open_duration() const noexcept {
    return open_duration_;
  }

private:
  void open(time_point now) noexcept;

  bool open_time_over(time_point now) const noexcept {
    return now - opened_at_ >= open_duration_;
  }

  std::uint32_t threshold_;
  duration open_duration_;
  // half_open only while the probe is outstanding: allow_request() takes
  // the probe in the same step that enters the state.
  breaker_state state_ = breaker_state::closed;
  std::uint32_t failures_ = 0;
  time_point opened_at_{};
  std::uint64_t times_opened_ = 0;
};

} // namespace parley
