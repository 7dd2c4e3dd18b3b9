#pragma once

#include <cstddef>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/persistence_actor.hpp"

namespace parley {

struct persistence_pool_settings {
  persistence_settings worker;
  std::size_t size = 1;
  bool detach_workers = true;
};

struct persistence_pool_state {
  static inline const char* name = "persistence_pool";

  std::vector<persistence_actor> workers;
  std::size_t next = 0;
};

/// The persistence actor as everyone else sees it: a router in front of
/// `size` workers, each with its own connection and its own group commit.
/// Everything about one session goes to the same worker, so its messages
/// stay in order; user and setting writes go by email or key, so two
/// workers never race to insert the same row; reads go round robin. The
/// workers are linked: if one dies, the pool dies and the supervisor
/// restarts it whole.
persistence_actor::behavior_type persistence_pool_fun(
  persistence_actor::stateful_pointer<persistence_pool_state> self,
  persistence_pool_settings settings);

/// Pool size for "0 = pick": one connection for SQLite (one writer at a
/// time anyway), four for server databases.
std::size_t default_pool_size(db_backend backend, std::size_t configured);

} // namespace parley
