#pragma once

#include <memory>
#include <mutex>

#include "actors/interfaces.hpp"

namespace parley {

/// The current handles of the long-lived actors.
struct services {
  persistence_actor persistence;
  responder_actor responder;
  session_registry_actor registry;
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
