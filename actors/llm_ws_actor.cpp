#include "actors/llm_ws_actor.hpp"

#include <variant>

#include <caf/send.hpp>

#include "actors/errors.hpp"
#include "config/logging.hpp"
#include "transport/custom_llm_protocol.hpp"
#include "transport/llm_ws_client.hpp"

namespace parley {

llm_ws_state::~llm_ws_state() {
  if (client)
    client->close();
}

namespace {

using self_pointer = llm_ws_actor::stateful_pointer<llm_ws_state>;

std::shared_ptr<spdlog::logger> log() {
  return logger("llm");
}

llm::custom::generation_settings settings_of(const llm_config& config) {
  llm::custom::generation_settings result;
  result.max_tokens = static_cast<std::int64_t>(config.max_tokens);
  result.temperature = config.temperature;
  result.stream = config.stream;
  return result;
}

/// A request the LLM did not answer: the fallback answers it if the user
/// has seen nothing of it yet; otherwise the session keeps what streamed.
void give_up_on(self_pointer self, llm_pending& p, const std::string& why) {
  auto& st = self->state;
  st.breaker->record_failure(std::chrono::steady_clock::now());
  if (p.text.empty() && st.fallback) {
    p.promise.delegate(st.fallback, generate_atom_v, std::move(p.request));
    return;
  }
  p.promise.deliver(make_error(errc::responder_failed, why));
}

/// More distinct tools arrays than the agent ever sends; a bound all the
/// same.
constexpr std::size_t max_checked_tools = 16;

/// Sends `p`'s request under the wire id `id` and arms its timeout.
void send_wire(self_pointer self, const std::string& id,
               const reply_request& request) {
  auto& st = self->state;
  llm::custom::request wire;
  wire.id = id;
  wire.message = request.text;
  wire.model = st.config.model;
  wire.advanced_ai = st.config.advanced_ai;
  wire.session_context = {{"session_id", request.session_id},
                          {"intent", request.intent},
                          {"pending_slot", request.pending_slot}};
  wire.settings = settings_of(st.config);
  // The agent's tools and the results of earlier rounds.
  // The agent's tools go out as the agent serialized them, not parsed into
  // a tree only to be dumped again. They are checked once: the agent sends
  // the same few arrays over and over.
  if (!request.tools.empty() && request.tools.front() == '[') {
    if (st.checked_tools.count(request.tools) > 0) {
      wire.tools = request.tools;
    } else if (nlohmann::json::accept(request.tools)) {
      if (st.checked_tools.size() >= max_checked_tools)
        st.checked_tools.clear();
      st.checked_tools.insert(request.tools);
      wire.tools = request.tools;
    }
  }
  wire.tool_choice = request.tool_choice;
  wire.system_prompt = request.system_prompt;
  for (const auto& round : request.rounds)
    for (const auto& out : round.outputs)
      wire.tool_results.push_back(
        llm::custom::tool_result{out.tool_call_id, out.name, out.content});
  st.client->send(llm::custom::build_request(wire));
  auto now = self->clock().now();
  if (auto at = st.deadlines.add(id, now + st.config.timeout))
    self->delayed_send(self, *at - now, expire_atom_v);
}

std::string next_wire_id(self_pointer self) {
  return "r" + std::to_string(++self->state.next_id);
}

/// Too many requests failed in a row: treat the LLM as down, like a lost
/// connection, so that the fallback takes over and the supervisor probes
/// again with backoff.
void check_breaker(self_pointer self) {
  auto& st = self->state;
  if (st.breaker->state(std::chrono::steady_clock::now())
      == breaker_state::closed)
    return;
  auto why = "the LLM failed " + std::to_string(st.breaker->consecutive_failures())
             + " requests in a row";
  log()->warn("{}; the fallback takes over", why);
  auto hand_over = [&](llm_pending& p) {
    if (p.text.empty() && st.fallback)
      p.promise.delegate(st.fallback, generate_atom_v, std::move(p.request));
    else
      p.promise.deliver(make_error(errc::responder_failed, why));
  };
  for (auto& [id, p] : st.pending)
    hand_over(p);
  st.pending.clear();
  for (auto& p : st.waiting)
    hand_over(p);
  st.waiting.clear();
  self->quit(make_error(errc::responder_failed, why));
}

void fail_all(self_pointer self, const std::string& why) {
  auto& st = self->state;
  for (auto& [id, p] : st.pending)
    give_up_on(self, p, why);
  st.pending.clear();
  for (auto& p : st.waiting)
    give_up_on(self, p, why);
  st.waiting.clear();
}

/// Sends `p` now if fewer than LLM_MAX_IN_FLIGHT requests are on the wire,
/// else queues it.
void dispatch(self_pointer self, llm_pending p) {
  auto& st = self->state;
  if (st.pending.size() >= st.config.max_in_flight) {
    st.waiting.push_back(std::move(p));
    return;
  }
  auto id = next_wire_id(self);
  send_wire(self, id, p.request);
  st.pending.emplace(id, std::move(p));
}

/// A request left the wire: the next waiting one takes its place.
void send_waiting(self_pointer self) {
  auto& st = self->state;
  while (!st.waiting.empty()
         && st.pending.size() < st.config.max_in_flight) {
    auto p = std::move(st.waiting.front());
    st.waiting.pop_front();
    dispatch(self, std::move(p));
  }
}

void on_frame(self_pointer self, const std::string& text) {
  auto& st = self->state;
  auto frame = llm::custom::parse_frame(text);
  if (auto* d = std::get_if<llm::custom::delta>(&frame)) {
    auto i = st.pending.find(d->id);
    if (i == st.pending.end())
      return; // cancelled or timed out
    i->second.text += d->text;
    self->send(i->second.requester, delta_atom_v,
               i->second.request.request_id, std::move(d->text));
  } else if (auto* r = std::get_if<llm::custom::final_reply>(&frame)) {
    if (r->id == st.health_id) {
      st.last_latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - st.health_sent)
                             .count();
      st.health_id.clear();
      return;
    }
    auto i = st.pending.find(r->id);
    if (i == st.pending.end())
      return;
    reply_result result;
    result.text = std::move(r->response);
    result.source = "llm";
    result.tokens_used = static_cast<std::int32_t>(r->tokens_used);
    result.model = r->model.empty() ? st.config.model : r->model;
    result.finish_reason = r->finish_reason;
    for (auto& call : r->tool_calls)
      result.tool_calls.push_back(
        tool_call_info{call.id, call.name, call.arguments});
    i->second.promise.deliver(std::move(result));
    st.deadlines.settle(i->first);
    st.pending.erase(i);
    st.breaker->record_success(std::chrono::steady_clock::now());
    send_waiting(self);
  } else if (auto* e = std::get_if<llm::custom::error_reply>(&frame)) {
    st.last_error = e->message;
    log()->warn("the LLM refused request {}: {}", e->id, e->message);
    auto i = st.pending.find(e->id);
    if (i == st.pending.end())
      return;
    auto p = std::move(i->second);
    st.deadlines.settle(i->first);
    st.pending.erase(i);
    // A refusal is quick: worth another try while the user saw nothing.
    if (p.text.empty()
        && p.attempts <= static_cast<int>(st.config.max_retries)) {
      ++p.attempts;
      auto id = next_wire_id(self);
      send_wire(self, id, p.request);
      st.pending.emplace(id, std::move(p));
      return;
    }
    give_up_on(self, p, e->message);
    check_breaker(self);
    send_waiting(self);
  } else {
    const auto& bad = std::get<llm::malformed>(frame);
    auto why = "unreadable frame from the LLM: " + bad.reason;
    log()->warn("{}", why);
    st.last_error = why;
    // A frame about a request in flight fails that request now, instead of
    // leaving the user waiting for LLM_TIMEOUT: its answer cannot come.
    auto i = bad.id.empty() ? st.pending.end() : st.pending.find(bad.id);
    if (i == st.pending.end())
      return;
    auto p = std::move(i->second);
    st.deadlines.settle(i->first);
    st.pending.erase(i);
    give_up_on(self, p, why);
    check_breaker(self);
    send_waiting(self);
  }
}

} // namespace

