#include "actors/llm_openai_actor.hpp"

#include <variant>

#include <caf/send.hpp>

#include "actors/errors.hpp"
#include "config/logging.hpp"
#include "transport/llm_http_client.hpp"
#include "transport/openai_protocol.hpp"

namespace parley {

llm_openai_state::~llm_openai_state() {
  for (auto& [id, p] : pending)
    if (p.handle)
      p.handle->cancel();
}

namespace {

using self_pointer = llm_openai_actor::stateful_pointer<llm_openai_state>;

std::shared_ptr<spdlog::logger> log() {
  return logger("llm");
}

/// What the support assistant is told before the conversation.
constexpr const char* system_prompt
  = "You are a helpful, concise customer-support assistant.";

/// Callbacks of one HTTP request, reporting to the actor by message. They
/// hold only its address: a finished actor is not kept alive by them.
llm::http_request_callbacks callbacks_for(self_pointer self,
                                          const std::string& id) {
  auto addr = self->address();
  auto tell = [addr](auto... xs) {
    if (auto hdl = caf::actor_cast<llm_openai_actor>(addr))
      caf::anon_send(hdl, xs...);
  };
  llm::http_request_callbacks result;
  result.on_status = [tell, id](int status, std::string retry_after) {
    tell(http_head_atom_v, id, static_cast<std::int32_t>(status),
         std::move(retry_after));
  };
  result.on_event = [tell, id](std::string data) {
    tell(sse_atom_v, id, std::move(data));
  };
  result.on_body = [tell, id](std::string body) {
    tell(body_atom_v, id, std::move(body));
  };
  result.on_done = [tell, id](boost::system::error_code ec,
                              std::string reason) {
    auto cancelled = ec == llm::http_client_errc::cancelled;
    tell(done_atom_v, id,
         ec ? (reason.empty() ? ec.message() : std::move(reason))
            : std::string{},
         cancelled);
  };
  return result;
}

/// What the agent adds: the tools it offers, which one it forces, and the
/// earlier rounds of the tool loop as assistant tool calls followed by one
/// `tool` message per result.
void add_tools(llm::openai::chat_request& request, const reply_request& in) {
  using llm::openai::tool_choice_mode;
  if (!in.tools.empty()) {
    auto tools = nlohmann::json::parse(in.tools, nullptr, false);
    if (tools.is_array())
      for (const auto& tool : tools) {
        const auto& fn = tool.contains("function") ? tool["function"] : tool;
        if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string())
          continue;
        request.tools.push_back(llm::openai::tool_definition{
          fn["name"].get<std::string>(), fn.value("description", std::string{}),
          fn.value("parameters", nlohmann::json(nullptr))});
      }
  }
  if (in.tool_choice.empty() || in.tool_choice == "auto")
    request.tool_choice.mode = tool_choice_mode::automatic;
  else if (in.tool_choice == "none")
    request.tool_choice.mode = tool_choice_mode::none;
  else if (in.tool_choice == "required")
    request.tool_choice.mode = tool_choice_mode::required;
  else
    request.tool_choice = llm::openai::tool_choice::forced(in.tool_choice);
  for (const auto& round : in.rounds) {
    llm::openai::chat_message call{"assistant", round.text, std::nullopt, {}};
    for (const auto& c : round.calls)
      call.tool_calls.push_back(llm::tool_call{c.id, c.name,
                                                       c.arguments});
    request.history.push_back(std::move(call));
    for (const auto& out : round.outputs)
      request.history.push_back(
        llm::openai::chat_message{"tool", out.content, out.tool_call_id, {}});
  }
}

void send_request(self_pointer self, const std::string& id) {
  auto& st = self->state;
  auto& p = st.pending.at(id);
  ++p.attempts;
  p.status = 0;
  p.body.clear();
  p.stream_error.clear();
  p.tool_calls = llm::openai::tool_call_assembler{};
  llm::openai::chat_request request;
  request.model = st.config.model;
  request.system_prompt = p.request.system_prompt.empty()
                            ? std::string{system_prompt}
                            : p.request.system_prompt;
  request.history = llm::openai::messages_from(p.request.history);
  request.history.push_back(
    llm::openai::chat_message{"user", p.request.text, std::nullopt, {}});
  add_tools(request, p.request);
  request.stream = st.config.stream;
  request.max_tokens = static_cast<std::int64_t>(st.config.max_tokens);
  request.temperature = st.config.temperature;
  p.handle = st.client->post_stream(
    st.config.endpoint.target_with("/chat/completions"),
    llm::openai::build_chat_request(request), callbacks_for(self, id));
}

/// A request that cannot be answered here: the fallback answers it unless
/// the user has already seen part of an answer (the session keeps that).
void give_up_on(self_pointer self, openai_pending& p, const std::string& why) {
  auto& st = self->state;
  if (p.text.empty() && st.fallback) {
    p.promise.delegate(st.fallback, generate_atom_v, p.request);
    return;
  }
  p.promise.deliver(make_error(errc::responder_failed, why));
}

/// The provider is down (breaker open): every pending request fails and
/// the actor ends, so that the fallback answers and the supervisor probes
/// again later.
void give_up(self_pointer self, const std::string& why) {
  auto& st = self->state;
  log()->warn("{} looks down ({}); the fallback takes over",
              st.config.endpoint.redacted(), why);
  for (auto& [id, p] : st.pending) {
    if (p.handle)
      p.handle->cancel();
    give_up_on(self, p, why);
  }
  st.pending.clear();
  self->quit(make_error(errc::responder_failed, why));
}

void fail(self_pointer self, const std::string& id,
          const llm::failure& what) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  auto& p = i->second;
  st.last_error = what.message;
  log()->warn("request {} to model {} failed ({}, HTTP {}): {}", id,
              st.config.model, llm::to_string(what.kind), what.http_status,
              what.message);
  // A server that cannot be reached is down for everyone: hand over to the
  // fallback at once instead of making this user wait through retries.
  if (what.kind == llm::failure_kind::connection)
    return give_up(self, what.message);
  if (what.counts_toward_circuit) {
    st.breaker->record_failure(std::chrono::steady_clock::now());
    if (st.breaker->state(std::chrono::steady_clock::now())
        != breaker_state::closed)
      return give_up(self, what.message);
  }
  // Text already shown to the user is not thrown away by a retry.
  if (what.retryable && p.text.empty()
      && p.attempts <= static_cast<int>(st.config.max_retries)) {
    auto delay = std::chrono::milliseconds{250} * (1 << (p.attempts - 1));
    if (what.retry_after_seconds)
      delay = std::chrono::seconds{*what.retry_after_seconds};
    self->delayed_send(self, delay, retry_atom_v, id);
    return;
  }
  give_up_on(self, p, what.message);
  st.pending.erase(i);
}

