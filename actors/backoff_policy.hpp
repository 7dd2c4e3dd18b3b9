#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace parley {

/// Settings for a backoff_policy; the defaults are the issue's "0.5 s
/// doubling to 30 s", with equal jitter and no limit on attempts.
struct backoff_settings {
  std::chrono::nanoseconds base = std::chrono::milliseconds{500};
  std::chrono::nanoseconds cap = std::chrono::seconds{30};
  /// Delays handed out before giving up; 0 means never give up.
  std::uint32_t max_attempts = 0;
  /// Fraction of the nominal delay that jitter may take away, in [0, 1].
  double jitter = 0.5;
};

/// Delays between retries: exponential backoff with jitter, in the shape of
/// AWS's "Exponential Backoff And Jitter" schemes.
///
/// The nominal delay of attempt n (counting from 1) is base * 2^(n-1),
/// clamped to cap; it is computed by saturating doubling, so it never
/// overflows however many attempts there are. Jitter only ever shortens it:
/// the delay is drawn uniformly from [nominal * (1 - jitter), nominal].
/// jitter = 1 is AWS's "full jitter", jitter = 0.5 (the default) its "equal
/// jitter", jitter = 0 plain doubling. Jittering downwards keeps cap a hard
/// upper bound; keeping a floor (half the nominal delay by default) stops a
/// crash loop from restarting right away, while the spread keeps many
/// failing peers from retrying in lockstep.
///
/// Pure: no clocks, and the random engine is seeded by the caller, so a
/// fixed seed gives a fixed sequence.
class backoff_policy {
public:
  /// Same representation as caf::timespan, so delays go straight into
  /// delayed_send.
  using duration = std::chrono::nanoseconds;

  /// Negative durations count as zero; a base above cap starts at cap.
  /// jitter is clamped to [0, 1] (NaN counts as 0). Seed each instance
  /// differently in production (e.g. from std::random_device), otherwise
  /// the instances jitter alike and the spread is lost.
  backoff_policy(duration base, duration cap, std::uint32_t max_attempts,
                 double jitter, std::uint64_t seed);

  backoff_policy(const backoff_settings& settings, std::uint64_t seed)
    : backoff_policy(settings.base, settings.cap, settings.max_attempts,
                     settings.jitter, seed) {
    // nop
  }

  /// The delay before the next attempt (and counts that attempt), or
  /// nothing once max_attempts delays have been handed out.
  std::optional<duration> next_delay();

  /// Starts over from base after a success.
  void reset() noexcept {
    attempts_ = 0;
  }

  /// The un-jittered delay of attempt n (counting from 1; 0 counts as 1).
  duration nominal_delay(std::uint32_t attempt) const noexcept;

  /// Delays handed out since construction or the last reset().
  std::uint32_t attempts() const noexcept {
    return attempts_;
  }

  /// True when next_delay() would return nothing.
  bool exhausted() const noexcept {
    return max_attempts_ != 0 && attempts_ >= max_attempts_;
  }

  duration base() const noexcept {
    return base_;
  }

  duration cap() const noexcept {
    return cap_;
  }

  std::uint32_t max_attempts() const noexcept {
    return max_attempts_;
  }

  double jitter() const noexcept {
    return jitter_;
  }

private:
  duration base_;
  duration cap_;
  std::uint32_t max_attempts_;
  double jitter_;
  std::uint32_t attempts_ = 0;
  std::mt19937_64 engine_;
};

} // namespace parley
