#include "actors/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace parley {

namespace {

constexpr auto prune_interval = std::chrono::seconds{1};

} // namespace

token_bucket::token_bucket(double rate, double burst,
                           clock_type::time_point now)
  : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {
}

void token_bucket::refill(clock_type::time_point now) {
  if (now <= last_)
    return; // a clock that stands still (or a caller's older time)
  std::chrono::duration<double> elapsed = now - last_;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  last_ = now;
}

bool token_bucket::try_take(clock_type::time_point now) {
  refill(now);
  if (tokens_ < 1.0)
    return false;
  tokens_ -= 1.0;
  return true;
}

token_bucket::clock_type::duration
token_bucket::wait_time(clock_type::time_point now) {
  refill(now);
  if (tokens_ >= 1.0)
    return clock_type::duration::zero();
  if (rate_ <= 0)
    return clock_type::duration::max();
  std::chrono::duration<double> wait{(1.0 - tokens_) / rate_};
  return std::chrono::ceil<clock_type::duration>(wait);
}

bool token_bucket::full(clock_type::time_point now) {
  refill(now);
  return tokens_ >= burst_;
}

keyed_buckets::keyed_buckets(double rate, double burst, std::size_t max_keys)
  : rate_(rate),
    burst_(burst),
    max_keys_(std::max<std::size_t>(max_keys, 1)),
    overflow_(rate, burst, clock_type::time_point{}) {
}

token_bucket& keyed_buckets::bucket(const std::string& key,
                                    clock_type::time_point now) {
  if (auto it = buckets_.find(key); it != buckets_.end())
    return it->second;
  if (buckets_.size() >= max_keys_ && now - last_prune_ >= prune_interval) {
    last_prune_ = now;
    // Full buckets hold no information: a new one would be the same.
    for (auto it = buckets_.begin(); it != buckets_.end();)
      it = it->second.full(now) ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() >= max_keys_)
    return overflow_;
  return buckets_.emplace(key, token_bucket{rate_, burst_, now})
    .first->second;
}

bool keyed_buckets::try_take(const std::string& key,
                             clock_type::time_point now) {
  return bucket(key, now).try_take(now);
}

keyed_buckets::clock_type::duration
keyed_buckets::wait_time(const std::string& key, clock_type::time_point now) {
  return bucket(key, now).wait_time(now);
}

} // namespace parley