void finish(self_pointer self, const std::string& id) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  auto& p = i->second;
  reply_result result;
  result.source = "llm";
  result.model = p.model.empty() ? st.config.model : p.model;
  if (!p.body.empty()) {
    // Not streamed (LLM_STREAM=false, or a server that ignores stream).
    auto parsed = llm::openai::parse_completion(p.body);
    if (auto* c = std::get_if<llm::openai::completion>(&parsed)) {
      result.text = c->text;
      result.finish_reason = c->finish_reason;
      for (auto& call : c->tool_calls)
        result.tool_calls.push_back(
          tool_call_info{call.id, call.name, call.arguments});
      if (c->usage)
        result.tokens_used = static_cast<std::int32_t>(c->usage->total_tokens);
    } else {
      return fail(self, id,
                  llm::transport_failure(llm::failure_kind::server_error,
                                         "unreadable completion"));
    }
  } else {
    result.text = p.text;
    result.finish_reason = p.finish_reason;
    result.tokens_used = static_cast<std::int32_t>(p.tokens);
    if (!p.tool_calls.empty()) {
      auto calls = p.tool_calls.finish();
      if (auto* bad = std::get_if<llm::malformed>(&calls))
        return fail(self, id,
                    llm::transport_failure(llm::failure_kind::server_error,
                                           "malformed tool call: "
                                             + bad->reason));
      for (auto& call : std::get<std::vector<llm::tool_call>>(calls))
        result.tool_calls.push_back(
          tool_call_info{call.id, call.name, call.arguments});
    }
  }
  if (auto filtered = llm::openai::classify_finish_reason(result.finish_reason))
    return fail(self, id, *filtered);
  if (result.text.empty() && result.tool_calls.empty())
    return fail(self, id,
                llm::transport_failure(llm::failure_kind::server_error,
                                       "the LLM sent an empty answer"));
  if (result.finish_reason.empty() || result.finish_reason == "stop")
    result.finish_reason = "completed";
  st.breaker->record_success(std::chrono::steady_clock::now());
  p.promise.deliver(std::move(result));
  st.pending.erase(i);
}

} // namespace

