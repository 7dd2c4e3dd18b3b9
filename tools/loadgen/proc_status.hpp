#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::loadgen {

/// The resident set size in KiB from the text of /proc/PID/status (its
/// `VmRSS:  12345 kB` line); nullopt when there is no such line.
std::optional<std::uint64_t> parse_vm_rss_kib(std::string_view status);

/// Reads /proc/`pid`/status; nullopt when the process does not exist (or
/// is a zombie, which has no VmRSS).
std::optional<std::uint64_t> read_vm_rss_kib(std::int64_t pid);

} // namespace parley::loadgen
