#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"
#include "actors/timed_request.hpp"
#include "agent/agent_rules.hpp"
#include "agent/answer_composer.hpp"
#include "agent/route.hpp"
#include "agent/rule_router.hpp"
#include "agent/tool_catalog.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace parley {

struct agent_actor_settings {
  std::shared_ptr<const agent::agent_rules> rules;
  /// An LLM is configured (it may be down): answers without it then say
  /// that the assistant is in limited mode.
  bool llm_configured = false;
  /// Route with the LLM (a forced `route` tool call) while it is connected;
  /// false: the rules route and the LLM only phrases answers (AGENT_ROUTER).
  bool llm_routing = true;
  /// The longest the agent waits for one LLM call or one tool call.
  caf::timespan llm_timeout = std::chrono::seconds{45};
  caf::timespan tool_timeout = std::chrono::seconds{10};
};

/// One answer in the making.
struct agent_job {
  caf::actor_addr requester;        // the session: gets the deltas
  std::uint64_t session_request = 0; // the session's id for this answer
  reply_request request;
  caf::typed_response_promise<reply_result> promise;
  agent::route route;
  bool routed = false;
  bool use_llm = false;   // the LLM routes or phrases this answer
  std::uint64_t llm_call = 0; // the LLM request in flight, 0: none
  bool streamed = false;  // text of this answer reached the session
  std::vector<tool_round> rounds;
  std::optional<tool_outcome> last_outcome; // the rules' tool result
  std::int32_t streak = 0;
};

struct agent_state {
  static inline const char* name = "agent";

  agent_actor_settings settings;
  std::shared_ptr<const service_directory> directory;
  std::unique_ptr<agent::rule_router> router;
  std::unique_ptr<agent::answer_composer> composer;
  agent::tool_catalog catalog;
  /// The `tools` of the routing call and of the answer rounds, and the
  /// answer rounds' system prompt, as sent.
  std::string route_tools;
  std::string answer_tools;
  std::string answer_prompt;
  std::shared_ptr<spdlog::logger> log;
  std::map<std::uint64_t, agent_job> jobs; // by the agent's own id
  /// The job each LLM call in flight belongs to: streamed pieces name the
  /// call.
  std::unordered_map<std::uint64_t, std::uint64_t> calls;
  std::uint64_t next_id = 0;
  request_deadlines deadlines; // of its requests (timed_request.hpp)
};

/// The support agent: for each user message it picks a route (with the LLM
/// through a forced `route` tool call while one is connected, otherwise, or
/// when the LLM's route is unusable, with the rule router), then asks for a
/// missing detail, calls a tool, hands off to a human, or answers. With an
/// LLM the answer comes from a tool loop of at most max_tool_rounds rounds,
/// streamed through to the session; without one it is written from the
/// rules file's templates. Every answer carries the conversation state the
/// session stores with it.
agent_actor::behavior_type
agent_fun(agent_actor::stateful_pointer<agent_state> self,
          std::shared_ptr<const service_directory> directory,
          agent_actor_settings settings);

} // namespace parley
