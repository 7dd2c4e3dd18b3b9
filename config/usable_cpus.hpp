#pragma once

#include <cstddef>

namespace parley {

/// The number of CPUs this process may run on: its affinity mask (taskset,
/// a container's cpuset), not the machine's count, so that a server pinned
/// to one core does not run two actor threads that take turns on it.
/// At least 1.
std::size_t usable_cpus();

} // namespace parley