llm_ws_actor::behavior_type llm_ws_fun(self_pointer self, llm_config config,
                                    boost::asio::any_io_executor executor,
                                    supervisor_actor parent,
                                    responder_actor fallback) {
  auto& st = self->state;
  st.config = std::move(config);
  st.parent = std::move(parent);
  st.fallback = std::move(fallback);
  st.breaker.emplace(static_cast<std::uint32_t>(
                       st.config.circuit_failure_threshold),
                     st.config.circuit_open_time);
  // The client calls back on an io thread; it holds only the address, so
  // the connection never keeps a finished actor alive.
  auto addr = self->address();
  auto tell = [addr](auto... xs) {
    if (auto hdl = caf::actor_cast<llm_ws_actor>(addr))
      caf::anon_send(hdl, xs...);
  };
  llm::ws_client_callbacks callbacks;
  callbacks.on_open = [tell] { tell(llm_open_atom_v); };
  callbacks.on_frame = [tell](std::string text) {
    tell(llm_frame_atom_v, std::move(text));
  };
  callbacks.on_close = [tell](boost::system::error_code ec,
                              std::string reason) {
    tell(llm_closed_atom_v,
         reason.empty() ? ec.message() : std::move(reason));
  };
  llm::ws_client_options options;
  options.handshake_timeout = st.config.timeout;
  st.client = llm::llm_ws_client::make(executor, st.config.endpoint,
                                       st.config.api_key, options,
                                       std::move(callbacks));
  st.client->start();
  log()->info("connecting to {}", st.config.endpoint.redacted());
  return {
    [self](generate_atom, reply_request& request)
      -> caf::result<reply_result> {
      // Before make_response_promise, which takes the sender out of the
      // current message.
      auto requester = caf::actor_cast<session_actor>(self->current_sender());
      auto promise = self->make_response_promise<reply_result>();
      dispatch(self, llm_pending{promise, std::move(requester),
                                 std::move(request), {}, 1});
      return promise;
    },
    [self](cancel_atom, std::uint64_t request_id) {
      auto& st = self->state;
      for (auto& [id, p] : st.pending)
        if (p.request.request_id == request_id)
          st.client->send(llm::custom::build_cancel(id));
      // One still waiting never reaches the LLM.
      for (auto i = st.waiting.begin(); i != st.waiting.end(); ++i)
        if (i->request.request_id == request_id) {
          i->promise.deliver(make_error(errc::responder_failed, "cancelled"));
          st.waiting.erase(i);
          break;
        }
    },
    [self](llm_open_atom) {
      auto& st = self->state;
      st.open = true;
      log()->info("connected to {}", st.config.endpoint.redacted());
      self->send(st.parent, llm_open_atom_v);
      self->send(self, probe_atom_v);
    },
    [self](llm_frame_atom, std::string& text) { on_frame(self, text); },
    [self](llm_closed_atom, std::string& reason) {
      auto& st = self->state;
      st.last_error = reason;
      st.client = nullptr; // it is done and calls nothing any more
      log()->warn("LLM connection ended: {}", reason);
      fail_all(self, "the LLM connection ended: " + reason);
      self->quit(make_error(errc::responder_failed, reason));
    },
    [self](expire_atom) {
      auto& st = self->state;
      auto now = self->clock().now();
      for (auto& id : st.deadlines.take_due(now)) {
        auto i = st.pending.find(id);
        if (i == st.pending.end())
          continue; // answered, or failed with the connection
        // No retry here: another LLM_TIMEOUT would keep the user waiting.
        log()->warn("the LLM did not answer request {} in time", id);
        st.last_error = "the LLM did not answer a request within LLM_TIMEOUT";
        st.client->send(llm::custom::build_cancel(id));
        give_up_on(self, i->second, "the LLM did not answer in time");
        st.pending.erase(i);
        check_breaker(self);
      }
      if (auto at = st.deadlines.after_tick())
        self->delayed_send(self, *at - now, expire_atom_v);
      send_waiting(self);
    },
    [self](probe_atom) {
      // A health check on the same connection, then again in a while.
      auto& st = self->state;
      if (!st.open)
        return;
      if (!st.health_id.empty()) {
        log()->warn("the LLM did not answer the last health check");
        st.last_latency_ms = -1;
      }
      st.health_id = "health-" + std::to_string(++st.next_id);
      st.health_sent = std::chrono::steady_clock::now();
      st.client->send(llm::custom::build_health_request(
        st.health_id, st.config.model, settings_of(st.config)));
      self->delayed_send(self, st.config.health_interval, probe_atom_v);
    },
    [self](status_atom) -> llm_status {
      auto& st = self->state;
      llm_status result;
      result.provider = "websocket";
      result.state = st.open ? "healthy" : "connecting";
      result.connected = st.open;
      result.url = st.config.endpoint.redacted();
      result.model = st.config.model;
      result.last_error = st.last_error;
      result.last_latency_ms = st.last_latency_ms;
      result.circuit = to_string(
        st.breaker->state(std::chrono::steady_clock::now()));
      // Health asked: check the connection now as well.
      if (st.open && st.health_id.empty()) {
        st.health_id = "health-" + std::to_string(++st.next_id);
        st.health_sent = std::chrono::steady_clock::now();
        st.client->send(llm::custom::build_health_request(
          st.health_id, st.config.model, settings_of(st.config)));
      }
      return result;
    },
  };
}

} // namespace parley
