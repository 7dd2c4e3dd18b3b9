#include "actors/worker_pool.hpp"

#include <random>

#include "actors/errors.hpp"
#include "config/logging.hpp"

namespace parley {

namespace {

using self_pointer = worker_pool_actor::stateful_pointer<worker_pool_state>;

std::string name_of(std::size_t index) {
  return "worker-" + std::to_string(index + 1);
}

void connect(self_pointer self, std::size_t index);
void dispatch(self_pointer self, std::uint64_t id);

/// Tries again later, after the link's backoff.
void schedule_reconnect(self_pointer self, std::size_t index) {
  auto& link = self->state.links[index];
  auto delay = link.backoff->next_delay();
  if (!delay)
    return; // unlimited attempts: never happens
  self->delayed_send(self, *delay, restart_atom_v,
                     static_cast<std::uint64_t>(index));
}

/// Moves every request on `index` elsewhere; called once it is out of
/// rotation.
void fail_over_all(self_pointer self, std::size_t index,
                   const std::string& why) {
  auto& st = self->state;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, req] : st.pending)
    if (req.worker == index)
      ids.push_back(id);
  for (auto id : ids) {
    st.table->failed(index, why);
    auto node = st.pending.extract(id);
    auto& req = node.mapped();
    if (req.streamed) {
      // The customer saw part of this answer: it ends here, and the session
      // keeps that part as an interrupted answer.
      req.promise.deliver(make_error(errc::responder_failed,
                                     name_of(index) + " lost mid-answer: "
                                       + why));
      continue;
    }
    // A new id: whatever the lost worker still sends for the old one is
    // ignored.
    auto next = ++st.next_id;
    st.pending.emplace(next, std::move(req));
    dispatch(self, next);
  }
}

/// `index` is out of rotation (lost or not answering).
void take_out(self_pointer self, std::size_t index, const std::string& why,
              bool lost) {
  auto& st = self->state;
  auto& link = st.links[index];
  auto was = st.table->at(index).state;
  if (lost) {
    st.table->down(index, why);
    link.handle = nullptr;
    link.addr = nullptr;
    link.probing = false;
  } else {
    st.table->suspect(index, why);
  }
  if (was == cluster::worker_state::up)
    st.log->warn("worker {} ({}) out of rotation: {}; {} of {} workers up",
                 name_of(index), link.address.text(), why,
                 st.table->up_count(), st.links.size());
  fail_over_all(self, index, why);
  if (lost)
    schedule_reconnect(self, index);
}

void attach(self_pointer self, std::size_t index, worker_actor handle) {
  auto& st = self->state;
  auto& link = st.links[index];
  link.handle = std::move(handle);
  link.addr = link.handle.address();
  self->monitor(link.handle);
  link.backoff->reset();
  // News of sessions changing on other gateways reaches this one through
  // its workers.
  self->send(link.handle, subscribe_atom_v);
  st.table->up(index);
  st.log->info("worker {} {} up ({} of {} workers up)", name_of(index),
               link.address.text(), st.table->up_count(), st.links.size());
}

void connect_failed(self_pointer self, std::size_t index,
                    const std::string& why) {
  auto& st = self->state;
  // A worker that never came up is still "connecting"; one that was up is
  // "down" until it comes back.
  auto never_up = st.table->at(index).connections == 0;
  // Said once per reason, not at every retry.
  auto changed = st.table->at(index).last_error != why;
  st.table->down(index, why);
  if (never_up)
    st.table->connecting(index);
  if (changed)
    st.log->warn("worker {} {}: cannot connect: {}; trying again with "
                 "backoff",
                 name_of(index), st.links[index].address.text(), why);
  schedule_reconnect(self, index);
}

