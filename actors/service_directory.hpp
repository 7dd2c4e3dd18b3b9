#pragma once

#include <memory>
#include <mutex>

#include "actors/interfaces.hpp"

namespace parley {

/// The current handles of the long-lived actors.
struct services {
  persistence_actor persistence;
  /// The LLM while its connection is open, otherwise the fallback.
  responder_actor responder;
  session_registry_actor registry;
  /// The support agent sessions ask for answers; without one (tests of a
  /// session alone) they ask the responder directly.
  agent_actor agent;
  tool_actor tools;
  knowledge_actor knowledge;
  /// A gateway's worker pool (otherwise null): it also carries session news
  /// to the other gateways.
  worker_pool_actor workers;
  /// True while `responder` is the LLM.
  bool llm_active = false;
};

/// Where session actors and the transport find the long-lived actors. The
/// supervisor publishes a new snapshot whenever it restarts one, so nobody
/// keeps talking to a dead actor. Reads are a shared_ptr copy.
class service_directory {
public:
  std::shared_ptr<const services> get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return current_;
  }

  void set(services next) {
    auto ptr = std::make_shared<const services>(std::move(next));
    std::lock_guard<std::mutex> guard{mtx_};
    current_ = std::move(ptr);
  }

private:
  mutable std::mutex mtx_;
  std::shared_ptr<const services> current_ = std::make_shared<services>();
};

} // namespace parley
