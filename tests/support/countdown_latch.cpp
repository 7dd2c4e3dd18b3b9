#include "tests/support/countdown_latch.hpp"

namespace parley::test {

void countdown_latch::count_down() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (count_ > 0 && --count_ == 0)
    cv_.notify_all();
}

bool countdown_latch::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> guard{mtx_};
  return cv_.wait_for(guard, timeout, [this] { return count_ == 0; });
}

std::size_t countdown_latch::remaining() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return count_;
}

} // namespace parley::test