void connect(self_pointer self, std::size_t index) {
  auto& st = self->state;
  auto& link = st.links[index];
  if (link.handle)
    return;
  auto attempt = ++link.attempt;
  auto stale = [self, index, attempt] {
    auto& link = self->state.links[index];
    return link.attempt != attempt || link.handle;
  };
  self
    ->request(st.settings.connector, st.settings.connect_timeout,
              caf::connect_atom_v, link.address.host, link.address.port)
    .then(
      [self, index, stale](const caf::node_id&, caf::strong_actor_ptr& ptr,
                           const std::set<std::string>& ifs) {
        if (stale())
          return;
        if (!ptr) {
          connect_failed(self, index, "nothing is published on that port");
          return;
        }
        if (!self->system().assignable<worker_actor>(ifs)) {
          connect_failed(self, index,
                         "not a Parley worker of this version (its "
                         "interface differs)");
          return;
        }
        auto handle = caf::actor_cast<worker_actor>(std::move(ptr));
        auto& st = self->state;
        self
          ->request(handle, st.settings.connect_timeout, login_atom_v,
                    st.settings.secret)
          .then(
            [self, index, stale, handle](bool) {
              if (!stale())
                attach(self, index, handle);
            },
            [self, index, stale](caf::error& err) {
              if (!stale())
                connect_failed(self, index, "login refused: " + describe(err));
            });
      },
      [self, index, stale](caf::error& err) {
        if (!stale())
          connect_failed(self, index, describe(err));
      });
}

/// No worker can take the request: the local fallback answers it (straight
/// to the session: a delegated promise).
void answer_locally(self_pointer self, std::uint64_t id) {
  auto& st = self->state;
  auto node = st.pending.extract(id);
  auto& req = node.mapped();
  auto fallback = st.directory->get()->responder;
  if (!fallback) {
    req.promise.deliver(make_error(errc::responder_failed,
                                   "no worker is up and there is no "
                                   "fallback"));
    return;
  }
  st.log->debug("session={} no worker up: the fallback answers",
                req.request.session_id);
  req.request.request_id = req.session_request;
  req.promise.delegate(fallback, generate_atom_v, std::move(req.request));
}

void dispatch(self_pointer self, std::uint64_t id) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  auto& req = i->second;
  auto index = st.table->pick(req.request.session_id, req.tried);
  if (!index) {
    answer_locally(self, id);
    return;
  }
  req.worker = *index;
  req.tried.push_back(*index);
  st.table->started(*index);
  st.log->debug("session={} request {} (its {}) -> {}{}",
                req.request.session_id, id, req.session_request,
                name_of(*index), req.tried.size() > 1 ? " (again)" : "");
  auto message = req.request;
  message.request_id = id;
  auto here = [self, id, index = *index] {
    auto& pending = self->state.pending;
    auto i = pending.find(id);
    return i != pending.end() && i->second.worker == index ? &i->second
                                                           : nullptr;
  };
  timed_request(self, st.settings.request_timeout, st.links[*index].handle,
                generate_atom_v, std::move(message))
    .then(
      [self, id, index = *index, here](reply_result& result) {
        auto* req = here();
        if (!req)
          return;
        auto& st = self->state;
        st.table->answered(index);
        st.log->debug("session={} request {} answered by {} ({})",
                      req->request.session_id, id, name_of(index),
                      result.source);
        req->promise.deliver(std::move(result));
        st.pending.erase(id);
      },
      [self, id, index = *index, here](caf::error& err) {
        auto* req = here();
        if (!req)
          return;
        auto& st = self->state;
        auto why = describe(err);
        st.log->debug("session={} request {} failed on {}: {}",
                      req->request.session_id, id, name_of(index), why);
        if (err == caf::sec::request_timeout) {
          // Too slow to count on: out of rotation until a probe answers.
          take_out(self, index, "a request timed out", false);
          return; // take_out moved this request too
        }
        if (err == caf::sec::request_receiver_down
            || err.category() == caf::atom("system")) {
          st.table->failed(index, why);
          auto node = st.pending.extract(id);
          auto& moved = node.mapped();
          if (moved.streamed) {
            moved.promise.deliver(err);
            return;
          }
          auto next = ++st.next_id;
          st.pending.emplace(next, std::move(moved));
          dispatch(self, next);
          return;
        }
        // The worker answered with an error of its own (its agent failed):
        // that is the answer, as in one process.
        st.table->failed(index, why);
        req->promise.deliver(std::move(err));
        st.pending.erase(id);
      });
}

