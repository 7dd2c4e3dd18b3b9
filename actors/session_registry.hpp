#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"
#include "actors/session_actor.hpp"

namespace parley {

struct session_registry_state {
  static inline const char* name = "session_registry";

  std::shared_ptr<const service_directory> directory;
  std::shared_ptr<const session_settings> settings; // shared by its sessions
  /// Every live session actor, by address; 0 until it knows its session id.
  std::unordered_map<caf::actor_addr, std::int64_t> live;
  std::unordered_map<std::int64_t, session_actor> by_id;
  bool draining = false;
  std::uint64_t drained = 0;
  std::vector<caf::typed_response_promise<std::uint64_t>> drain_waiters;
};

/// Spawns a session actor for each new socket and routes a resuming socket
/// to the live actor of its session, so that one session never has two
/// actors. Answers `drain` once every session actor has ended.
session_registry_actor::behavior_type session_registry_fun(
  session_registry_actor::stateful_pointer<session_registry_state> self,
  std::shared_ptr<const service_directory> directory,
  session_settings settings);

} // namespace parley
