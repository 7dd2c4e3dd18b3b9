#include "config/usable_cpus.hpp"

#include <sched.h>

#include <thread>

namespace parley {

std::size_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    if (auto n = CPU_COUNT(&set); n > 0)
      return static_cast<std::size_t>(n);
  }
  auto n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

} // namespace parley
