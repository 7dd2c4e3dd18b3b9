#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/loadgen/options.hpp"
#include "tools/loadgen/run_stats.hpp"

namespace parley::loadgen {

/// The outcome of a run: the workers' statistics merged, the time it took
/// and, with --server-pid, the server's memory.
struct run_summary {
  run_stats stats;
  double wall_seconds = 0; // first connect to the last connection's end
  // VmRSS: in idle mode before the first connection and once every session
  // is open; otherwise before and after the run.
  std::optional<std::uint64_t> rss_before_kib;
  std::optional<std::uint64_t> rss_after_kib;
};

/// Answers (2xx responses in http mode) per second of the measured phase
/// (first measured send to last measured answer); 0 without answers.
double throughput(const run_summary& summary);

/// The report as JSON (the fields are listed in tools/loadgen/README.md),
/// its members in the order of the table.
nlohmann::ordered_json report_json(const run_summary& summary,
                                   const options& opts);

/// The report as a plain text table for people.
std::string report_text(const run_summary& summary, const options& opts);

} // namespace parley::loadgen
