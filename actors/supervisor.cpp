#include "actors/supervisor.hpp"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

#include "actors/agent_actor.hpp"
#include "actors/errors.hpp"
#include "actors/fallback_actor.hpp"
#include "actors/knowledge_actor.hpp"
#include "actors/llm_openai_actor.hpp"
#include "actors/llm_ws_actor.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/session_registry.hpp"
#include "actors/tool_actor.hpp"
#include "config/logging.hpp"

namespace parley {

namespace {

using self_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

constexpr const char* persistence_name = "persistence";
constexpr const char* responder_name = "responder";
constexpr const char* registry_name = "session_registry";
constexpr const char* llm_name = "llm";
constexpr const char* knowledge_name = "knowledge";
constexpr const char* tools_name = "tools";
constexpr const char* agent_name = "agent";
constexpr const char* workers_name = "workers";

std::shared_ptr<spdlog::logger> log() {
  return logger("supervisor");
}

/// Whether this node talks to an LLM (a gateway leaves that to workers).
bool has_llm(const supervisor_settings& settings) {
  return settings.llm.provider != llm_provider::none
         && settings.io.has_value() && settings.role != node_role::gateway;
}

/// The responder the sessions should use now: the LLM while its connection
/// is open, the fallback otherwise.
void publish(self_pointer self) {
  auto& st = self->state;
  st.current.llm_active = st.llm_ready && st.llm;
  st.current.responder = st.current.llm_active ? responder_actor{st.llm}
                                               : st.fallback;
  st.directory->set(st.current);
}

void start_child(self_pointer self, const std::string& name) {
  auto& st = self->state;
  caf::actor_addr addr;
  if (name == persistence_name) {
    persistence_pool_settings pool;
    pool.worker = st.settings.persistence;
    pool.size = st.settings.pool_size;
    pool.detach_workers = st.settings.detach_persistence;
    auto hdl = self->spawn(persistence_pool_fun, std::move(pool));
    self->monitor(hdl);
    addr = hdl.address();
    st.current.persistence = std::move(hdl);
  } else if (name == responder_name) {
    // With an LLM configured, the fallback only answers while it is down.
    auto hdl = self->spawn(fallback_fun, has_llm(st.settings));
    self->monitor(hdl);
    addr = hdl.address();
    st.fallback = std::move(hdl);
  } else if (name == llm_name) {
    auto me = caf::actor_cast<supervisor_actor>(self);
    if (st.settings.llm.provider == llm_provider::openai) {
      auto hdl = self->spawn(llm_openai_fun, st.settings.llm, *st.settings.io,
                             me, st.fallback);
      self->monitor(hdl);
      addr = hdl.address();
      st.llm = std::move(hdl);
    } else {
      auto hdl = self->spawn(llm_ws_fun, st.settings.llm, *st.settings.io, me,
                             st.fallback);
      self->monitor(hdl);
      addr = hdl.address();
      st.llm = std::move(hdl);
    }
    st.llm_ready = false; // until it says it can answer
  } else if (name == knowledge_name) {
    // Indexing reads files: on its own thread, like the database workers.
    auto hdl = st.settings.detach_persistence
                 ? self->spawn<caf::detached>(knowledge_fun,
                                              st.settings.knowledge)
                 : self->spawn(knowledge_fun, st.settings.knowledge);
    self->monitor(hdl);
    addr = hdl.address();
    st.current.knowledge = std::move(hdl);
  } else if (name == tools_name) {
    std::shared_ptr<const service_directory> dir = st.directory;
    auto hdl = self->spawn(tool_fun, dir, st.settings.tools);
    self->monitor(hdl);
    addr = hdl.address();
    st.current.tools = std::move(hdl);
  } else if (name == agent_name) {
    std::shared_ptr<const service_directory> dir = st.directory;
    agent_actor_settings agent;
    agent.rules = st.settings.agent_rules;
    agent.llm_configured = has_llm(st.settings);
    agent.llm_routing = st.settings.agent_llm_routing;
    auto hdl = self->spawn(agent_fun, dir, agent);
    self->monitor(hdl);
    addr = hdl.address();
    st.current.agent = std::move(hdl);
  } else if (name == workers_name) {
    std::shared_ptr<const service_directory> dir = st.directory;
    auto hdl = self->spawn(worker_pool_fun, dir, *st.settings.pool);
    self->monitor(hdl);
    addr = hdl.address();
    st.current.agent = hdl;
    st.current.knowledge = hdl;
    st.current.workers = hdl;
    st.pool = std::move(hdl);
  } else {
    std::shared_ptr<const service_directory> dir = st.directory;
    auto hdl = self->spawn(session_registry_fun, dir, st.settings.session);
    self->monitor(hdl);
    addr = hdl.address();
    st.current.registry = std::move(hdl);
  }
  auto& child = st.children[name];
  child.addr = addr;
  child.running = true;
  child.started_at = std::chrono::steady_clock::now();
  publish(self);
}

/// A server-wide chat_events row (no session) about the LLM.
void record_llm_event(self_pointer self, const char* type,
                      const std::string& detail) {
  auto& st = self->state;
  if (!st.current.persistence)
    return;
  nlohmann::json payload{{"url", st.settings.llm.endpoint.redacted()},
                         {"detail", detail}};
  self->send(st.current.persistence, event_atom_v,
             storage::new_event{0, type,
                                payload.dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::
                                               replace)});
}


caf::timespan restart_delay(const supervisor_settings& settings,
                            int failures) {
  auto delay = settings.restart_base;
  for (int i = 1; i < failures && delay < settings.restart_cap; ++i)
    delay *= 2;
  return std::min(delay, settings.restart_cap);
}

} // namespace

