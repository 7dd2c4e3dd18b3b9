#pragma once

#include "config/server_config.hpp"

namespace parley {

/// Runs Parley until SIGINT or SIGTERM, then shuts down in order: stop
/// accepting, drain sessions (in-flight answers finish and commit, sockets
/// get a close frame), stop the io threads, stop the long-lived actors
/// (the persistence actor commits what it holds), destroy the actor system.
/// Returns the process exit code.
int run_server(const server_config& config);

} // namespace parley
