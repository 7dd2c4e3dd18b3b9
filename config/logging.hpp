#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "config/server_config.hpp"

namespace parley {

/// Configures every Parley logger: level, and text or JSON lines on stdout.
/// Call once at start-up, before any logger is used on other threads.
/// Throws config_error for an unknown level.
void setup_logging(const std::string& level, log_format format);

/// The named logger of a subsystem ("transport", "session", "storage",
/// "supervisor", "responder", "main"), created on first use with the
/// configured sink and level. Without setup_logging (unit tests), loggers
/// write to stderr at level "warn".
std::shared_ptr<spdlog::logger> logger(const std::string& name);

} // namespace parley