/// The first worker up, in turn, for the knowledge base's requests.
std::optional<std::size_t> any_up(self_pointer self) {
  auto& st = self->state;
  auto n = st.links.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto i = (st.next_knowledge + k) % n;
    if (st.table->at(i).state == cluster::worker_state::up) {
      st.next_knowledge = (i + 1) % n;
      return i;
    }
  }
  return std::nullopt;
}

caf::error no_worker() {
  return make_error(errc::storage_unavailable, "no worker node is up");
}

void probe(self_pointer self, std::size_t index) {
  auto& st = self->state;
  auto& link = st.links[index];
  if (!link.handle || link.probing)
    return;
  link.probing = true;
  auto attempt = link.attempt;
  self->request(link.handle, st.settings.probe_timeout, health_atom_v)
    .then(
      [self, index, attempt](health_report& report) {
        auto& st = self->state;
        auto& link = st.links[index];
        if (link.attempt != attempt)
          return;
        link.probing = false;
        link.llm_state = report.llm.state;
        link.database_ok = report.database_ok;
        if (st.table->at(index).state == cluster::worker_state::suspect) {
          st.table->up(index);
          st.log->info("worker {} {} answers again; back in rotation",
                       name_of(index), link.address.text());
        }
      },
      [self, index, attempt](caf::error& err) {
        auto& st = self->state;
        auto& link = st.links[index];
        if (link.attempt != attempt)
          return;
        link.probing = false;
        if (st.table->at(index).state == cluster::worker_state::up)
          take_out(self, index, "health probe: " + describe(err), false);
      });
}

} // namespace

