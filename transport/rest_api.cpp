#include "transport/rest_api.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

#include "actors/errors.hpp"
#include "actors/resume_token.hpp"
#include "actors/session_title.hpp"
#include "config/logging.hpp"
#include "storage/chat_repository.hpp"
#include "transport/cluster_json.hpp"
#include "transport/rest_json.hpp"

namespace parley::transport {

namespace {

using nlohmann::json;

rest_response ok(json data, unsigned status = 200) {
  return {status, rest::success_body(std::move(data))};
}

rest_response failure(unsigned status, const std::string& message) {
  return {status, rest::error_body(message)};
}

/// The text a caf::error carries for people, without the category prefix.
std::string context_of(const caf::error& err) {
  auto text = context_text(err);
  return text.empty() ? describe(err) : text;
}

/// Maps an actor's error to an HTTP answer. Bad input never gets here as a
/// 500: it is rejected before the database is asked.
rest_response from_error(const caf::error& err) {
  if (is(err, errc::not_found))
    return failure(404, context_of(err));
  if (is(err, errc::storage_constraint) || is(err, errc::conflict))
    return failure(409, context_of(err));
  if (is(err, errc::storage_unavailable))
    return failure(503, "the database is unavailable; try again shortly");
  if (is(err, errc::shutting_down))
    return failure(503, context_of(err));
  if (is(err, errc::rate_limited) || is(err, errc::too_many_pending)) {
    auto res = failure(429, context_of(err));
    res.retry_after = retry_after(err);
    return res;
  }
  if (err == caf::sec::request_timeout)
    return failure(504, "the server did not answer in time");
  logger("transport")->error("REST request failed: {}", describe(err));
  return failure(500, "internal error");
}

/// Asks `actor` and formats its answer; a service that is not running
/// (no agent configured) is a 503.
template <class Result, class Handle, class Format, class... Ts>
void ask(server_context& ctx, Handle actor, rest_reply reply, Format format,
         Ts... xs) {
  if (!actor)
    return reply(failure(503, "this service is not running"));
  auto timeout = ctx.limits.actor_timeout;
  ask_with(ctx, [=](asker_pointer self) {
    timed_request(self, timeout, actor, xs...)
      .then([=](Result& value) { reply(format(value)); },
            [=](caf::error& err) { reply(from_error(err)); });
  });
}

/// Asks the persistence actor and formats its answer.
template <class Result, class Format, class... Ts>
void ask_store(server_context& ctx, rest_reply reply, Format format,
               Ts... xs) {
  ask<Result>(ctx, ctx.directory->get()->persistence, std::move(reply),
              std::move(format), xs...);
}

/// A JSON document an actor answered with as text.
rest_response json_text(const std::string& text) {
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded())
    return failure(500, "internal error");
  return ok(std::move(doc));
}

json exchange_json(const chat_exchange& exchange) {
  const auto& q = exchange.message;
  const auto& a = exchange.reply;
  return {
    {"id", q.id},
    {"session_id", q.session_id},
    {"user_id", q.user_id == 0 ? json(nullptr) : json(q.user_id)},
    {"message", q.content},
    {"response", a.content},
    {"response_id", a.id},
    {"message_type", q.message_type},
    {"tokens_used", a.tokens_used},
    {"response_time", a.response_time},
    {"source", a.source},
    {"created_at", q.created_at},
  };
}

/// A message that waits for a human agent has no answer yet.
json exchange_or_waiting_json(const chat_exchange& exchange) {
  auto data = exchange_json(exchange);
  if (exchange.reply.id == 0) {
    data["response"] = nullptr;
    data["response_id"] = nullptr;
    data["source"] = nullptr;
  }
  data["waiting_for_agent"] = exchange.message.message_type == "to_agent";
  return data;
}

/// The one answer for "no such session" and "not your session", so that a
/// caller without the token cannot tell which (as on the WebSocket).
rest_response not_your_session() {
  return failure(403, "unknown session or wrong resume token");
}

/// POST /api/chat/send: user by email, session (new unless given), then the
/// session actor's pipeline, then the advanced-AI flag for the answer. An
/// existing session takes messages only with its resume token, which its
/// actor checks once the session is loaded.
void chat_send(server_context& ctx, rest::chat_send request,
               rest_reply reply) {
  if (request.session_id != 0 && request.resume_token.empty())
    return reply(not_your_session()); // no need to ask anyone
  auto svc = ctx.directory->get();
  auto timeout = ctx.limits.actor_timeout;
  // Answering may take a responder's time on top of the commits.
  auto chat_timeout = timeout + std::chrono::seconds{60};
  ask_with(ctx, [=](asker_pointer self) {
    auto respond = [=](chat_exchange exchange, std::int64_t user_id,
                       std::string token) {
      timed_request(self, timeout, svc->persistence, settings_atom_v,
                    find_atom_v, std::string{"enable_advanced_ai"})
        .then(
          [=](storage::setting_record& setting) {
            json data{{"message", exchange_or_waiting_json(exchange)},
                      {"session_id", exchange.message.session_id},
                      {"user_id", user_id},
                      {"advanced_ai_enabled", setting.value == "true"}};
            if (!token.empty())
              data["resume_token"] = token;
            reply(ok(std::move(data), 201));
          },
          [=](caf::error& err) {
            // The exchange is stored and answered; the flag is decoration.
            logger("transport")->warn("enable_advanced_ai unreadable: {}",
                                      describe(err));
            json data{{"message", exchange_or_waiting_json(exchange)},
                      {"session_id", exchange.message.session_id},
                      {"user_id", user_id},
                      {"advanced_ai_enabled", false}};
            if (!token.empty())
              data["resume_token"] = token;
            reply(ok(std::move(data), 201));
          });
    };
    // `token` proves ownership to the session; `new_token` (only for a
    // session made here) goes back to the caller.
    auto send_to_session = [=](std::int64_t session_id, std::int64_t user_id,
                               std::string token, std::string new_token) {
      chat_request chat{session_id,           user_id,
                        request.message,      request.client_id,
                        request.message_type, std::move(token)};
      timed_request(self, chat_timeout, svc->registry, chat_atom_v,
                    std::move(chat))
        .then(
          [=](chat_exchange& exchange) {
            respond(std::move(exchange), user_id, new_token);
          },
          [=](caf::error& err) {
            if (is(err, errc::not_found) || is(err, errc::invalid_resume))
              reply(not_your_session());
            else
              reply(from_error(err));
          });
    };
    timed_request(self, timeout, svc->persistence, users_atom_v,
                  resolve_atom_v, request.user_email, request.user_name)
      .then(
        [=](storage::user_record& user) {
          if (request.session_id != 0) {
            send_to_session(request.session_id, user.id,
                            request.resume_token, {});
            return;
          }
          auto token = make_resume_token();
          storage::new_session session;
          session.user_id = user.id;
          session.title = title_from_message(request.message);
          session.channel = "rest";
          session.resume_token_hash = hash_resume_token(token);
          auto user_id = user.id;
          timed_request(self, timeout, svc->persistence, create_atom_v,
                        std::move(session))
            .then(
              [=](storage::session_record& created) {
                send_to_session(created.id, user_id, token, token);
              },
              [=](caf::error& err) { reply(from_error(err)); });
        },
        [=](caf::error& err) { reply(from_error(err)); });
  });
}

/// POST /api/sessions: the user must exist; answers with the new session
/// and its resume token.
void create_session(server_context& ctx, rest::session_create request,
                    rest_reply reply) {
  auto svc = ctx.directory->get();
  auto timeout = ctx.limits.actor_timeout;
  ask_with(ctx, [=](asker_pointer self) {
    timed_request(self, timeout, svc->persistence, users_atom_v, find_atom_v,
                  request.user_id)
      .then(
        [=](storage::user_record&) {
          auto token = make_resume_token();
          storage::new_session session;
          session.user_id = request.user_id;
          session.title = request.title;
          session.channel = "rest";
          session.resume_token_hash = hash_resume_token(token);
          timed_request(self, timeout, svc->persistence, create_atom_v,
                        std::move(session))
            .then(
              [=](storage::session_record& created) {
                auto data = rest::session_json(
                  storage::session_listing{created, 0});
                data["resume_token"] = token;
                reply(ok(std::move(data), 201));
              },
              [=](caf::error& err) { reply(from_error(err)); });
        },
        [=](caf::error& err) { reply(from_error(err)); });
  });
}

/// PUT /api/sessions/{id}. A new status for a handed-off session goes to
/// the session's actor first: it ends the handoff (telling the customer;
/// the live actor learns it, as with a release). Then the row is updated
/// and answered with. Other sessions need no actor.
void update_session(server_context& ctx, std::int64_t id,
                    storage::session_patch patch, rest_reply reply) {
  auto svc = ctx.directory->get();
  auto timeout = ctx.limits.actor_timeout;
  ask_with(ctx, [=](asker_pointer self) {
    auto update = [=] {
      timed_request(self, timeout, svc->persistence, sessions_atom_v,
                    update_atom_v, id, patch)
        .then(
          [=](storage::session_listing& listing) {
            reply(ok(rest::session_json(listing)));
          },
          [=](caf::error& err) { reply(from_error(err)); });
    };
    if (!patch.set_status)
      return update();
    timed_request(self, timeout, svc->persistence, sessions_atom_v,
                  find_atom_v, id, false)
      .then(
        [=](storage::session_details& found) {
          if (found.listing.session.status != "handoff")
            return update();
          timed_request(self, timeout, svc->registry, status_atom_v, id,
                        patch.status)
            .then([=](storage::message_record&) { update(); },
                  [=](caf::error& err) { reply(from_error(err)); });
        },
        [=](caf::error& err) { reply(from_error(err)); });
  });
}

/// GET /api/cluster: this node and, on a gateway, its workers as it sees
/// them (docs/deployment.md).
void cluster_view(server_context& ctx, rest_reply reply) {
  auto supervisor = ctx.supervisor;
  auto timeout = ctx.limits.actor_timeout;
  ask_with(ctx, [=](asker_pointer self) {
    timed_request(self, timeout, supervisor, health_atom_v)
      .then(
        [=](health_report& report) {
          reply({200, rest::dump(json{
                        {"role", report.role},
                        {"nodes", cluster_nodes_json(report, true)},
                        {"timestamp", storage::utc_timestamp()},
                      })});
        },
        [=](caf::error& err) { reply(from_error(err)); });
  });
}

/// GET /api/llm/health, from the supervisor's view of the LLM connection:
/// "healthy" (connected), "degraded" (connecting; the fallback answers),
/// "down" (gone; the fallback answers), or "fallback" (no LLM configured).
void llm_health(server_context& ctx, rest_reply reply) {
  auto supervisor = ctx.supervisor;
  auto timeout = ctx.limits.actor_timeout;
  ask_with(ctx, [=](asker_pointer self) {
    timed_request(self, timeout, supervisor, health_atom_v)
      .then(
        [=](health_report& report) {
          const auto& llm = report.llm;
          auto none = llm.provider == "none";
          auto status = llm.state == "connecting" ? "degraded" : llm.state;
          json service{
            {"provider", none ? "fallback" : llm.provider},
            {"status", none ? "fallback" : status},
            {"connected", llm.connected},
            {"url", llm.url.empty() ? json(nullptr) : json(llm.url)},
            {"model", llm.model},
          };
          if (!none) {
            service["restarts"] = llm.restarts;
            service["last_error"] = llm.last_error;
            service["circuit"] = llm.circuit;
            service["last_latency_ms"] = llm.last_latency_ms < 0
                                           ? json(nullptr)
                                           : json(llm.last_latency_ms);
          }
          reply({200, rest::dump(json{
                        {"success", none || llm.connected},
                        {"llm_service", std::move(service)},
                        {"timestamp", storage::utc_timestamp()},
                      })});
        },
        [=](caf::error& err) { reply(from_error(err)); });
  });
}

/// GET /api/chat/config: what the browser's chat shows before the first
/// message (config/web.json), and the longest message it may send. Served
/// without an actor; browsers revalidate it (no-cache), so an edited file
/// shows after a restart.
rest_response chat_config(const server_context& ctx) {
  static const web_config none;
  const auto& web = ctx.web ? *ctx.web : none;
  auto suggestions = json::array();
  for (const auto& s : web.suggestions)
    suggestions.push_back({{"label", s.label}, {"text", s.text}});
  auto res = ok({{"title", web.title},
                 {"greeting", web.greeting},
                 {"suggestions", std::move(suggestions)},
                 {"max_message_bytes", ctx.limits.max_message_bytes}});
  res.cache_control = "no-cache";
  return res;
}

/// Reads the JSON body or answers with the reason it cannot be read.
std::optional<json> body_or_reply(std::string_view content_type,
                                  std::string_view body,
                                  const rest_reply& reply) {
  auto parsed = rest::parse_body(content_type, body);
  if (!parsed) {
    reply(failure(parsed.error->status, parsed.error->message));
    return std::nullopt;
  }
  return std::move(parsed.value);
}

template <class T>
bool invalid(const rest::parsed<T>& value, const rest_reply& reply) {
  if (value)
    return false;
  reply(failure(value.error->status, value.error->message));
  return true;
}

} // namespace

