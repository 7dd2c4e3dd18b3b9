#include "actors/persistence_actor.hpp"

#include <exception>

#include "actors/errors.hpp"
#include "config/logging.hpp"
#include "storage/admin_repository.hpp"
#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "storage/order_repository.hpp"
#include "storage/storage_error.hpp"

namespace parley {

persistence_state::persistence_state() = default;

persistence_state::~persistence_state() = default;

namespace {

using self_pointer = persistence_actor::stateful_pointer<persistence_state>;

std::shared_ptr<spdlog::logger> log() {
  return logger("storage");
}

bool ensure_open(self_pointer self) {
  auto& st = self->state;
  if (st.db)
    return true;
  try {
    st.db = std::make_unique<storage::database>(st.settings.url);
    // Cheap when the schema is current; makes a fresh or reset database
    // (and SQLite's :memory:) usable without a restart.
    storage::migrate(*st.db);
    st.repo = std::make_unique<storage::chat_repository>(*st.db);
    st.admin = std::make_unique<storage::admin_repository>(*st.db);
    st.orders = std::make_unique<storage::order_repository>(*st.db);
    if (!st.last_error.empty())
      log()->info("database {} reachable again", st.db->description());
    st.last_error.clear();
    return true;
  } catch (const storage::storage_error& err) {
    st.orders.reset();
    st.admin.reset();
    st.repo.reset();
    st.db.reset();
    if (st.last_error != err.what())
      log()->error("cannot open the database: {}", err.what());
    st.last_error = err.what();
    return false;
  }
}

/// Forgets the connection so that the next request reconnects.
void drop_connection(self_pointer self, const std::string& why) {
  auto& st = self->state;
  log()->error("database connection lost: {}", why);
  st.last_error = why;
  st.orders.reset();
  st.admin.reset();
  st.repo.reset();
  st.db.reset();
}

/// How a transaction ended. `maybe_committed`: it failed during COMMIT, so
/// whether the database kept it is unknown and it must not run again.
struct tx_outcome {
  caf::error error;
  bool maybe_committed = false;
};

/// Runs `body` in a transaction.
template <class F>
tx_outcome in_transaction(self_pointer self, F&& body) {
  auto& db = *self->state.db;
  bool committing = false;
  try {
    db.begin();
    body();
    committing = true;
    db.commit();
    return {};
  } catch (const storage::storage_error& err) {
    db.rollback();
    return {to_error(err), committing};
  } catch (const std::exception& err) {
    db.rollback();
    return {make_error(errc::storage_internal, err.what()), committing};
  }
}

/// Runs `body` in a transaction on the current connection; if that
/// connection turns out to be dead (the database restarted while it sat
/// idle) before anything could have been committed, runs it once more on a
/// fresh one, so that the first request after an outage does not fail.
///
/// Not for SQLite: its file does not go away while the connection idles,
/// and what makes a SQLite write fail (the write lock held by another
/// process past the busy timeout, a full disk) fails the second run the
/// same way, after blocking the worker as long again.
template <class F>
caf::error with_reconnect(self_pointer self, F&& body) {
  auto outcome = in_transaction(self, body);
  if (!outcome.error || !is(outcome.error, errc::storage_unavailable)
      || outcome.maybe_committed
      || self->state.db->backend() == db_backend::sqlite)
    return outcome.error;
  drop_connection(self, describe(outcome.error));
  if (!ensure_open(self))
    return make_error(errc::storage_unavailable, self->state.last_error);
  return in_transaction(self, body).error;
}

void flush(self_pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.batch.empty())
    return;
  auto ops = std::move(st.batch);
  st.batch.clear();
  if (!ensure_open(self)) {
    auto err = make_error(errc::storage_unavailable, st.last_error);
    for (auto& op : ops)
      op.fail(err);
    return;
  }
  auto err = with_reconnect(self, [&] {
    repositories repos{*st.repo, *st.admin, *st.orders};
    for (auto& op : ops)
      op.run(repos);
  });
  if (!err) {
    st.write_error.clear();
    for (auto& op : ops)
      op.deliver();
    return;
  }
  if (is(err, errc::storage_unavailable)) {
    // Retrying one by one would only fail again; callers retry later.
    st.write_error = describe(err);
    if (st.db)
      drop_connection(self, describe(err));
    for (auto& op : ops)
      op.fail(err);
    return;
  }
  log()->warn("a batch of {} requests failed ({}); retrying one by one",
              ops.size(), describe(err));
  for (auto& op : ops) {
    if (!st.db) {
      op.fail(make_error(errc::storage_unavailable, st.last_error));
      continue;
    }
    auto single = with_reconnect(self, [&] {
      repositories single_repos{*st.repo, *st.admin, *st.orders};
      op.run(single_repos);
    });
    if (!single) {
      st.write_error.clear();
      op.deliver();
      continue;
    }
    if (is(single, errc::storage_unavailable)) {
      st.write_error = describe(single);
      if (st.db)
        drop_connection(self, describe(single));
    }
    op.fail(single);
  }
}

void schedule_flush(self_pointer self) {
  auto& st = self->state;
  if (st.batch.size() >= st.settings.max_batch) {
    flush(self);
    return;
  }
  if (!st.flush_scheduled) {
    // Lands behind every request already in the mailbox: they all join
    // this batch.
    st.flush_scheduled = true;
    self->send(self, flush_atom_v);
  }
}

template <class T, class Work>
caf::typed_response_promise<T> enqueue(self_pointer self, Work work) {
  auto promise = self->template make_response_promise<T>();
  auto slot = std::make_shared<T>();
  self->state.batch.push_back(pending_write{
    [slot, work](repositories& repos) { *slot = work(repos); },
    [promise, slot]() mutable { promise.deliver(std::move(*slot)); },
    [promise](const caf::error& err) mutable { promise.deliver(err); }});
  schedule_flush(self);
  return promise;
}

} // namespace

