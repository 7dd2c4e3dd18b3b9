#include "actors/session_registry.hpp"

#include "actors/client_connection.hpp"
#include "actors/errors.hpp"
#include "config/logging.hpp"
#include "transport/protocol.hpp"

namespace parley {

namespace {

using self_pointer
  = session_registry_actor::stateful_pointer<session_registry_state>;

void deliver_if_drained(self_pointer self) {
  auto& st = self->state;
  if (!st.draining || !st.live.empty())
    return;
  for (auto& promise : st.drain_waiters)
    promise.deliver(st.drained);
  st.drain_waiters.clear();
}

session_actor spawn_session(self_pointer self) {
  auto& st = self->state;
  auto registry = caf::actor_cast<session_registry_actor>(self);
  auto session = self->spawn(session_fun, st.directory, registry, st.settings);
  self->monitor(session);
  st.live.emplace(session.address(), 0);
  return session;
}

/// The live actor of `session_id`, or a new one that will load it.
session_actor session_for(self_pointer self, std::int64_t session_id) {
  auto& st = self->state;
  if (auto i = st.by_id.find(session_id); i != st.by_id.end())
    return i->second;
  auto session = spawn_session(self);
  st.by_id.emplace(session_id, session);
  st.live[session.address()] = session_id;
  return session;
}

/// On a gateway, tells the other gateways about `session_id` (through the
/// workers); a single process has nobody to tell.
void publish(self_pointer self, std::int64_t session_id, std::string kind) {
  if (auto workers = self->state.directory->get()->workers)
    self->send(workers, publish_atom_v,
               session_news{session_id, std::move(kind)});
}

/// Passes an admin action or a REST message to the session's actor here
/// and, once it is stored, tells the other gateways: one of them may hold
/// the customer's socket.
template <class Result, class... Ts>
caf::result<Result> act_and_publish(self_pointer self, std::int64_t session_id,
                                    Ts&&... xs) {
  auto promise = self->make_response_promise<Result>();
  self->request(session_for(self, session_id), caf::infinite,
                std::forward<Ts>(xs)...)
    .then(
      [self, promise, session_id](Result& stored) mutable {
        publish(self, session_id, "changed");
        promise.deliver(std::move(stored));
      },
      [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
  return promise;
}

caf::error draining_error() {
  return make_error(errc::shutting_down,
                    "the server is restarting; try again shortly");
}

} // namespace

session_registry_actor::behavior_type
session_registry_fun(self_pointer self,
                     std::shared_ptr<const service_directory> directory,
                     session_settings settings) {
  self->state.directory = std::move(directory);
  self->state.settings =
    std::make_shared<const session_settings>(std::move(settings));
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto i = st.live.find(msg.source);
    if (i == st.live.end())
      return;
    if (i->second != 0) {
      auto j = st.by_id.find(i->second);
      if (j != st.by_id.end() && j->second.address() == msg.source)
        st.by_id.erase(j);
    }
    st.live.erase(i);
    ++st.drained;
    deliver_if_drained(self);
  });
  // Going down takes every session with it (they close their sockets).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [addr, id] : self->state.live)
      if (auto hdl = caf::actor_cast<caf::actor>(addr))
        self->send_exit(hdl, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](attach_atom, connection_ptr& conn, attach_request& request) {
      auto& st = self->state;
      if (st.draining) {
        conn->send(protocol::error_frame_text(
          0, protocol::codes::shutting_down,
          "the server is restarting; reconnect in a moment"));
        conn->close(close_codes::going_away, "server shutting down");
        return;
      }
      if (request.session_id != 0) {
        auto i = st.by_id.find(request.session_id);
        if (i != st.by_id.end()) {
          self->send(i->second, attach_atom_v, std::move(conn),
                     std::move(request));
          return;
        }
      }
      auto session = spawn_session(self);
      if (request.session_id != 0) {
        // Claimed at once: a second resume of the same session finds this
        // actor, which checks the token for each socket.
        st.by_id.emplace(request.session_id, session);
        st.live[session.address()] = request.session_id;
      }
      self->send(session, attach_atom_v, std::move(conn), std::move(request));
    },
    [self](register_atom, std::int64_t session_id, session_actor& session) {
      auto& st = self->state;
      auto i = st.live.find(session.address());
      if (i == st.live.end())
        return; // already gone
      i->second = session_id;
      st.by_id[session_id] = std::move(session);
    },
    [self](chat_atom, chat_request& request) -> caf::result<chat_exchange> {
      if (self->state.draining)
        return draining_error();
      auto session_id = request.session_id;
      // One process alone has nobody to tell: no detour on its hot path.
      if (!self->state.directory->get()->workers)
        return self->delegate(session_for(self, session_id), chat_atom_v,
                              std::move(request));
      return act_and_publish<chat_exchange>(self, session_id, chat_atom_v,
                                            std::move(request));
    },
    [self](agent_msg_atom,
           agent_message& msg) -> caf::result<storage::message_record> {
      if (self->state.draining)
        return draining_error();
      auto session_id = msg.session_id;
      return act_and_publish<storage::message_record>(
        self, session_id, agent_msg_atom_v, std::move(msg));
    },
    [self](release_atom,
           std::int64_t session_id) -> caf::result<storage::message_record> {
      if (self->state.draining)
        return draining_error();
      return act_and_publish<storage::message_record>(
        self, session_id, release_atom_v, session_id);
    },
    [self](status_atom, std::int64_t session_id,
           std::string& status) -> caf::result<storage::message_record> {
      if (self->state.draining)
        return draining_error();
      return act_and_publish<storage::message_record>(
        self, session_id, status_atom_v, session_id, std::move(status));
    },
    [self](remove_atom, std::int64_t session_id) {
      // The session was deleted: its actor (and socket) must not go on,
      // here or on another gateway.
      auto& st = self->state;
      if (auto i = st.by_id.find(session_id); i != st.by_id.end())
        self->send_exit(i->second, caf::exit_reason::user_shutdown);
      publish(self, session_id, "removed");
    },
    [self](publish_atom, session_news& news) {
      // From a session actor: a client resumed here (its token checked).
      publish(self, news.session_id, std::move(news.kind));
    },
    [self](news_atom, session_news& news) {
      auto& st = self->state;
      auto i = st.by_id.find(news.session_id);
      if (i == st.by_id.end())
        return;
      if (news.kind == "removed")
        self->send_exit(i->second, caf::exit_reason::user_shutdown);
      else
        self->send(i->second, refresh_atom_v, news.kind == "claimed");
    },
    [self](count_atom) -> std::uint64_t { return self->state.live.size(); },
    [self](drain_atom) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (!st.draining) {
        st.draining = true;
        logger("session")->info("draining {} sessions", st.live.size());
        for (auto& [addr, id] : st.live)
          if (auto hdl = caf::actor_cast<session_actor>(addr))
            self->send(hdl, drain_atom_v);
      }
      if (st.live.empty())
        return st.drained;
      auto promise = self->make_response_promise<std::uint64_t>();
      st.drain_waiters.push_back(promise);
      return promise;
    },
  };
}

} // namespace parley
