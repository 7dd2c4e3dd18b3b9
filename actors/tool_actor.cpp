#include "actors/tool_actor.hpp"

#include <functional>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "actors/errors.hpp"
#include "config/logging.hpp"

namespace parley {

namespace {

using self_pointer = tool_actor::stateful_pointer<tool_state>;
using nlohmann::json;
using outcome_promise = caf::typed_response_promise<tool_outcome>;
using clock_type = std::chrono::steady_clock;

std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error_json(const std::string& message) {
  return json{{"error", message}};
}

/// What a failed request tells the LLM: short, and no internals.
std::string reason_of(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return "the tool timed out";
  if (is(err, errc::storage_unavailable))
    return "the order database is unavailable right now";
  return "the tool failed";
}

/// Delivers the outcome and records the call as an event of its session.
void finish(self_pointer self, const tool_invocation& call,
            clock_type::time_point started, bool ok, const json& content,
            outcome_promise promise) {
  auto& st = self->state;
  tool_outcome out;
  out.name = call.name;
  out.ok = ok;
  out.content = dump(content);
  out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      clock_type::now() - started)
                      .count();
  st.log->info("session={} tool {} {} in {} ms", call.session_id, call.name,
               ok ? "answered" : "failed", out.duration_ms);
  if (call.session_id != 0) {
    if (auto svc = st.directory->get(); svc->persistence) {
      auto args = json::parse(call.arguments, nullptr, false);
      json payload{{"name", call.name},
                   {"call_id", call.call_id},
                   {"arguments", args.is_discarded() ? json(call.arguments)
                                                     : args},
                   {"result", content},
                   {"ok", ok},
                   {"duration_ms", out.duration_ms}};
      self->send(svc->persistence, event_atom_v,
                 storage::new_event{call.session_id, "tool_call",
                                    dump(payload)});
    }
  }
  promise.deliver(std::move(out));
}

json order_json(const storage::order_record& order) {
  auto items = json::parse(order.items, nullptr, false);
  return json{{"order_id", order.id},
              {"status", order.status},
              {"carrier", order.carrier.empty() ? json(nullptr)
                                                : json(order.carrier)},
              {"tracking", order.tracking.empty() ? json(nullptr)
                                                  : json(order.tracking)},
              {"items", items.is_discarded() ? json::array() : items},
              {"updated_at", order.updated_at}};
}

void get_order(self_pointer self, tool_invocation call, json args,
               clock_type::time_point started, outcome_promise promise) {
  auto& st = self->state;
  auto id = args["order_id"].get<std::string>();
  auto svc = st.directory->get();
  timed_request(self, st.settings.call_timeout, svc->persistence,
                orders_atom_v, find_atom_v, id)
    .then(
      [self, call, started, promise, id](storage::order_record& order) {
        // An unknown order is an answer, not a failure.
        if (order.id.empty())
          finish(self, call, started, true,
                 json{{"error", "not found"}, {"order_id", id}}, promise);
        else
          finish(self, call, started, true, order_json(order), promise);
      },
      [self, call, started, promise](caf::error& err) {
        finish(self, call, started, false, error_json(reason_of(err)),
               promise);
      });
}

void knowledge_search(self_pointer self, tool_invocation call, json args,
                      clock_type::time_point started,
                      outcome_promise promise) {
  auto& st = self->state;
  auto query = args["query"].get<std::string>();
  auto top_k = args.value("top_k", agent::default_top_k);
  auto svc = st.directory->get();
  timed_request(self, st.settings.call_timeout, svc->knowledge,
                search_atom_v, query, static_cast<std::int32_t>(top_k))
    .then(
      [self, call, started, promise](std::string& result) {
        auto doc = json::parse(result, nullptr, false);
        finish(self, call, started, !doc.is_discarded(),
               doc.is_discarded() ? error_json("bad search result") : doc,
               promise);
      },
      [self, call, started, promise](caf::error& err) {
        finish(self, call, started, false, error_json(reason_of(err)),
               promise);
      });
}

} // namespace

tool_actor::behavior_type
tool_fun(self_pointer self, std::shared_ptr<const service_directory> directory,
         tool_settings settings) {
  auto& st = self->state;
  st.settings = settings;
  st.directory = std::move(directory);
  st.log = logger("tools");
  st.catalog.add(agent::get_order_spec());
  st.catalog.add(agent::knowledge_search_spec());
  return {
    [self](deadline_atom) {
      on_deadline(self);
    },
    [self](tool_atom, tool_invocation& call) -> caf::result<tool_outcome> {
      auto& st = self->state;
      auto promise = self->make_response_promise<tool_outcome>();
      auto started = clock_type::now();
      auto args = json::parse(call.arguments, nullptr, false);
      if (args.is_discarded()) {
        finish(self, call, started, false,
               error_json("the arguments are not valid JSON"), promise);
        return promise;
      }
      if (auto problem = st.catalog.check(call.name, args)) {
        finish(self, call, started, false,
               error_json("invalid arguments: " + *problem), promise);
        return promise;
      }
      if (call.name == "get_order")
        get_order(self, std::move(call), std::move(args), started, promise);
      else
        knowledge_search(self, std::move(call), std::move(args), started,
                         promise);
      return promise;
    },
  };
}

} // namespace parley
