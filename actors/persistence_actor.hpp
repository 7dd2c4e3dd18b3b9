#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "config/database_url.hpp"

namespace parley {

namespace storage {
class database;
class chat_repository;
class admin_repository;
class order_repository;
} // namespace storage

struct persistence_settings {
  database_url url;
  /// A batch this large is committed at once instead of waiting for the
  /// mailbox to drain.
  std::size_t max_batch = 512;
};

/// The repositories a request may use, on the actor's one connection.
struct repositories {
  storage::chat_repository& chat;
  storage::admin_repository& admin;
  storage::order_repository& orders;
};

/// One request waiting for the next commit.
struct pending_write {
  std::function<void(repositories&)> run;
  std::function<void()> deliver;
  std::function<void(const caf::error&)> fail;
};

struct persistence_state {
  static inline const char* name = "persistence";

  persistence_settings settings;
  std::unique_ptr<storage::database> db;
  std::unique_ptr<storage::chat_repository> repo;
  std::unique_ptr<storage::admin_repository> admin;
  std::unique_ptr<storage::order_repository> orders;
  std::vector<pending_write> batch;
  bool flush_scheduled = false;
  std::string last_error;
  /// Why the last write failed as `unavailable`; empty once one commits (or
  /// the health check's write probe goes through).
  std::string write_error;

  persistence_state();
  ~persistence_state();
};

/// Group commit: every request that reaches the mailbox while a commit is
/// running joins the next transaction, and each is answered only after that
/// transaction has committed. One failing request does not fail the others:
/// the batch is then retried request by request. Run it detached; SOCI
/// calls block.
persistence_actor::behavior_type
persistence_fun(persistence_actor::stateful_pointer<persistence_state> self,
                persistence_settings settings);

} // namespace parley