void serve_rest(server_context& ctx, const rest_match& match,
                const rest::query_map& query, std::string_view content_type,
                std::string_view body, rest_reply reply) {
  using e = rest_endpoint;
  auto id = match.id;
  if (match.key.size() > 128)
    return reply(failure(400, "setting keys have at most 128 bytes"));
  switch (match.endpoint) {
    case e::llm_health:
      return llm_health(ctx, std::move(reply));
    case e::cluster:
      return cluster_view(ctx, std::move(reply));
    case e::chat_config:
      return reply(chat_config(ctx));
    case e::chat_send: {
      auto json_body = body_or_reply(content_type, body, reply);
      if (!json_body)
        return;
      auto request = rest::parse_chat_send(*json_body,
                                           ctx.limits.max_message_bytes);
      if (invalid(request, reply))
        return;
      return chat_send(ctx, std::move(request.value), std::move(reply));
    }
    case e::list_users: {
      auto request = rest::parse_user_query(query);
      if (invalid(request, reply))
        return;
      return ask_store<storage::user_page>(
        ctx, reply,
        [](const storage::user_page& page) {
          auto items = json::array();
          for (const auto& user : page.items)
            items.push_back(rest::user_json(user));
          return rest_response{200, rest::list_body(items, page.page)};
        },
        users_atom_v, list_atom_v, request.value);
    }
    case e::create_user: {
      auto json_body = body_or_reply(content_type, body, reply);
      if (!json_body)
        return;
      auto request = rest::parse_new_user(*json_body);
      if (invalid(request, reply))
        return;
      return ask_store<storage::user_record>(
        ctx, reply,
        [](const storage::user_record& user) {
          return ok({{"id", user.id},
                     {"message", "User created successfully"},
                     {"user", rest::user_json(user)}},
                    201);
        },
        users_atom_v, create_atom_v, request.value);
    }
    case e::get_user:
      return ask_store<storage::user_record>(
        ctx, reply,
        [](const storage::user_record& user) {
          return ok(rest::user_json(user));
        },
        users_atom_v, find_atom_v, id);
    case e::update_user: {
      auto json_body = body_or_reply(content_type, body, reply);
      if (!json_body)
        return;
      auto request = rest::parse_user_patch(*json_body);
      if (invalid(request, reply))
        return;
      return ask_store<storage::user_record>(
        ctx, reply,
        [](const storage::user_record& user) {
          return ok(rest::user_json(user));
        },
        users_atom_v, update_atom_v, id, request.value);
    }
    case e::delete_user:
      return ask_store<std::int64_t>(
        ctx, reply,
        [](std::int64_t removed) {
          return ok({{"id", removed}, {"message", "User deleted successfully"}});
        },
        users_atom_v, remove_atom_v, id);
    case e::list_sessions: {
      auto request = rest::parse_session_query(query);
      if (invalid(request, reply))
        return;
      return ask_store<storage::session_page>(
        ctx, reply,
        [](const storage::session_page& page) {
          auto items = json::array();
          for (const auto& listing : page.items)
            items.push_back(rest::session_json(listing));
          return rest_response{200, rest::list_body(items, page.page)};
        },
        sessions_atom_v, list_atom_v, request.value);
    }
    case e::create_session: {
      auto json_body = body_or_reply(content_type, body, reply);
      if (!json_body)
        return;
      auto request = rest::parse_session_create(*json_body);
      if (invalid(request, reply))
        return;
      return create_session(ctx, std::move(request.value), std::move(reply));
    }
    case e::get_session: {
      auto with_messages = rest::parse_flag(query, "include_messages");
      return ask_store<storage::session_details>(
        ctx, reply,
        [](const storage::session_details& details) {
          auto data = rest::session_json(details.listing);
          if (details.with_messages) {
            auto messages = json::array();
            for (const auto& m : details.messages)
              messages.push_back(rest::message_json(m));
            data["messages"] = std::move(messages);
          }
          return ok(std::move(data));
        },
        sessions_atom_v, find_atom_v, id, with_messages);
    }
    case e::update_session: {
      auto json_body = body_or_reply(content_type, body, reply);
      if (!json_body)
        return;
      auto request = rest::parse_session_patch(*json_body);
      if (invalid(request, reply))
        return;
      return update_session(ctx, id, std::move(request.value),
                            std::move(reply));
    }
    case e::delete_session: {
      auto registry = ctx.directory->get()->registry;
      return ask_store<std::int64_t>(
        ctx, reply,
        [registry](std::int64_t removed) {
          // A live session of it must not write on.
          caf::anon_send(registry, remove_atom_v, removed);
          return ok({{"id", removed},
                     {"message", "Session deleted successfully"}});
        },
        sessions_atom_v, remove_atom_v, id);
    }
    case e::list_messages: {
      auto request = rest::parse_message_query(query);
      if (invalid(request, reply))
        return;
      return ask_store<storage::message_page>(
        ctx, reply,
        [](const storage::message_page& page) {
          auto items = json::array();
          for (const auto& m : page.items)
            items.push_back(rest::message_json(m));
          return rest_response{200, rest::list_body(items, page.page)};
        },
        messages_atom_v, list_atom_v, request.value);
    }
    case e::list_settings: {
      std::string category;
      if (auto i = query.find("category"); i != query.end())
        category = i->second;
      return ask_store<std::vector<storage::setting_record>>(
        ctx, reply,
        [](const std::vector<storage::setting_record>& settings) {
          auto items = json::array();
          for (const auto& s : settings)
            items.push_back(rest::setting_json(s));
          return ok(std::move(items));
        },
        settings_atom_v, list_atom_v, category);
    }
    case e::get_setting:
      return ask_store<storage::setting_record>(
        ctx, reply,
        [](const storage::setting_record& s) {
          return ok(rest::setting_json(s));
        },
        settings_atom_v, find_atom_v, match.key);
    case e::put_setting: {
      auto json_body = body_or_reply(content_type, body, reply);
      if (!json_body)
        return;
      auto request = rest::parse_setting_patch(*json_body);
      if (invalid(request, reply))
        return;
      return ask_store<storage::setting_record>(
        ctx, reply,
        [](const storage::setting_record& s) {
          return ok(rest::setting_json(s));
        },
        settings_atom_v, update_atom_v, match.key, request.value);
    }
    case e::list_handoffs: {
      auto limit = rest::parse_handoff_limit(query);
      if (invalid(limit, reply))
        return;
      return ask_store<std::vector<storage::session_details>>(
        ctx, reply,
        [](const std::vector<storage::session_details>& waiting) {
          auto items = json::array();
          for (const auto& details : waiting) {
            auto item = rest::session_json(details.listing);
            auto messages = json::array();
            for (const auto& m : details.messages)
              messages.push_back(rest::message_json(m));
            item["messages"] = std::move(messages);
            items.push_back(std::move(item));
          }
          return ok({{"items", std::move(items)}});
        },
        handoffs_atom_v, list_atom_v, limit.value);
    }
    case e::agent_message: {
      auto json_body = body_or_reply(content_type, body, reply);
      if (!json_body)
        return;
      auto request = rest::parse_agent_reply(*json_body,
                                             ctx.limits.max_message_bytes);
      if (invalid(request, reply))
        return;
      agent_message msg{id, std::move(request.value.text),
                        std::move(request.value.agent_name)};
      return ask<storage::message_record>(
        ctx, ctx.directory->get()->registry, reply,
        [](const storage::message_record& stored) {
          return ok({{"message", rest::message_json(stored)},
                     {"session_id", stored.session_id},
                     {"status", "handoff"}},
                    201);
        },
        agent_msg_atom_v, std::move(msg));
    }
    case e::release_session:
      return ask<storage::message_record>(
        ctx, ctx.directory->get()->registry, reply,
        [](const storage::message_record& stored) {
          return ok({{"message", rest::message_json(stored)},
                     {"session_id", stored.session_id},
                     {"status", "active"}});
        },
        release_atom_v, id);
    case e::knowledge_search: {
      auto request = rest::parse_knowledge_query(query);
      if (invalid(request, reply))
        return;
      return ask<std::string>(ctx, ctx.directory->get()->knowledge, reply,
                              json_text, search_atom_v, request.value.q,
                              request.value.top_k);
    }
    case e::knowledge_reload:
      return ask<std::string>(ctx, ctx.directory->get()->knowledge, reply,
                              json_text, reload_atom_v);
  }
}

} // namespace parley::transport
