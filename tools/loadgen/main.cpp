// parley-loadgen: drives a Parley server with chat traffic over WebSocket
// or REST and reports throughput, latency percentiles and errors
// (README.md).

#include <csignal>
#include <iostream>

#include "tools/loadgen/http_driver.hpp"
#include "tools/loadgen/net_setup.hpp"
#include "tools/loadgen/options.hpp"
#include "tools/loadgen/report.hpp"
#include "tools/loadgen/ws_driver.hpp"

int main(int argc, char** argv) {
  using namespace parley::loadgen;
  // A write to a connection the server closed must fail with EPIPE, not
  // end the run.
  std::signal(SIGPIPE, SIG_IGN);
  auto parsed = parse_options(argc, argv);
  if (!parsed.opts) {
    (parsed.exit_code == 0 ? std::cout : std::cerr)
      << parsed.message << std::endl;
    return parsed.exit_code;
  }
  const auto& opts = *parsed.opts;
  try {
    auto fd_limit = net_setup::raise_fd_limit();
    // Each connection is a socket; a few more for the rest.
    if (fd_limit != 0 && opts.total_connections() + 16 > fd_limit)
      std::cerr << "parley-loadgen: warning: " << opts.total_connections()
                << " connections but only " << fd_limit
                << " open files allowed (ulimit -n)" << std::endl;
    net_setup setup{opts};
    auto summary = opts.mode == run_mode::http ? run_http(opts, setup)
                                               : run_websocket(opts, setup);
    if (opts.json)
      std::cout << report_json(summary, opts).dump() << std::endl;
    else
      std::cout << report_text(summary, opts) << std::flush;
    // Exit status 1 when nothing was answered: scripts notice a dead run.
    return summary.stats.answered() == 0 ? 1 : 0;
  } catch (const std::exception& ex) {
    std::cerr << "parley-loadgen: " << ex.what() << std::endl;
    return 1;
  }
}
