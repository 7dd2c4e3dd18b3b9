#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace parley::test {

/// std::latch for C++17 with a bounded wait: worker threads count down
/// when they reached a milestone, the test thread waits for all of them.
class countdown_latch {
public:
  explicit countdown_latch(std::size_t count) : count_(count) {
    // nop
  }

  countdown_latch(const countdown_latch&) = delete;
  countdown_latch& operator=(const countdown_latch&) = delete;

  void count_down();

  /// True when the count reached zero within `timeout`.
  bool wait_for(std::chrono::milliseconds timeout);

  std::size_t remaining() const;

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::size_t count_;
};

} // namespace parley::test