persistence_actor::behavior_type
persistence_fun(self_pointer self, persistence_settings settings) {
  self->state.settings = std::move(settings);
  ensure_open(self);
  // Commit what is queued before going away: it may have been acknowledged
  // to nobody yet, but it was accepted.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    flush(self);
    self->quit(msg.reason);
  });
  return {
    [self](create_atom, storage::new_session& request)
      -> caf::result<storage::session_record> {
      return enqueue<storage::session_record>(
        self, [request = std::move(request)](repositories& repos) {
          return repos.chat.create_session(request);
        });
    },
    [self](load_atom, std::int64_t session_id, std::int64_t last_seq,
           std::uint32_t history_limit)
      -> caf::result<storage::session_snapshot> {
      return enqueue<storage::session_snapshot>(
        self, [=](repositories& repos) {
          return repos.chat.load_snapshot(session_id, last_seq, history_limit);
        });
    },
    [self](store_atom, storage::new_user_message& request)
      -> caf::result<storage::user_message_result> {
      return enqueue<storage::user_message_result>(
        self, [request = std::move(request)](repositories& repos) {
          return repos.chat.store_user_message(request);
        });
    },
    [self](store_atom, storage::new_assistant_message& request)
      -> caf::result<storage::message_record> {
      return enqueue<storage::message_record>(
        self, [request = std::move(request)](repositories& repos) {
          return repos.chat.store_assistant_message(request);
        });
    },
    [self](event_atom, storage::new_event& event) {
      auto type = event.event_type;
      self->state.batch.push_back(pending_write{
        [event = std::move(event)](repositories& repos) {
          repos.chat.add_event(event);
        },
        [] {},
        [type](const caf::error& err) {
          log()->warn("event {} not stored: {}", type, describe(err));
        }});
      schedule_flush(self);
    },
    [self](health_atom) -> caf::result<std::string> {
      // Twice at most: a connection left dead by a database restart is
      // replaced, and only a fresh one that fails means "unavailable".
      for (int attempt = 0; attempt < 2; ++attempt) {
        if (!ensure_open(self))
          return make_error(errc::storage_unavailable,
                            self->state.last_error);
        auto& st = self->state;
        try {
          st.db->ping();
          if (!st.write_error.empty()) {
            // Reads work, but the last writes failed (a SQLite file locked
            // by another process, a full disk): healthy only once a write
            // goes through again.
            try {
              st.db->probe_write();
              log()->info("database {} takes writes again",
                          st.db->description());
              st.write_error.clear();
            } catch (const storage::storage_error& err) {
              return make_error(errc::storage_unavailable,
                                std::string{"writes fail: "} + err.what());
            }
          }
          return std::string{to_string(st.db->backend())};
        } catch (const storage::storage_error& err) {
          drop_connection(self, err.what());
          if (attempt == 1)
            return to_error(err);
        }
      }
      return make_error(errc::storage_unavailable, self->state.last_error);
    },
    [self](flush_atom) { flush(self); },
    // -- the REST admin API ---------------------------------------------------
    [self](users_atom, list_atom, storage::user_query& query)
      -> caf::result<storage::user_page> {
      return enqueue<storage::user_page>(
        self, [query = std::move(query)](repositories& repos) {
          return repos.admin.list_users(query);
        });
    },
    [self](users_atom, find_atom, std::int64_t id)
      -> caf::result<storage::user_record> {
      return enqueue<storage::user_record>(
        self, [id](repositories& repos) { return repos.admin.find_user(id); });
    },
    [self](users_atom, create_atom, storage::new_user& user)
      -> caf::result<storage::user_record> {
      return enqueue<storage::user_record>(
        self, [user = std::move(user)](repositories& repos) {
          return repos.admin.create_user(user);
        });
    },
    [self](users_atom, update_atom, std::int64_t id, storage::user_patch& patch)
      -> caf::result<storage::user_record> {
      return enqueue<storage::user_record>(
        self, [id, patch = std::move(patch)](repositories& repos) {
          return repos.admin.update_user(id, patch);
        });
    },
    [self](users_atom, remove_atom, std::int64_t id)
      -> caf::result<std::int64_t> {
      return enqueue<std::int64_t>(self, [id](repositories& repos) {
        repos.admin.remove_user(id);
        return id;
      });
    },
    [self](users_atom, resolve_atom, std::string& email, std::string& name)
      -> caf::result<storage::user_record> {
      return enqueue<storage::user_record>(
        self, [email = std::move(email),
               name = std::move(name)](repositories& repos) {
          return repos.admin.find_or_create_user(email, name);
        });
    },
    [self](sessions_atom, list_atom, storage::session_query& query)
      -> caf::result<storage::session_page> {
      return enqueue<storage::session_page>(
        self, [query = std::move(query)](repositories& repos) {
          return repos.admin.list_sessions(query);
        });
    },
    [self](sessions_atom, find_atom, std::int64_t id, bool with_messages)
      -> caf::result<storage::session_details> {
      return enqueue<storage::session_details>(
        self, [id, with_messages](repositories& repos) {
          return repos.admin.find_session(id, with_messages);
        });
    },
    [self](sessions_atom, update_atom, std::int64_t id,
           storage::session_patch& patch)
      -> caf::result<storage::session_listing> {
      return enqueue<storage::session_listing>(
        self, [id, patch = std::move(patch)](repositories& repos) {
          return repos.admin.update_session(id, patch);
        });
    },
    [self](sessions_atom, remove_atom, std::int64_t id)
      -> caf::result<std::int64_t> {
      return enqueue<std::int64_t>(self, [id](repositories& repos) {
        repos.admin.remove_session(id);
        return id;
      });
    },
    [self](orders_atom, find_atom, std::string& id)
      -> caf::result<storage::order_record> {
      return enqueue<storage::order_record>(
        self, [id = std::move(id)](repositories& repos) {
          // Not found is an empty record, not an exception: a customer's
          // typo must not roll back the rest of the batch.
          return repos.orders.find_order(id).value_or(storage::order_record{});
        });
    },
    [self](handoffs_atom, list_atom, std::uint32_t limit)
      -> caf::result<std::vector<storage::session_details>> {
      return enqueue<std::vector<storage::session_details>>(
        self, [limit](repositories& repos) {
          storage::session_query query;
          query.status = "handoff";
          query.page.page = 1;
          query.page.limit = static_cast<int>(limit);
          std::vector<storage::session_details> result;
          for (auto& listing : repos.admin.list_sessions(query).items)
            result.push_back(
              repos.admin.find_session(listing.session.id, true));
          return result;
        });
    },
    [self](messages_atom, list_atom, storage::message_query& query)
      -> caf::result<storage::message_page> {
      return enqueue<storage::message_page>(
        self, [query = std::move(query)](repositories& repos) {
          return repos.admin.list_messages(query);
        });
    },
    [self](settings_atom, list_atom, std::string& category)
      -> caf::result<std::vector<storage::setting_record>> {
      return enqueue<std::vector<storage::setting_record>>(
        self, [category = std::move(category)](repositories& repos) {
          return repos.admin.list_settings(category);
        });
    },
    [self](settings_atom, find_atom, std::string& key)
      -> caf::result<storage::setting_record> {
      return enqueue<storage::setting_record>(
        self, [key = std::move(key)](repositories& repos) {
          return repos.admin.find_setting(key);
        });
    },
    [self](settings_atom, update_atom, std::string& key,
           storage::setting_patch& patch)
      -> caf::result<storage::setting_record> {
      return enqueue<storage::setting_record>(
        self, [key = std::move(key), patch = std::move(patch)](
                repositories& repos) {
          return repos.admin.put_setting(key, patch);
        });
    },
  };
}

} // namespace parley
