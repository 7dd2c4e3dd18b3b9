#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include <caf/typed_event_based_actor.hpp>

#include "actors/backoff_policy.hpp"
#include "actors/interfaces.hpp"
#include "actors/knowledge_actor.hpp"
#include "actors/tool_actor.hpp"
#include "actors/worker_pool.hpp"
#include "agent/agent_rules.hpp"
#include "actors/persistence_actor.hpp"
#include "actors/service_directory.hpp"
#include "actors/session_actor.hpp"
#include "config/cluster_config.hpp"
#include "config/llm_config.hpp"

namespace parley {

struct supervisor_settings {
  persistence_settings persistence;
  /// Connections to the database (see default_pool_size).
  std::size_t pool_size = 1;
  session_settings session;
  /// Detached: SOCI blocks, so each persistence worker gets its own thread.
  /// Deterministic tests run them on the test scheduler instead.
  bool detach_persistence = true;
  caf::timespan restart_base = std::chrono::milliseconds{100};
  caf::timespan restart_cap = std::chrono::seconds{10};
  caf::timespan health_timeout = std::chrono::seconds{2};
  /// The LLM to answer with (provider none: the fallback answers).
  llm_config llm;
  /// Where LLM network clients run: the server's io threads.
  std::optional<boost::asio::any_io_executor> io;
  /// Seeds the LLM backoff's jitter; tests fix it to know the delays.
  std::optional<std::uint64_t> backoff_seed;
  /// The support agent's rules; without them no agent, tool or knowledge
  /// actor runs and the responder answers sessions directly.
  std::shared_ptr<const agent::agent_rules> agent_rules;
  bool agent_llm_routing = true;
  knowledge_settings knowledge;
  tool_settings tools;
  /// all: every actor here. gateway: sessions and storage here, the agent
  /// and knowledge base on the workers of `pool` (no LLM, agent, tools or
  /// knowledge actor of its own). worker: no session registry.
  node_role role = node_role::all;
  std::optional<worker_pool_settings> pool; // a gateway's
};

/// What the supervisor knows about one child.
struct supervised_child {
  caf::actor_addr addr;
  bool running = false;
  std::int32_t restarts = 0;
  int consecutive_failures = 0;
  std::string last_error;
  std::chrono::steady_clock::time_point started_at;
};

struct supervisor_state {
  static inline const char* name = "supervisor";

  supervisor_settings settings;
  std::shared_ptr<service_directory> directory;
  services current;
  responder_actor fallback;
  llm_actor llm;
  worker_pool_actor pool; // a gateway's workers
  bool llm_ready = false; // connected: answers go to the LLM
  std::optional<backoff_policy> llm_backoff;
  std::map<std::string, supervised_child> children;
  bool stopping = false;
};

/// Owns the long-lived actors (persistence, fallback responder, session
/// registry and, when configured, the LLM connection): spawns them,
/// publishes their handles in the directory, monitors them and restarts one
/// that dies, after a delay doubling from restart_base to restart_cap while
/// it keeps dying. The LLM is the responder only while its connection is
/// open: when it dies the fallback takes its place at once, and it is
/// reconnected with jittered backoff (LLM_BACKOFF_*). An exit message takes
/// the children down with it.
supervisor_actor::behavior_type
supervisor_fun(supervisor_actor::stateful_pointer<supervisor_state> self,
               std::shared_ptr<service_directory> directory,
               supervisor_settings settings);

} // namespace parley