supervisor_actor::behavior_type
supervisor_fun(self_pointer self, std::shared_ptr<service_directory> dir,
               supervisor_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.directory = std::move(dir);
  for (auto name : {persistence_name, responder_name})
    start_child(self, name);
  if (st.settings.role != node_role::worker)
    start_child(self, registry_name);
  if (st.settings.role == node_role::gateway && st.settings.pool)
    start_child(self, workers_name);
  else if (st.settings.agent_rules)
    for (auto name : {knowledge_name, tools_name, agent_name})
      start_child(self, name);
  if (has_llm(st.settings)) {
    backoff_settings backoff;
    backoff.base = st.settings.llm.backoff_base;
    backoff.cap = st.settings.llm.backoff_cap;
    backoff.max_attempts = static_cast<std::uint32_t>(
      st.settings.llm.backoff_max_attempts);
    st.llm_backoff.emplace(backoff, st.settings.backoff_seed
                                      ? *st.settings.backoff_seed
                                      : std::random_device{}());
    start_child(self, llm_name);
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.stopping)
      return;
    for (auto& [name, child] : st.children) {
      if (child.addr != msg.source)
        continue;
      child.running = false;
      child.last_error = describe(msg.reason);
      if (name == llm_name) {
        // Answers go to the fallback at once; the LLM comes back later.
        auto was_ready = st.llm_ready;
        st.llm_ready = false;
        st.llm = nullptr;
        publish(self);
        if (was_ready)
          record_llm_event(self, "llm_fallback_on", child.last_error);
        auto delay = st.llm_backoff->next_delay();
        if (!delay) {
          log()->error("LLM connection lost ({}); giving up after {} "
                       "attempts, the fallback answers from now on",
                       child.last_error, st.llm_backoff->attempts());
          return;
        }
        log()->warn("LLM connection lost ({}); the fallback answers; "
                    "reconnecting in {} ms",
                    child.last_error,
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                      *delay)
                      .count());
        self->delayed_send(self, *delay, restart_atom_v, name);
        return;
      }
      // A child that ran for a while starts its backoff afresh.
      auto uptime = std::chrono::steady_clock::now() - child.started_at;
      if (uptime > st.settings.restart_cap)
        child.consecutive_failures = 0;
      ++child.consecutive_failures;
      auto delay = restart_delay(st.settings, child.consecutive_failures);
      log()->error("{} died ({}); restarting in {} ms", name,
                   child.last_error,
                   std::chrono::duration_cast<std::chrono::milliseconds>(delay)
                     .count());
      self->delayed_send(self, delay, restart_atom_v, name);
      return;
    }
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stopping = true;
    for (auto& [name, child] : st.children)
      if (auto hdl = caf::actor_cast<caf::actor>(child.addr))
        self->send_exit(hdl, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](llm_open_atom) {
      auto& st = self->state;
      if (!st.llm || st.llm_ready)
        return;
      st.llm_ready = true;
      st.llm_backoff->reset();
      publish(self);
      log()->info("LLM connected; it answers from now on");
      record_llm_event(self, "llm_fallback_off", "connected");
    },
    [self](restart_atom, const std::string& name) {
      auto& st = self->state;
      if (st.stopping || st.children[name].running)
        return;
      ++st.children[name].restarts;
      start_child(self, name);
      log()->info("{} restarted ({} restarts so far)", name,
                  st.children[name].restarts);
    },
    [self](health_atom) -> caf::result<health_report> {
      auto& st = self->state;
      auto report = std::make_shared<health_report>();
      report->role = role_name(st.settings.role);
      report->llm.provider = to_string(st.settings.llm.provider);
      report->llm.model = has_llm(st.settings) ? st.settings.llm.model
                                               : "fallback";
      if (has_llm(st.settings)) {
        const auto& child = st.children[llm_name];
        report->llm.url = st.settings.llm.endpoint.redacted();
        report->llm.connected = st.llm_ready;
        report->llm.state = st.llm_ready      ? "healthy"
                            : child.running   ? "connecting"
                                              : "down";
        // While the actor is gone the breaker is open; a new actor making
        // its first connection is the half-open probe.
        report->llm.circuit = st.llm_ready      ? "closed"
                              : child.running   ? "half_open"
                                                : "open";
        report->llm.restarts = child.restarts;
        report->llm.last_error = child.last_error;
      } else if (st.settings.role == node_role::gateway) {
        report->llm.state = "workers"; // each worker reports its own
      } else {
        report->llm.state = "fallback";
      }
      report->database_backend = to_string(st.settings.persistence.url.backend);
      for (auto& [name, child] : st.children)
        report->services.push_back(service_status{
          name, child.running ? "running" : "restarting", child.restarts,
          child.last_error});
      auto promise = self->make_response_promise<health_report>();
      // Last in the chain: what only the LLM actor knows (its latency and
      // breaker); asking it also makes it check its connection.
      auto ask_llm = [self, report, promise]() mutable {
        auto& st = self->state;
        if (!st.llm || !st.llm_ready) {
          promise.deliver(*report);
          return;
        }
        self->request(st.llm, st.settings.health_timeout, status_atom_v)
          .then(
            [report, promise](llm_status& status) mutable {
              report->llm.last_latency_ms = status.last_latency_ms;
              report->llm.circuit = status.circuit;
              if (!status.last_error.empty())
                report->llm.last_error = status.last_error;
              promise.deliver(*report);
            },
            [report, promise](caf::error&) mutable {
              promise.deliver(*report);
            });
      };
      // On a gateway, what it knows of its workers comes last.
      auto ask_pool = [self, report, ask_llm]() mutable {
        auto& st = self->state;
        if (!st.pool) {
          ask_llm();
          return;
        }
        self->request(st.pool, st.settings.health_timeout, cluster_atom_v)
          .then(
            [report, ask_llm](std::vector<node_status>& nodes) mutable {
              report->nodes = std::move(nodes);
              ask_llm();
            },
            [ask_llm](caf::error&) mutable { ask_llm(); });
      };
      auto ask_registry = [self, report, ask_pool]() mutable {
        if (!self->state.current.registry) {
          ask_pool();
          return;
        }
        self
          ->request(self->state.current.registry,
                    self->state.settings.health_timeout, count_atom_v)
          .then(
            [report, ask_pool](std::uint64_t live) mutable {
              report->live_sessions = live;
              ask_pool();
            },
            [ask_pool](caf::error&) mutable { ask_pool(); });
      };
      self
        ->request(st.current.persistence, st.settings.health_timeout,
                  health_atom_v)
        .then(
          [report, ask_registry](std::string& backend) mutable {
            report->database_ok = true;
            report->database_backend = std::move(backend);
            ask_registry();
          },
          [report, ask_registry](caf::error& err) mutable {
            report->database_ok = false;
            report->database_error = describe(err);
            ask_registry();
          });
      return promise;
    },
  };
}

} // namespace parley
