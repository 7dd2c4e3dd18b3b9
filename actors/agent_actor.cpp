#include "actors/agent_actor.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "actors/errors.hpp"
#include "actors/fallback_replies.hpp"
#include "agent/prompts.hpp"
#include "config/logging.hpp"

namespace parley {

namespace {

using self_pointer = agent_actor::stateful_pointer<agent_state>;
using nlohmann::json;

agent_job* job_of(self_pointer self, std::uint64_t id) {
  auto& jobs = self->state.jobs;
  auto it = jobs.find(id);
  return it == jobs.end() ? nullptr : &it->second;
}

const agent::agent_rules& rules_of(self_pointer self) {
  return *self->state.settings.rules;
}

// -- finishing ----------------------------------------------------------------

void finish(self_pointer self, std::uint64_t id, reply_result result) {
  auto& jobs = self->state.jobs;
  auto it = jobs.find(id);
  if (it == jobs.end())
    return;
  it->second.promise.deliver(std::move(result));
  jobs.erase(it);
}

void fail(self_pointer self, std::uint64_t id, const caf::error& err) {
  auto& jobs = self->state.jobs;
  auto it = jobs.find(id);
  if (it == jobs.end())
    return;
  it->second.promise.deliver(err);
  jobs.erase(it);
}

/// The state an answer leaves behind, carried on the result.
void set_state(reply_result& result, std::string intent,
               std::string pending_slot, std::int32_t streak,
               bool handoff = false) {
  result.has_state = true;
  result.intent = std::move(intent);
  result.pending_slot = std::move(pending_slot);
  result.low_confidence_streak = streak;
  if (handoff)
    result.session_status = "handoff";
}

/// An answer written from the rules' templates. While an LLM is configured
/// but down (or failed this answer) it says so, once per stretch of limited
/// answers; a rules answer while the LLM works (a slot prompt, a handoff, a
/// route the LLM got wrong) is no limited answer.
reply_result rules_answer(self_pointer self, const agent_job& job,
                          std::string text) {
  auto& st = self->state;
  const auto& note = rules_of(self).reply("limited_mode");
  if (st.settings.llm_configured && !job.use_llm && !note.empty()) {
    const auto& history = job.request.history;
    auto last = std::find_if(history.rbegin(), history.rend(),
                             [](const chat_turn& t) {
                               return t.role == "assistant";
                             });
    bool said = last != history.rend()
                && last->text.find(note) != std::string::npos;
    if (!said)
      text = note + "\n\n" + text;
  }
  reply_result result;
  result.text = std::move(text);
  result.source = "fallback";
  result.tokens_used = estimate_tokens(result.text);
  result.finish_reason = "completed";
  return result;
}

void finish_handoff(self_pointer self, std::uint64_t id, std::string text) {
  auto* job = job_of(self, id);
  self->state.log->info("session={} hands off to a human agent ({})",
                        job->request.session_id, job->route.intent);
  auto result = rules_answer(self, *job, std::move(text));
  set_state(result, "ESCALATE_TO_HUMAN", "", 0, true);
  finish(self, id, std::move(result));
}

// -- tools --------------------------------------------------------------------

/// Runs one tool call; `then` gets the outcome (failures included).
template <class Then>
void run_tool(self_pointer self, std::uint64_t id, tool_call_info call,
              Then then) {
  auto& st = self->state;
  auto* job = job_of(self, id);
  tool_invocation inv{job->request.session_id, call.id, call.name,
                      call.arguments};
  auto svc = st.directory->get();
  timed_request(self, st.settings.tool_timeout, svc->tools, tool_atom_v, inv)
    .then([then, call](tool_outcome& out) mutable { then(call, out); },
          [then, call](caf::error& err) mutable {
            tool_outcome out;
            out.name = call.name;
            out.ok = false;
            out.content = json{{"error", err == caf::sec::request_timeout
                                           ? "the tool timed out"
                                           : "the tool is unavailable"}}
                            .dump();
            then(call, out);
          });
}

// -- answering without the LLM -------------------------------------------------

void compose_from_tool(self_pointer self, std::uint64_t id,
                       const tool_outcome& out) {
  auto& st = self->state;
  auto* job = job_of(self, id);
  const auto& route = job->route;
  auto content = json::parse(out.content, nullptr, false);
  if (!out.ok || content.is_discarded()) {
    auto result = rules_answer(self, *job,
                               st.composer->reply("tool_failed"));
    set_state(result, "", "", job->streak);
    finish(self, id, std::move(result));
    return;
  }
  if (out.name == "get_order") {
    auto result = rules_answer(self, *job,
                               st.composer->order_answer(route.intent,
                                                         content));
    // An unknown number: the answer asks for it again.
    bool missing = content.contains("error");
    set_state(result, missing ? route.intent : "",
              missing ? "order_id" : "", job->streak);
    finish(self, id, std::move(result));
    return;
  }
  bool found = false;
  auto text = st.composer->knowledge_answer(content, found);
  auto streak = found ? job->streak : job->request.low_confidence_streak + 1;
  auto limit = rules_of(self).settings.handoff_after_low_confidence;
  if (!found && limit > 0 && streak >= limit) {
    finish_handoff(self, id, rules_of(self).handoff_notice);
    return;
  }
  auto result = rules_answer(self, *job, std::move(text));
  set_state(result, "", "", streak);
  finish(self, id, std::move(result));
}

// -- the LLM ------------------------------------------------------------------

void llm_answer(self_pointer self, std::uint64_t id);

/// Sends one request to the LLM for job `id`. A fallback's answer counts as
/// a failure: the agent then answers from its rules.
template <class OnResult, class OnError>
void llm_call(self_pointer self, std::uint64_t id, reply_request req,
              OnResult on_result, OnError on_error) {
  auto& st = self->state;
  auto* job = job_of(self, id);
  auto call = ++st.next_id;
  job->llm_call = call;
  st.calls.emplace(call, id);
  req.request_id = call;
  auto svc = st.directory->get();
  auto current = [self, id, call] {
    self->state.calls.erase(call);
    auto* job = job_of(self, id);
    return job && job->llm_call == call ? job : nullptr;
  };
  timed_request(self, st.settings.llm_timeout, svc->responder,
                generate_atom_v, std::move(req))
    .then(
      [current, on_result, on_error](reply_result& result) mutable {
        auto* job = current();
        if (!job)
          return;
        job->llm_call = 0;
        if (result.source == "fallback")
          on_error(make_error(errc::responder_failed,
                              "the LLM is unavailable"));
        else
          on_result(result);
      },
      [current, on_error](caf::error& err) mutable {
        auto* job = current();
        if (!job)
          return;
        job->llm_call = 0;
        on_error(err);
      });
}

/// The LLM failed: answer from the rules, unless text has already streamed
/// (then the session keeps it, marked interrupted).
void llm_failed(self_pointer self, std::uint64_t id, const caf::error& err) {
  auto& st = self->state;
  auto* job = job_of(self, id);
  st.log->warn("session={} LLM call failed, answering from the rules: {}",
               job->request.session_id, describe(err));
  if (job->streamed) {
    fail(self, id, err);
    return;
  }
  job->use_llm = false;
  if (job->last_outcome) {
    auto out = *job->last_outcome;
    compose_from_tool(self, id, out);
    return;
  }
  auto result = rules_answer(self, *job, st.composer->reply_for(job->route));
  set_state(result, "", "", job->streak);
  finish(self, id, std::move(result));
}

/// Runs every tool call of an LLM round, then asks the LLM again with the
/// results.
void run_round(self_pointer self, std::uint64_t id, reply_result& answer) {
  auto* job = job_of(self, id);
  job->rounds.push_back(tool_round{answer.text, answer.tool_calls, {}});
  auto round = job->rounds.size() - 1;
  auto pending = std::make_shared<std::size_t>(answer.tool_calls.size());
  job->rounds[round].outputs.resize(answer.tool_calls.size());
  for (std::size_t i = 0; i < answer.tool_calls.size(); ++i) {
    run_tool(self, id, answer.tool_calls[i],
             [self, id, round, i, pending](const tool_call_info& call,
                                           tool_outcome& out) {
               auto* job = job_of(self, id);
               if (!job)
                 return;
               job->rounds[round].outputs[i]
                 = tool_output{call.id, call.name, out.content};
               job->last_outcome = out;
               if (--*pending == 0)
                 llm_answer(self, id);
             });
  }
}

void llm_answer(self_pointer self, std::uint64_t id) {
  auto& st = self->state;
  auto* job = job_of(self, id);
  auto req = job->request;
  req.system_prompt = st.answer_prompt;
  req.tools = st.answer_tools;
  auto max_rounds = static_cast<std::size_t>(
    rules_of(self).settings.max_tool_rounds);
  // The last round may not call tools again: it has to answer.
  req.tool_choice = job->rounds.size() >= max_rounds ? "none" : "auto";
  req.rounds = job->rounds;
  llm_call(
    self, id, std::move(req),
    [self, id, max_rounds](reply_result& answer) {
      auto* job = job_of(self, id);
      if (!answer.tool_calls.empty() && job->rounds.size() < max_rounds) {
        run_round(self, id, answer);
        return;
      }
      answer.source = "llm";
      if (answer.finish_reason == "tool_calls")
        answer.finish_reason = "completed";
      answer.tool_calls.clear();
      set_state(answer, "", "", job->streak);
      finish(self, id, std::move(answer));
    },
    [self, id](const caf::error& err) { llm_failed(self, id, err); });
}

// -- acting on a route --------------------------------------------------------

void act(self_pointer self, std::uint64_t id, agent::route route) {
  auto& st = self->state;
  auto* job = job_of(self, id);
  const auto& rules = rules_of(self);
  job->route = std::move(route);
  job->routed = true;
  const auto& r = job->route;
  st.log->debug("session={} route {} {} ({}, confidence {:.2f})",
                job->request.session_id, r.intent, agent::to_string(r.action),
                r.origin, r.confidence);
  // Doubt counts when it is about the answer the user gets: a doubtful LLM
  // route, or the rules answering on their own. Rules that cannot place a
  // message the LLM then answers freely are no reason to hand off.
  bool doubtful = r.confidence < rules.settings.low_confidence
                  && (r.origin == "llm" || !job->use_llm);
  job->streak = doubtful ? job->request.low_confidence_streak + 1 : 0;
  const auto* intent = rules.find_intent(r.intent);
  if (intent && intent->handoff) {
    finish_handoff(self, id, intent->reply);
    return;
  }
  auto limit = rules.settings.handoff_after_low_confidence;
  if (limit > 0 && job->streak >= limit) {
    finish_handoff(self, id, rules.handoff_notice);
    return;
  }
  switch (r.action) {
    case agent::next_action::ask_for_slot: {
      bool again = job->request.pending_slot == r.slot_to_request;
      auto result = rules_answer(self, *job,
                                 st.composer->slot_prompt(r.slot_to_request,
                                                          again));
      set_state(result, r.intent, r.slot_to_request, job->streak);
      finish(self, id, std::move(result));
      return;
    }
    case agent::next_action::call_tool: {
      tool_call_info call{"call_route_" + std::to_string(id), r.tool_name,
                          r.tool_args.dump()};
      run_tool(self, id, call,
               [self, id](const tool_call_info& call, tool_outcome& out) {
                 auto* job = job_of(self, id);
                 if (!job)
                   return;
                 job->last_outcome = out;
                 if (job->use_llm) {
                   job->rounds.push_back(tool_round{
                     "", {call}, {tool_output{call.id, call.name,
                                              out.content}}});
                   llm_answer(self, id);
                 } else {
                   compose_from_tool(self, id, out);
                 }
               });
      return;
    }
    case agent::next_action::respond:
      if (job->use_llm) {
        llm_answer(self, id);
        return;
      }
      auto result = rules_answer(self, *job, st.composer->reply_for(r));
      set_state(result, "", "", job->streak);
      finish(self, id, std::move(result));
      return;
  }
}

void route_with_rules(self_pointer self, std::uint64_t id) {
  auto* job = job_of(self, id);
  agent::routing_context ctx{job->request.intent, job->request.pending_slot};
  act(self, id, self->state.router->decide(job->request.text, ctx));
}

/// Asks the LLM for a route with a forced `route` tool call; an unusable
/// answer goes to the rule router.
void route_with_llm(self_pointer self, std::uint64_t id) {
  auto* job = job_of(self, id);
  agent::routing_context ctx{job->request.intent, job->request.pending_slot};
  auto req = job->request;
  req.system_prompt = agent::routing_prompt(rules_of(self), ctx);
  req.tools = self->state.route_tools;
  req.tool_choice = "route";
  llm_call(
    self, id, std::move(req),
    [self, id](reply_result& answer) {
      auto& st = self->state;
      auto* job = job_of(self, id);
      for (const auto& call : answer.tool_calls) {
        if (call.name != "route")
          continue;
        std::string why;
        if (auto r = agent::parse_llm_route(call.arguments, rules_of(self),
                                            &why)) {
          act(self, id, std::move(*r));
          return;
        }
        st.log->info("session={} LLM route refused ({}); using the rules",
                     job->request.session_id, why);
        break;
      }
      route_with_rules(self, id);
    },
    [self, id](const caf::error& err) {
      auto& st = self->state;
      auto* job = job_of(self, id);
      st.log->warn("session={} LLM routing failed, using the rules: {}",
                   job->request.session_id, describe(err));
      job->use_llm = false;
      route_with_rules(self, id);
    });
}

} // namespace

agent_actor::behavior_type
agent_fun(self_pointer self, std::shared_ptr<const service_directory> dir,
          agent_actor_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.directory = std::move(dir);
  st.router = std::make_unique<agent::rule_router>(st.settings.rules);
  st.composer = std::make_unique<agent::answer_composer>(st.settings.rules);
  st.catalog.add(agent::get_order_spec());
  st.catalog.add(agent::knowledge_search_spec());
  // Fixed for the actor's life: serialized once, not for every LLM call.
  st.route_tools = json::array({json{{"type", "function"},
                                     {"function",
                                      {{"name", "route"},
                                       {"description",
                                        "Route the customer's latest message"},
                                       {"parameters",
                                        agent::route_tool_parameters()}}}}})
                     .dump();
  st.answer_tools = st.catalog.openai_tools().dump();
  st.answer_prompt = agent::answer_prompt();
  st.log = logger("agent");
  return {
    [self](deadline_atom) {
      on_deadline(self);
    },
    [self](generate_atom, reply_request& request) -> caf::result<reply_result> {
      auto& st = self->state;
      // make_response_promise() takes the sender out of the message.
      auto requester = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto id = ++st.next_id;
      auto& job = st.jobs[id];
      job.requester = std::move(requester);
      job.session_request = request.request_id;
      job.request = std::move(request);
      job.promise = self->make_response_promise<reply_result>();
      job.use_llm = st.directory->get()->llm_active;
      auto promise = job.promise;
      if (job.use_llm && st.settings.llm_routing)
        route_with_llm(self, id);
      else
        route_with_rules(self, id);
      return promise;
    },
    [self](cancel_atom, std::uint64_t session_request) {
      auto& st = self->state;
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      for (auto& [id, job] : st.jobs) {
        if (job.requester != sender || job.session_request != session_request)
          continue;
        if (job.llm_call != 0) {
          st.calls.erase(job.llm_call);
          if (auto responder = st.directory->get()->responder)
            self->send(responder, cancel_atom_v, job.llm_call);
        }
        fail(self, id, make_error(errc::responder_failed, "cancelled"));
        return;
      }
    },
    [self](delta_atom, std::uint64_t call, std::string& text) {
      auto& st = self->state;
      auto i = st.calls.find(call);
      if (i == st.calls.end())
        return;
      auto* job = job_of(self, i->second);
      // Only answer rounds stream to the user; the route call's text (if a
      // model adds any) is not for them.
      if (!job || job->llm_call != call || !job->routed)
        return;
      job->streamed = true;
      if (auto session = caf::actor_cast<session_actor>(job->requester))
        self->send(session, delta_atom_v, job->session_request,
                   std::move(text));
    },
  };
}

} // namespace parley