worker_pool_actor::behavior_type
worker_pool_fun(self_pointer self,
                std::shared_ptr<const service_directory> directory,
                worker_pool_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.directory = std::move(directory);
  st.log = logger("cluster");
  std::vector<std::string> addresses;
  std::random_device seed;
  for (const auto& address : st.settings.workers) {
    addresses.push_back(address.text());
    worker_link link;
    link.address = address;
    link.backoff.emplace(st.settings.reconnect, seed());
    st.links.push_back(std::move(link));
  }
  st.table = std::make_unique<cluster::worker_table>(std::move(addresses));
  for (std::size_t i = 0; i < st.links.size(); ++i)
    connect(self, i);
  self->delayed_send(self, st.settings.probe_interval, probe_atom_v);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (std::size_t i = 0; i < st.links.size(); ++i)
      if (st.links[i].handle && st.links[i].addr == msg.source) {
        take_out(self, i, "connection lost (" + describe(msg.reason) + ")",
                 true);
        return;
      }
  });
  return {
    [self](deadline_atom) {
      on_deadline(self);
    },
    [self](generate_atom, reply_request& request)
      -> caf::result<reply_result> {
      auto& st = self->state;
      // make_response_promise() takes the sender out of the message.
      auto session = self->current_sender();
      auto id = ++st.next_id;
      auto& req = st.pending[id];
      req.session = std::move(session);
      req.session_request = request.request_id;
      req.request = std::move(request);
      req.promise = self->make_response_promise<reply_result>();
      auto promise = req.promise;
      dispatch(self, id);
      return promise;
    },
    [self](cancel_atom, std::uint64_t session_request) {
      auto& st = self->state;
      const auto& sender = self->current_sender();
      for (auto i = st.pending.begin(); i != st.pending.end(); ++i) {
        auto& req = i->second;
        if (req.session != sender || req.session_request != session_request)
          continue;
        if (auto& handle = st.links[req.worker].handle)
          self->send(handle, cancel_atom_v, i->first);
        st.table->answered(req.worker);
        req.promise.deliver(make_error(errc::responder_failed, "cancelled"));
        st.pending.erase(i);
        return;
      }
    },
    [self](delta_atom, std::uint64_t id, std::string& text) {
      auto& st = self->state;
      auto i = st.pending.find(id);
      if (i == st.pending.end())
        return;
      auto& req = i->second;
      // Only the worker the request is on may add to it.
      const auto& sender = self->current_sender();
      auto& link = st.links[req.worker];
      if (!sender || !link.handle || sender->node() != link.handle.node())
        return;
      req.streamed = true;
      self->send(caf::actor_cast<session_actor>(req.session), delta_atom_v,
                 req.session_request, std::move(text));
    },
    [self](search_atom, std::string& query,
           std::int32_t top_k) -> caf::result<std::string> {
      auto index = any_up(self);
      if (!index)
        return no_worker();
      auto& st = self->state;
      return self->delegate(st.links[*index].handle, search_atom_v,
                            std::move(query), top_k);
    },
    [self](reload_atom) -> caf::result<std::string> {
      // Every worker reloads (each indexes its own folder); the caller
      // hears the first answer.
      auto& st = self->state;
      auto promise = self->make_response_promise<std::string>();
      auto waiting = std::make_shared<std::size_t>(0);
      auto done = std::make_shared<bool>(false);
      for (auto& link : st.links)
        if (link.handle)
          ++*waiting;
      if (*waiting == 0)
        return no_worker();
      for (auto& link : st.links) {
        if (!link.handle)
          continue;
        self->request(link.handle, st.settings.request_timeout, reload_atom_v)
          .then(
            [promise, done](std::string& summary) mutable {
              if (!*done) {
                *done = true;
                promise.deliver(std::move(summary));
              }
            },
            [promise, done, waiting](caf::error& err) mutable {
              if (--*waiting == 0 && !*done) {
                *done = true;
                promise.deliver(std::move(err));
              }
            });
      }
      return promise;
    },
    [](tick_atom) {
      // The knowledge actors on the workers watch their own folders.
    },
    [self](publish_atom, session_news& news) {
      // Every worker up passes it to the gateways it knows; a gateway may
      // hear it more than once, which costs it one more look at the
      // database.
      auto& st = self->state;
      for (std::size_t i = 0; i < st.links.size(); ++i)
        if (st.links[i].handle
            && st.table->at(i).state == cluster::worker_state::up)
          self->send(st.links[i].handle, news_atom_v, news);
    },
    [self](news_atom, session_news& news) {
      if (auto registry = self->state.directory->get()->registry)
        self->send(registry, news_atom_v, std::move(news));
    },
    [self](cluster_atom) -> std::vector<node_status> {
      auto& st = self->state;
      std::vector<node_status> nodes;
      for (std::size_t i = 0; i < st.links.size(); ++i) {
        const auto& info = st.table->at(i);
        const auto& link = st.links[i];
        node_status node;
        node.name = name_of(i);
        node.role = "worker";
        node.address = link.address.text();
        node.state = cluster::to_string(info.state);
        node.outstanding = info.outstanding;
        node.answered = info.answered;
        node.failed = info.failed;
        node.connections = info.connections;
        node.last_error = info.last_error;
        node.llm_state = link.llm_state;
        node.database_ok = link.database_ok;
        nodes.push_back(std::move(node));
      }
      return nodes;
    },
    [self](restart_atom, std::uint64_t index) {
      auto& st = self->state;
      if (index < st.links.size())
        connect(self, static_cast<std::size_t>(index));
    },
    [self](probe_atom) {
      auto& st = self->state;
      for (std::size_t i = 0; i < st.links.size(); ++i)
        probe(self, i);
      self->delayed_send(self, st.settings.probe_interval, probe_atom_v);
    },
  };
}

} // namespace parley
