#pragma once

#include <chrono>
#include <memory>

#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"
#include "actors/timed_request.hpp"
#include "agent/tool_catalog.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace parley {

struct tool_settings {
  /// The longest one tool call may take before it answers with a timeout
  /// error.
  caf::timespan call_timeout = std::chrono::seconds{5};
};

struct tool_state {
  static inline const char* name = "tools";

  tool_settings settings;
  std::shared_ptr<const service_directory> directory;
  agent::tool_catalog catalog;
  std::shared_ptr<spdlog::logger> log;
  request_deadlines deadlines; // of its requests (timed_request.hpp)
};

/// Runs the support agent's tools (get_order, knowledge_search). Arguments
/// are checked against each tool's JSON Schema first; a bad call, a timeout
/// or an unavailable database is an outcome with ok=false and a JSON error
/// the LLM can read, never a failed request. Every call becomes a
/// `tool_call` event of its session (arguments, result, duration).
tool_actor::behavior_type
tool_fun(tool_actor::stateful_pointer<tool_state> self,
         std::shared_ptr<const service_directory> directory,
         tool_settings settings);

} // namespace parley
