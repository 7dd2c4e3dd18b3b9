#include "actors/circuit_breaker.hpp"

#include <algorithm>
#include <limits>

namespace parley {

std::string to_string(breaker_state x) {
  switch (x) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
  }
  return "???";
}

circuit_breaker::circuit_breaker(std::uint32_t failure_threshold,
                                 duration open_duration)
  : threshold_(std::max<std::uint32_t>(failure_threshold, 1)),
    open_duration_(std::max(open_duration, duration::zero())) {
  // nop
}

bool circuit_breaker::allow_request(time_point now) {
  switch (state_) {
    case breaker_state::closed:
      return true;
    case breaker_state::open:
      if (!open_time_over(now))
        return false;
      state_ = breaker_state::half_open;
      return true; // the probe
    case breaker_state::half_open:
      return false; // the probe is still out
  }
  return false;
}

void circuit_breaker::record_success(time_point) {
  switch (state_) {
    case breaker_state::closed:
    case breaker_state::half_open:
      state_ = breaker_state::closed;
      failures_ = 0;
      break;
    case breaker_state::open:
      break;
  }
}

void circuit_breaker::record_failure(time_point now) {
  if (failures_ < std::numeric_limits<std::uint32_t>::max())
    ++failures_;
  switch (state_) {
    case breaker_state::closed:
      if (failures_ >= threshold_)
        open(now);
      break;
    case breaker_state::half_open:
      open(now);
      break;
    case breaker_state::open:
      break;
  }
}

breaker_state circuit_breaker::state(time_point now) const noexcept {
  if (state_ == breaker_state::open && open_time_over(now))
    return breaker_state::half_open;
  return state_;
}

void circuit_breaker::open(time_point now) noexcept {
  state_ = breaker_state::open;
  opened_at_ = now;
  ++times_opened_;
}

} // namespace parley
