#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <caf/node_id.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace parley {

struct worker_front_state {
  static inline const char* name = "worker_front";

  std::shared_ptr<const service_directory> directory;
  supervisor_actor supervisor;
  std::string secret;
  /// Nodes that proved the secret (the newest last; a gateway that restarts
  /// is a new node, so the oldest are forgotten past a bound).
  std::deque<caf::node_id> authorized;
  /// The gateways' worker pools, to pass session news between them.
  std::vector<news_listener_actor> listeners;
  std::shared_ptr<spdlog::logger> log;
};

/// A worker node's door, published on its node port: passes each request of
/// a gateway to the worker's current agent, knowledge actor or supervisor by
/// delegation, so answers and streamed pieces go straight back to the
/// gateway. It holds no state of its own besides who logged in and which
/// gateways listen for session news (passed from each to every other), and
/// reads the directory on every request, so a restarted agent is used at
/// once.
worker_actor::behavior_type
worker_front_fun(worker_actor::stateful_pointer<worker_front_state> self,
                 std::shared_ptr<const service_directory> directory,
                 supervisor_actor supervisor, std::string secret);

} // namespace parley
