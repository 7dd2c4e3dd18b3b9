#include "actors/backoff_policy.hpp"

#include <algorithm>
#include <limits>

namespace parley {

namespace {

double clamp_jitter(double jitter) {
  // Written so that NaN fails the first test and becomes 0.
  if (!(jitter > 0.0))
    return 0.0;
  return std::min(jitter, 1.0);
}

} // namespace

backoff_policy::backoff_policy(duration base, duration cap,
                               std::uint32_t max_attempts, double jitter,
                               std::uint64_t seed)
  : base_(std::max(base, duration::zero())),
    cap_(std::max(cap, duration::zero())),
    max_attempts_(max_attempts),
    jitter_(clamp_jitter(jitter)),
    engine_(seed) {
  base_ = std::min(base_, cap_);
}

backoff_policy::duration
backoff_policy::nominal_delay(std::uint32_t attempt) const noexcept {
  // Doubling reaches cap after at most 63 steps (or never leaves zero), so
  // the loop is short even for a huge attempt number.
  auto delay = base_;
  for (std::uint32_t i = 1; i < attempt && delay < cap_; ++i) {
    if (delay == duration::zero())
      break;
    // delay <= cap_, so cap_ - delay cannot overflow; 2 * delay might.
    delay = delay > cap_ - delay ? cap_ : delay * 2;
  }
  return delay;
}

std::optional<backoff_policy::duration> backoff_policy::next_delay() {
  if (exhausted())
    return std::nullopt;
  // Saturates rather than wrapping back to base when unlimited.
  if (attempts_ < std::numeric_limits<std::uint32_t>::max())
    ++attempts_;
  auto nominal = nominal_delay(attempts_);
  if (jitter_ == 0.0 || nominal == duration::zero())
    return nominal;
  // The largest amount jitter may take away. Near INT64_MAX the product
  // rounds to 2^63, which does not fit: compare in double before casting.
  auto count = nominal.count();
  auto spread_d = jitter_ * static_cast<double>(count);
  auto spread = spread_d >= static_cast<double>(count)
                  ? count
                  : static_cast<duration::rep>(spread_d);
  std::uniform_int_distribution<duration::rep> take{0, spread};
  return nominal - duration{take(engine_)};
}

} // namespace parley
