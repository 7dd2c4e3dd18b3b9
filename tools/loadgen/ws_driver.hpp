#pragma once

#include "tools/loadgen/net_setup.hpp"
#include "tools/loadgen/options.hpp"
#include "tools/loadgen/report.hpp"

namespace parley::loadgen {

/// Runs --mode ws or --mode idle (README.md) with opts.threads client
/// threads and returns what they measured, merged. The WebSocket client
/// (Beast) stays in ws_driver.cpp: its templates are slow to compile.
run_summary run_websocket(const options& opts, const net_setup& setup);

} // namespace parley::loadgen