llm_openai_actor::behavior_type
llm_openai_fun(self_pointer self, llm_config config,
               boost::asio::any_io_executor executor, supervisor_actor parent,
               responder_actor fallback) {
  auto& st = self->state;
  st.config = std::move(config);
  st.parent = std::move(parent);
  st.fallback = std::move(fallback);
  st.breaker.emplace(static_cast<std::uint32_t>(
                       st.config.circuit_failure_threshold),
                     st.config.circuit_open_time);
  llm::http_client_options options;
  options.connect_timeout = st.config.timeout;
  options.request_timeout = st.config.timeout;
  st.client = llm::llm_http_client::make(executor, st.config.endpoint,
                                         st.config.api_key, options);
  self->send(self, probe_atom_v);
  return {
    [self](generate_atom, reply_request& request)
      -> caf::result<reply_result> {
      auto& st = self->state;
      // Before make_response_promise, which takes the sender out of the
      // current message.
      auto requester = caf::actor_cast<session_actor>(self->current_sender());
      auto promise = self->make_response_promise<reply_result>();
      auto id = "o" + std::to_string(++st.next_id);
      openai_pending p;
      p.promise = promise;
      p.requester = std::move(requester);
      p.request = std::move(request);
      st.pending.emplace(id, std::move(p));
      send_request(self, id);
      return promise;
    },
    [self](cancel_atom, std::uint64_t request_id) {
      for (auto& [id, p] : self->state.pending)
        if (p.request.request_id == request_id && p.handle)
          p.handle->cancel(); // OpenAI stops when the client goes away
    },
    [self](http_head_atom, const std::string& id, std::int32_t status,
           std::string& retry_after) {
      auto& st = self->state;
      if (id == st.probe_id) {
        if (status == 200) {
          st.open = true;
          st.last_latency_ms
            = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - st.probe_sent)
                .count();
        } else {
          st.last_error = "GET /models answered HTTP " + std::to_string(status);
        }
        return;
      }
      if (auto i = st.pending.find(id); i != st.pending.end()) {
        i->second.status = status;
        i->second.retry_after = std::move(retry_after);
      }
    },
    [self](sse_atom, const std::string& id, std::string& data) {
      auto& st = self->state;
      auto i = st.pending.find(id);
      if (i == st.pending.end() || i->second.status != 200)
        return;
      auto& p = i->second;
      auto item = llm::openai::parse_stream_data(data);
      if (auto* chunk = std::get_if<llm::openai::stream_chunk>(&item)) {
        if (!chunk->model.empty())
          p.model = chunk->model;
        if (!chunk->finish_reason.empty())
          p.finish_reason = chunk->finish_reason;
        if (chunk->usage)
          p.tokens = chunk->usage->total_tokens;
        if (!chunk->tool_calls.empty())
          p.tool_calls.add(*chunk);
        if (!chunk->text.empty()) {
          p.text += chunk->text;
          self->send(p.requester, delta_atom_v, p.request.request_id,
                     chunk->text);
        }
      } else if (auto* err = std::get_if<llm::openai::api_error>(&item)) {
        p.stream_error = err->message;
      } else if (auto* bad = std::get_if<llm::malformed>(&item)) {
        // Text the provider meant may be in it: the answer is incomplete.
        if (p.stream_error.empty())
          p.stream_error = "unreadable stream event: " + bad->reason;
      }
    },
    [self](body_atom, const std::string& id, std::string& body) {
      auto& st = self->state;
      if (auto i = st.pending.find(id); i != st.pending.end())
        i->second.body = std::move(body);
    },
    [self](done_atom, const std::string& id, std::string& error,
           bool cancelled) {
      auto& st = self->state;
      if (id == st.probe_id) {
        st.probe_id.clear();
        if (st.open && error.empty()) {
          log()->info("{} answers (model {})", st.config.endpoint.redacted(),
                      st.config.model);
          self->send(st.parent, llm_open_atom_v);
        } else {
          give_up(self, error.empty() ? st.last_error : error);
        }
        return;
      }
      auto i = st.pending.find(id);
      if (i == st.pending.end())
        return;
      auto& p = i->second;
      if (cancelled) {
        reply_result result;
        result.text = p.text;
        result.source = "llm";
        result.finish_reason = "cancelled";
        p.promise.deliver(std::move(result));
        st.pending.erase(i);
        return;
      }
      if (!error.empty())
        return fail(self, id,
                    llm::transport_failure(
                      error.find("timeout") != std::string::npos
                        ? llm::failure_kind::timeout
                        : llm::failure_kind::connection,
                      error));
      if (p.status != 200)
        return fail(self, id, llm::openai::classify_http_error(
                                p.status, p.body, p.retry_after));
      if (!p.stream_error.empty())
        return fail(self, id,
                    llm::transport_failure(llm::failure_kind::server_error,
                                           p.stream_error));
      finish(self, id);
    },
    [self](retry_atom, const std::string& id) {
      if (self->state.pending.count(id) > 0)
        send_request(self, id);
    },
    [self](probe_atom) {
      auto& st = self->state;
      st.probe_id = "probe-" + std::to_string(++st.next_id);
      st.probe_sent = std::chrono::steady_clock::now();
      st.client->get(st.config.endpoint.target_with("/models"),
                     callbacks_for(self, st.probe_id));
    },
    [self](status_atom) -> llm_status {
      auto& st = self->state;
      llm_status result;
      result.provider = "openai";
      result.state = st.open ? "healthy" : "connecting";
      result.connected = st.open;
      result.url = st.config.endpoint.redacted();
      result.model = st.config.model;
      result.last_error = st.last_error;
      result.last_latency_ms = st.last_latency_ms;
      result.circuit = to_string(
        st.breaker->state(std::chrono::steady_clock::now()));
      return result;
    },
  };
}

} // namespace parley
