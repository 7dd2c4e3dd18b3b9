#pragma once

#include "tools/loadgen/net_setup.hpp"
#include "tools/loadgen/options.hpp"
#include "tools/loadgen/report.hpp"

namespace parley::loadgen {

/// Runs --mode http (README.md): opts.concurrency keep-alive connections
/// posting to /api/chat/send for opts.duration_s, over opts.threads client
/// threads. Beast's HTTP client stays in http_driver.cpp.
run_summary run_http(const options& opts, const net_setup& setup);

} // namespace parley::loadgen
