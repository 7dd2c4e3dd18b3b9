#include "actors/worker_front.hpp"

#include <algorithm>

#include "actors/errors.hpp"
#include "cluster/node_secret.hpp"
#include "config/logging.hpp"

namespace parley {

namespace {

using self_pointer = worker_actor::stateful_pointer<worker_front_state>;

/// Gateways remembered at once; far more than a deployment has.
constexpr std::size_t max_authorized = 1024;

caf::node_id sender_node(self_pointer self) {
  const auto& sender = self->current_sender();
  return sender ? sender->node() : caf::node_id{};
}

/// Whether the sender may use the worker: always without a secret, and
/// from this node itself; otherwise only nodes that logged in.
bool allowed(self_pointer self) {
  auto& st = self->state;
  if (st.secret.empty())
    return true;
  auto node = sender_node(self);
  if (node == self->node())
    return true;
  return std::find(st.authorized.begin(), st.authorized.end(), node)
         != st.authorized.end();
}

caf::error refused() {
  return make_error(errc::unauthorized,
                    "this worker serves only gateways that logged in with "
                    "the cluster's node secret");
}

} // namespace

worker_actor::behavior_type
worker_front_fun(self_pointer self,
                 std::shared_ptr<const service_directory> directory,
                 supervisor_actor supervisor, std::string secret) {
  auto& st = self->state;
  st.directory = std::move(directory);
  st.supervisor = std::move(supervisor);
  st.secret = std::move(secret);
  st.log = logger("cluster");
  // A gateway that goes away stops listening.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& listeners = self->state.listeners;
    listeners.erase(std::remove_if(listeners.begin(), listeners.end(),
                                   [&](const news_listener_actor& l) {
                                     return l.address() == msg.source;
                                   }),
                    listeners.end());
  });
  return {
    [self](login_atom, const std::string& given) -> caf::result<bool> {
      auto& st = self->state;
      auto node = sender_node(self);
      if (!cluster::secret_matches(st.secret, given)) {
        st.log->warn("node {} gave a wrong node secret; refused",
                     to_string(node));
        return refused();
      }
      if (!st.secret.empty()
          && std::find(st.authorized.begin(), st.authorized.end(), node)
               == st.authorized.end()) {
        st.authorized.push_back(node);
        if (st.authorized.size() > max_authorized)
          st.authorized.pop_front();
      }
      st.log->info("gateway node {} logged in", to_string(node));
      return true;
    },
    [self](generate_atom, reply_request& request)
      -> caf::result<reply_result> {
      if (!allowed(self))
        return refused();
      auto svc = self->state.directory->get();
      if (svc->agent)
        return self->delegate(svc->agent, generate_atom_v, std::move(request));
      if (svc->responder)
        return self->delegate(svc->responder, generate_atom_v,
                              std::move(request));
      return make_error(errc::responder_failed, "the worker has no agent");
    },
    [self](cancel_atom, std::uint64_t request_id) {
      if (!allowed(self))
        return;
      // Delegated, so the agent sees the gateway as the one cancelling: it
      // matches the cancel to that gateway's request.
      if (auto agent = self->state.directory->get()->agent)
        self->delegate(agent, cancel_atom_v, request_id);
    },
    [self](health_atom) -> caf::result<health_report> {
      if (!allowed(self))
        return refused();
      return self->delegate(self->state.supervisor, health_atom_v);
    },
    [self](search_atom, std::string& query,
           std::int32_t top_k) -> caf::result<std::string> {
      if (!allowed(self))
        return refused();
      auto knowledge = self->state.directory->get()->knowledge;
      if (!knowledge)
        return make_error(errc::not_found, "the worker has no knowledge base");
      return self->delegate(knowledge, search_atom_v, std::move(query), top_k);
    },
    [self](reload_atom) -> caf::result<std::string> {
      if (!allowed(self))
        return refused();
      auto knowledge = self->state.directory->get()->knowledge;
      if (!knowledge)
        return make_error(errc::not_found, "the worker has no knowledge base");
      return self->delegate(knowledge, reload_atom_v);
    },
    [self](subscribe_atom) {
      auto& st = self->state;
      auto listener
        = caf::actor_cast<news_listener_actor>(self->current_sender());
      if (!allowed(self) || !listener)
        return;
      for (const auto& known : st.listeners)
        if (known == listener)
          return;
      self->monitor(listener);
      st.listeners.push_back(std::move(listener));
    },
    [self](news_atom, session_news& news) {
      if (!allowed(self))
        return;
      // To every gateway but the one it came from.
      auto from = sender_node(self);
      for (const auto& listener : self->state.listeners)
        if (listener.node() != from)
          self->send(listener, news_atom_v, news);
    },
  };
}

} // namespace parley
