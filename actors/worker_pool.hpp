#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/io/middleman_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/backoff_policy.hpp"
#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"
#include "actors/timed_request.hpp"
#include "cluster/worker_table.hpp"
#include "config/cluster_config.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace parley {

struct worker_pool_settings {
  std::vector<node_address> workers;
  std::string secret;
  /// How nodes connect: CAF's middleman (or its OpenSSL manager).
  caf::io::middleman_actor connector;
  /// A request on one worker; a worker that takes longer is taken out of
  /// rotation and the request goes elsewhere. Below the session's own
  /// reply timeout, so the session hears the outcome.
  caf::timespan request_timeout = std::chrono::seconds{50};
  /// Every worker's health is asked this often; one that does not answer
  /// within probe_timeout leaves the rotation (cut off without a close).
  caf::timespan probe_interval = std::chrono::seconds{1};
  caf::timespan probe_timeout = std::chrono::seconds{2};
  caf::timespan connect_timeout = std::chrono::seconds{5};
  backoff_settings reconnect{std::chrono::milliseconds{200},
                             std::chrono::seconds{5}, 0, 0.5};
};

/// A request of a session in flight on a worker.
struct pool_request {
  caf::strong_actor_ptr session;     // gets the streamed pieces
  std::uint64_t session_request = 0; // the session's id for them
  reply_request request;
  caf::typed_response_promise<reply_result> promise;
  std::size_t worker = 0;
  std::vector<std::size_t> tried;
  bool streamed = false; // pieces reached the session: no retry elsewhere
};

/// One worker node as the pool connects to it.
struct worker_link {
  node_address address;
  worker_actor handle; // null while not connected
  caf::actor_addr addr;
  std::optional<backoff_policy> backoff;
  std::uint64_t attempt = 0; // answers of older connection attempts are stale
  bool probing = false;
  std::string llm_state;
  bool database_ok = false;
};

struct worker_pool_state {
  static inline const char* name = "worker_pool";

  worker_pool_settings settings;
  std::shared_ptr<const service_directory> directory;
  std::unique_ptr<cluster::worker_table> table;
  std::vector<worker_link> links;
  /// By the pool's own request id (the one the worker sees).
  std::unordered_map<std::uint64_t, pool_request> pending;
  std::uint64_t next_id = 0;
  std::size_t next_knowledge = 0;
  std::shared_ptr<spdlog::logger> log;
  request_deadlines deadlines; // of its requests (timed_request.hpp)
};

/// A gateway's workers behind one handle (docs/architecture.md, "Several
/// nodes"): connects to each worker node, logs in with the node secret,
/// watches each (down messages, health probes), and sends each request of a
/// session to a worker chosen by the worker_table. Streamed pieces pass
/// through it to the session. A request whose worker is lost goes to
/// another worker, or to the local fallback when none is up, unless pieces
/// of it were already shown (then the session keeps them as an interrupted
/// answer). Lost workers are reconnected with backoff.
worker_pool_actor::behavior_type
worker_pool_fun(worker_pool_actor::stateful_pointer<worker_pool_state> self,
                std::shared_ptr<const service_directory> directory,
                worker_pool_settings settings);

} // namespace parley
