#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace parley {

/// A token bucket: `burst` tokens at most, refilled at `rate` per second.
/// Pure (the caller passes the time), so rate limits are tested without
/// clocks or sleeps.
class token_bucket {
public:
  using clock_type = std::chrono::steady_clock;

  token_bucket(double rate, double burst, clock_type::time_point now);

  /// Takes one token if there is one.
  bool try_take(clock_type::time_point now);

  /// How long until a token is there (zero if one is now); what a 429
  /// says in Retry-After.
  clock_type::duration wait_time(clock_type::time_point now);

  /// The bucket is full again: forgetting it changes nothing.
  bool full(clock_type::time_point now);

private:
  void refill(clock_type::time_point now);

  double rate_;
  double burst_;
  double tokens_;
  clock_type::time_point last_;
};

/// One bucket per key (a client address), at most `max_keys` of them: when
/// full, buckets that have refilled completely are forgotten, and if none
/// has, new keys share one overflow bucket, so a flood of addresses cannot
/// grow memory without bound. The search for full buckets runs at most once
/// a second, so such a flood costs no more than one scan a second either.
/// Not thread-safe.
class keyed_buckets {
public:
  using clock_type = token_bucket::clock_type;

  keyed_buckets(double rate, double burst, std::size_t max_keys);

  bool try_take(const std::string& key, clock_type::time_point now);

  clock_type::duration wait_time(const std::string& key,
                                 clock_type::time_point now);

  std::size_t size() const noexcept {
    return buckets_.size();
  }

private:
  token_bucket& bucket(const std::string& key, clock_type::time_point now);

  double rate_;
  double burst_;
  std::size_t max_keys_;
  std::unordered_map<std::string, token_bucket> buckets_;
  token_bucket overflow_;
  clock_type::time_point last_prune_{};
};

} // namespace parley
