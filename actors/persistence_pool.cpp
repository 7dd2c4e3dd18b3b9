#include "actors/persistence_pool.hpp"

#include <functional>

namespace parley {

namespace {

using self_pointer = persistence_actor::stateful_pointer<persistence_pool_state>;

const persistence_actor& by_key(self_pointer self, std::size_t key) {
  auto& workers = self->state.workers;
  return workers[key % workers.size()];
}

const persistence_actor& by_session(self_pointer self, std::int64_t id) {
  return by_key(self, static_cast<std::size_t>(id));
}

const persistence_actor& by_text(self_pointer self, const std::string& text) {
  return by_key(self, std::hash<std::string>{}(text));
}

const persistence_actor& any(self_pointer self) {
  return by_key(self, self->state.next++);
}

} // namespace

std::size_t default_pool_size(db_backend backend, std::size_t configured) {
  if (configured > 0)
    return configured;
  return backend == db_backend::sqlite ? 1 : 4;
}

persistence_actor::behavior_type
persistence_pool_fun(self_pointer self, persistence_pool_settings settings) {
  auto size = settings.size == 0 ? 1 : settings.size;
  for (std::size_t i = 0; i < size; ++i) {
    auto worker = settings.detach_workers
                    ? self->spawn<caf::detached + caf::linked>(
                      persistence_fun, settings.worker)
                    : self->spawn<caf::linked>(persistence_fun,
                                               settings.worker);
    self->state.workers.push_back(std::move(worker));
  }
  return {
    [self](create_atom a, storage::new_session& x) {
      return self->delegate(any(self), a, std::move(x));
    },
    [self](load_atom a, std::int64_t id, std::int64_t last_seq,
           std::uint32_t limit) {
      return self->delegate(by_session(self, id), a, id, last_seq, limit);
    },
    [self](store_atom a, storage::new_user_message& x) {
      auto& worker = by_session(self, x.session_id);
      return self->delegate(worker, a, std::move(x));
    },
    [self](store_atom a, storage::new_assistant_message& x) {
      auto& worker = by_session(self, x.session_id);
      return self->delegate(worker, a, std::move(x));
    },
    [self](event_atom a, storage::new_event& x) {
      auto& worker = by_session(self, x.session_id);
      self->send(worker, a, std::move(x));
    },
    [self](health_atom a) { return self->delegate(any(self), a); },
    [](flush_atom) {
      // Workers flush on their own.
    },
    [self](users_atom u, list_atom a, storage::user_query& x) {
      return self->delegate(any(self), u, a, std::move(x));
    },
    [self](users_atom u, find_atom a, std::int64_t id) {
      return self->delegate(any(self), u, a, id);
    },
    [self](users_atom u, create_atom a, storage::new_user& x) {
      auto& worker = by_text(self, x.email);
      return self->delegate(worker, u, a, std::move(x));
    },
    [self](users_atom u, update_atom a, std::int64_t id,
           storage::user_patch& x) {
      auto& worker = x.set_email ? by_text(self, x.email) : any(self);
      return self->delegate(worker, u, a, id, std::move(x));
    },
    [self](users_atom u, remove_atom a, std::int64_t id) {
      return self->delegate(any(self), u, a, id);
    },
    [self](users_atom u, resolve_atom a, std::string& email,
           std::string& name) {
      auto& worker = by_text(self, email);
      return self->delegate(worker, u, a, std::move(email), std::move(name));
    },
    [self](sessions_atom s, list_atom a, storage::session_query& x) {
      return self->delegate(any(self), s, a, std::move(x));
    },
    [self](sessions_atom s, find_atom a, std::int64_t id, bool messages) {
      return self->delegate(by_session(self, id), s, a, id, messages);
    },
    [self](sessions_atom s, update_atom a, std::int64_t id,
           storage::session_patch& x) {
      return self->delegate(by_session(self, id), s, a, id, std::move(x));
    },
    [self](sessions_atom s, remove_atom a, std::int64_t id) {
      return self->delegate(by_session(self, id), s, a, id);
    },
    [self](messages_atom m, list_atom a, storage::message_query& x) {
      auto& worker = x.session_id != 0 ? by_session(self, x.session_id)
                                       : any(self);
      return self->delegate(worker, m, a, std::move(x));
    },
    [self](settings_atom s, list_atom a, std::string& category) {
      return self->delegate(any(self), s, a, std::move(category));
    },
    [self](settings_atom s, find_atom a, std::string& key) {
      return self->delegate(any(self), s, a, std::move(key));
    },
    [self](settings_atom s, update_atom a, std::string& key,
           storage::setting_patch& x) {
      auto& worker = by_text(self, key);
      return self->delegate(worker, s, a, std::move(key), std::move(x));
    },
    [self](orders_atom o, find_atom a, std::string& id) {
      return self->delegate(any(self), o, a, std::move(id));
    },
    [self](handoffs_atom h, list_atom a, std::uint32_t limit) {
      return self->delegate(any(self), h, a, limit);
    },
  };
}

} // namespace parley
