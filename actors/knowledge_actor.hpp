#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "agent/knowledge_base.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace parley {

struct knowledge_settings {
  std::string dir = "knowledge";
  /// How often the folder is checked for changed files; 0: never (reload
  /// only).
  caf::timespan poll_interval = std::chrono::seconds{2};
};

struct knowledge_state {
  static inline const char* name = "knowledge";

  knowledge_settings settings;
  std::unique_ptr<agent::knowledge_base> base;
  std::shared_ptr<spdlog::logger> log;
};

/// The knowledge base as an actor: indexes KNOWLEDGE_DIR at start, answers
/// searches from memory (files are never read per query), and re-indexes
/// files that changed, on its own every poll_interval or when asked. Bad
/// files are logged and skipped; the rest stays searchable.
knowledge_actor::behavior_type
knowledge_fun(knowledge_actor::stateful_pointer<knowledge_state> self,
              knowledge_settings settings);

} // namespace parley
