#include "config/usable_cpus.hpp"

#include <gtest/gtest.h>

#include <sched.h>

#include <thread>

using parley::usable_cpus;

namespace {

/// Restores the calling thread's affinity mask when the test ends, passed
/// or not, so that later tests in the binary run on every CPU again.
class affinity_guard {
public:
  affinity_guard() {
    CPU_ZERO(&saved_);
    ok_ = sched_getaffinity(0, sizeof(saved_), &saved_) == 0;
  }
  ~affinity_guard() {
    if (ok_)
      sched_setaffinity(0, sizeof(saved_), &saved_);
  }
  bool ok() const { return ok_; }
  const cpu_set_t& saved() const { return saved_; }

private:
  cpu_set_t saved_;
  bool ok_ = false;
};

} // namespace

TEST(usable_cpus, counts_the_affinity_mask_not_the_machine) {
  affinity_guard guard;
  ASSERT_TRUE(guard.ok());
  auto all = usable_cpus();
  EXPECT_EQ(all, static_cast<std::size_t>(CPU_COUNT(&guard.saved())));
  EXPECT_LE(all, std::thread::hardware_concurrency());
  // Pinned to one of its CPUs (as `taskset -c N` does), the process may use
  // one.
  int first = 0;
  while (!CPU_ISSET(first, &guard.saved()))
    ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(usable_cpus(), 1u);
}
