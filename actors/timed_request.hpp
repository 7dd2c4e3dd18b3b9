#pragma once

#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/error.hpp>
#include <caf/message_id.hpp>
#include <caf/sec.hpp>

#include "actors/deadline_table.hpp"
#include "actors/messages.hpp"

namespace parley {

/// What an actor's state keeps for timed_request(), as `deadlines`.
using request_deadlines =
  deadline_table<caf::message_id, caf::actor_clock::time_point>;

namespace detail {

/// `f` with the same parameters, forgetting the request's deadline first
/// (CAF reads a handler's parameters to check them against the reply).
template <class Self, class F, class... Ts>
auto settling(Self* self, caf::message_id id, F f,
              caf::detail::type_list<Ts...>) {
  return [self, id, f = std::move(f)](Ts... xs) mutable {
    self->state.deadlines.settle(id);
    f(std::forward<Ts>(xs)...);
  };
}

template <class Self, class F>
auto settling(Self* self, caf::message_id id, F f) {
  using args = typename caf::detail::get_callable_trait<F>::arg_types;
  return settling(self, id, std::move(f), args{});
}

} // namespace detail

/// The handle timed_request() returns: then() as on CAF's.
template <class Self, class Handle>
class timed_response {
public:
  timed_response(Self* self, Handle handle)
    : self_(self), handle_(std::move(handle)) {
  }

  template <class F, class OnError>
  void then(F f, OnError on_error) const {
    auto id = handle_.id();
    handle_.then(detail::settling(self_, id, std::move(f)),
                 detail::settling(self_, id, std::move(on_error)));
  }

private:
  Self* self_;
  Handle handle_;
};

/// self->request(dest, timeout, xs...), with the deadline kept in
/// self->state.deadlines rather than by CAF's clock. CAF 0.17 never cancels
/// a request's timeout: each request woke the clock thread to add an entry
/// to its map, kept it for the whole timeout, and woke the actor again
/// when it passed; after 20 s of chat at 3,000 messages a second, with
/// timeouts of 10 to 60 s, that was 80 MB of entries. Here an answer
/// forgets its deadline, and the actor wakes itself (deadline_atom) only
/// when the earliest one is due, where on_deadline() fails the late
/// requests with sec::request_timeout, as CAF's clock would.
template <class Self, class Dest, class... Ts>
auto timed_request(Self* self, caf::timespan timeout, const Dest& dest,
                   Ts&&... xs) {
  auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
  auto now = self->clock().now();
  if (auto at = self->state.deadlines.add(handle.id(), now + timeout))
    self->delayed_send(self, *at - now, deadline_atom_v);
  return timed_response<Self, decltype(handle)>{self, std::move(handle)};
}

/// An actor's handler for deadline_atom: answers each request past its
/// deadline with sec::request_timeout, through the actor's mailbox (its
/// handler then runs as for any answer; a later answer finds none and is
/// dropped), and asks to be woken for the next deadline.
template <class Self>
void on_deadline(Self* self) {
  auto& deadlines = self->state.deadlines;
  auto now = self->clock().now();
  for (auto id : deadlines.take_due(now)) // response ids, as CAF files them
    self->eq_impl(id, caf::actor_cast<caf::strong_actor_ptr>(self), nullptr,
                  caf::make_error(caf::sec::request_timeout));
  if (auto at = deadlines.after_tick())
    self->delayed_send(self, *at - now, deadline_atom_v);
}

} // namespace parley
