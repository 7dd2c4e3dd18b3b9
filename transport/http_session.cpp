#include "transport/http_session.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <type_traits>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/errors.hpp"
#include "config/url_encoding.hpp"
#include "config/logging.hpp"
#include "storage/chat_repository.hpp"
#include "transport/admin_auth.hpp"
#include "transport/cluster_json.hpp"
#include "transport/cors.hpp"
#include "transport/http_router.hpp"
#include "transport/rest_api.hpp"
#include "transport/websocket_session.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace parley::transport {

namespace {

std::string error_body(const std::string& message) {
  return nlohmann::json{{"success", false}, {"error", message}}.dump(
    -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view field_of(const http_request& req,
                          http::field name) {
  auto value = req[name];
  return {value.data(), value.size()};
}

/// Client-chosen text for a log line: short, one line, printable.
std::string loggable(std::string_view text) {
  std::string result;
  for (unsigned char c : text.substr(0, 120))
    result += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  if (text.size() > 120)
    result += "...";
  return result;
}

/// Retry-After counts whole seconds; a wait of 1 ms is still "1".
std::string retry_after_seconds(std::chrono::milliseconds wait) {
  return std::to_string(std::max<std::int64_t>(1, (wait.count() + 999) / 1000));
}

} // namespace

http_response json_response(unsigned status, unsigned version,
                            bool keep_alive, std::string body) {
  http_response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "Parley");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

template <class Stream>
basic_http_session<Stream>::basic_http_session(Stream&& stream,
                                               beast::flat_buffer&& buffer,
                                               server_context& ctx,
                                               connection_slot slot)
  : stream_(std::move(stream)),
    buffer_(std::move(buffer)),
    ctx_(ctx),
    slot_(std::move(slot)) {
  // nop
}

template <class Stream>
void basic_http_session<Stream>::run() {
  // Start on the connection's strand, like every later handler.
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&basic_http_session::do_read,
                                          this->shared_from_this()));
}

template <class Stream>
void basic_http_session<Stream>::do_read() {
  parser_.emplace();
  parser_->header_limit(
    static_cast<std::uint32_t>(ctx_.limits.max_header_bytes));
  parser_->body_limit(ctx_.limits.max_body_bytes);
  // The whole request within the timeout, not per byte: a client that
  // trickles a header (slowloris) holds its socket this long at most.
  beast::get_lowest_layer(stream_).expires_after(
    slot_.refused() ? ctx_.limits.refusal_timeout
                    : ctx_.limits.request_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&basic_http_session::on_read,
                                             this->shared_from_this()));
}

template <class Stream>
void basic_http_session<Stream>::on_read(boost::system::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream)
    return do_close();
  if (ec == http::error::body_limit) {
    auto res = json_response(413, 11, false,
                             error_body("request body too large"));
    return write(std::move(res));
  }
  if (ec == http::error::header_limit) {
    auto res = json_response(431, 11, false,
                             error_body("request header too large"));
    return write(std::move(res));
  }
  if (ec) {
    if (ec != beast::error::timeout && ec != net::error::operation_aborted)
      logger("transport")->debug("http read failed: {}", ec.message());
    return;
  }
  handle(parser_->release());
}

template <class Stream>
void basic_http_session<Stream>::handle(request req) {
  auto decision = route_request(std::string_view{req.method_string().data(),
                                                 req.method_string().size()},
                                std::string_view{req.target().data(),
                                                 req.target().size()},
                                beast::websocket::is_upgrade(req));
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  if (slot_.refused())
    return refuse_busy(req, decision.kind == route_kind::websocket);
  if (ctx_.worker_only && decision.kind != route_kind::health)
    return write(json_response(404, version, keep_alive,
                               error_body("this is a worker node: only "
                                          "/health is here; chat, the API "
                                          "and the web UI are on the "
                                          "gateways")));
  switch (decision.kind) {
    case route_kind::websocket: {
      // A browser tells where the page that opens the socket comes from;
      // a page of another site must not chat in its visitor's name
      // (cross-site WebSocket hijacking). Clients that are not browsers
      // send no Origin and are not concerned.
      auto origin = field_of(req, http::field::origin);
      if (!origin.empty()
          && !ctx_.access.origins.allows(origin,
                                         field_of(req, http::field::host))) {
        logger("transport")->info("WebSocket refused: origin {} is not "
                                  "allowed",
                                  loggable(origin));
        return write(json_response(403, version, false,
                                   error_body("this origin may not open the "
                                              "chat socket")));
      }
      return start_websocket(std::move(req), std::move(decision.query));
    }
    case route_kind::health:
      return answer_health(req);
    case route_kind::rest:
      return answer_rest(req, decision.path, std::move(decision.query));
    case route_kind::static_file:
      return answer_static(req, decision.path);
    case route_kind::upgrade_required: {
      auto res = json_response(426, version, keep_alive,
                               error_body("/ws is a WebSocket endpoint"));
      res.set(http::field::upgrade, "websocket");
      return write(std::move(res));
    }
    case route_kind::method_not_allowed: {
      auto res = json_response(405, version, keep_alive,
                               error_body("method not allowed"));
      res.set(http::field::allow, decision.allow);
      return write(std::move(res));
    }
    case route_kind::not_found:
      break;
  }
  write(json_response(404, version, keep_alive,
                      error_body("not found: " + decision.path)));
}

template <class Stream>
void basic_http_session<Stream>::start_websocket(
  request req, std::map<std::string, std::string> query) {
  // The stream now belongs to the WebSocket; this session ends here, and
  // its place among the connections goes along.
  beast::get_lowest_layer(stream_).expires_never();
  if constexpr (std::is_same_v<Stream, plain_stream>)
    std::make_shared<websocket_session>(stream_.release_socket(), ctx_,
                                        std::move(slot_))
      ->run(std::move(req), std::move(query));
  else
    std::make_shared<tls_websocket_session>(std::move(stream_), ctx_,
                                            std::move(slot_))
      ->run(std::move(req), std::move(query));
}

template <class Stream>
void basic_http_session<Stream>::refuse_busy(request& req, bool websocket) {
  if (websocket) {
    // A browser's script sees no HTTP status of a failed upgrade, only a
    // close frame's code and reason: the socket opens to say why it closes.
    return start_websocket(std::move(req), {});
  }
  auto res = json_response(503, req.version(), false,
                           error_body(refusal_reason(slot_.verdict())));
  res.set(http::field::retry_after, "5");
  write(std::move(res));
}

template <class Stream>
void basic_http_session<Stream>::answer_health(const request& req) {
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto head = req.method() == http::verb::head;
  auto self = this->shared_from_this();
  auto timeout = ctx_.limits.actor_timeout;
  ask_with(ctx_, [self, version, keep_alive, head, timeout,
                  sup = ctx_.supervisor](asker_pointer asker) {
    timed_request(asker, timeout, sup, health_atom_v)
      .then(
        [=](health_report& report) {
          net::post(self->stream_.get_executor(), [=] {
            self->send_health(version, keep_alive, head, &report, {});
          });
        },
        [=](caf::error& err) {
          net::post(self->stream_.get_executor(), [=] {
            self->send_health(version, keep_alive, head, nullptr,
                              describe(err));
          });
        });
  });
}

template <class Stream>
void basic_http_session<Stream>::answer_rest(request& req, const std::string& path,
                               std::map<std::string, std::string> query) {
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto head = req.method() == http::verb::head;
  auto method = std::string_view{req.method_string().data(),
                                 req.method_string().size()};
  auto origin = field_of(req, http::field::origin);
  auto host = field_of(req, http::field::host);
  if (req.method() == http::verb::options) {
    auto answer = answer_preflight(ctx_.access.origins, origin, host,
                                   match_rest("OPTIONS", path).allow);
    auto res = answer.status == 204
                 ? json_response(204, version, keep_alive, {})
                 : json_response(answer.status, version, keep_alive,
                                 error_body(answer.error));
    if (answer.status == 204)
      res.erase(http::field::content_type);
    for (const auto& [name, value] : answer.headers)
      res.set(name, value);
    return write(std::move(res));
  }
  // Every answer under /api carries the CORS headers: a page that may call
  // the API may also read why a call failed.
  auto cors = cors_headers(ctx_.access.origins, origin, host);
  auto finish = [cors, head](response& res) {
    for (const auto& [name, value] : cors)
      res.set(name, value);
    if (head)
      res.body().clear(); // Content-Length stays that of the GET answer
  };
  auto refuse = [&](unsigned status, const std::string& message) {
    auto res = json_response(status, version, keep_alive,
                             error_body(message));
    finish(res);
    return res;
  };
  auto match = match_rest(method, path);
  switch (match.kind) {
    case rest_match_kind::not_found:
      return write(refuse(404, "not found: " + path));
    case rest_match_kind::method_not_allowed: {
      auto res = refuse(405, "method not allowed");
      res.set(http::field::allow, match.allow);
      return write(std::move(res));
    }
    case rest_match_kind::bad_id:
    case rest_match_kind::matched:
      break;
  }
  // Who asks comes before what is asked: without the token, not even a
  // malformed id is looked at.
  auto auth = authorize(match, field_of(req, http::field::authorization),
                        ctx_.access.admin);
  if (auth != admin_auth::granted) {
    boost::system::error_code ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    logger("transport")->info("{} {} refused: {} admin token from {}",
                              method, loggable(path),
                              auth == admin_auth::missing ? "no" : "wrong",
                              ec ? std::string{"?"}
                                 : peer.address().to_string());
    auto res = refuse(401, refusal_message(auth));
    res.set(http::field::www_authenticate, admin_challenge);
    return write(std::move(res));
  }
  if (match.kind == rest_match_kind::bad_id)
    return write(refuse(400, "the id in the path must be a positive integer"));
  if (match.endpoint == rest_endpoint::chat_send) {
    // The same per-address budget as messages on the chat socket.
    if (auto wait = ctx_.address_rate.take(slot_.address());
        wait.count() > 0) {
      auto res = json_response(
        429, version, keep_alive,
        nlohmann::json{{"success", false},
                       {"error", "too many messages from your address; "
                                 "try again shortly"},
                       {"code", "rate_limited"},
                       {"retry_after_ms", wait.count()}}
          .dump());
      finish(res);
      res.set(http::field::retry_after, retry_after_seconds(wait));
      return write(std::move(res));
    }
  }
  // Everything from the target goes to the database as text: it must be
  // UTF-8 without NUL, or PostgreSQL refuses (or cuts) it.
  auto clean = [](const std::string& text) {
    return is_valid_utf8(text) && text.find('\0') == std::string::npos;
  };
  auto target_ok = clean(path);
  for (const auto& [name, value] : query)
    target_ok = target_ok && clean(name) && clean(value);
  if (!target_ok)
    return write(refuse(400, "the path and query must be UTF-8 text without "
                             "NUL characters"));
  auto content_type = field_of(req, http::field::content_type);
  auto self = this->shared_from_this();
  serve_rest(ctx_, match, query, content_type, req.body(),
             [self, version, keep_alive, finish](rest_response r) {
               // May run on an actor's thread: hop onto the strand.
               net::post(self->stream_.get_executor(),
                         [self, version, keep_alive, finish,
                          r = std::move(r)]() mutable {
                           auto res = json_response(r.status, version,
                                                    keep_alive,
                                                    std::move(r.body));
                           finish(res);
                           if (r.retry_after.count() > 0)
                             res.set(http::field::retry_after,
                                     retry_after_seconds(r.retry_after));
                           if (!r.cache_control.empty())
                             res.set(http::field::cache_control,
                                     r.cache_control);
                           self->write(std::move(res));
                         });
             });
}

template <class Stream>
void basic_http_session<Stream>::answer_static(const request& req,
                                               const std::string& path) {
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto head = req.method() == http::verb::head;
  if (!ctx_.site)
    return write(json_response(404, version, keep_alive,
                               error_body("not found: " + path)));
  auto found = ctx_.site->lookup(
    {std::string_view{req.method_string().data(), req.method_string().size()},
     path, field_of(req, http::field::accept_encoding),
     field_of(req, http::field::if_none_match)});
  logger("transport")->debug("{} {} -> {}{}{} ({} bytes)",
                             head ? "HEAD" : "GET", loggable(path),
                             found.status,
                             found.header("Content-Encoding").empty() ? ""
                                                                      : " ",
                             found.header("Content-Encoding"),
                             found.body.size());
  if (found.status == 404)
    return write(json_response(404, version, keep_alive,
                               error_body("not found: " + path)));
  // The body is a view into ctx_.site, which outlives every connection: no
  // copy per request.
  using span_body = http::span_body<const char>;
  http::response<span_body> res{static_cast<http::status>(found.status),
                                version};
  res.set(http::field::server, "Parley");
  for (const auto& [name, value] : found.headers)
    res.set(beast::string_view{name.data(), name.size()},
            beast::string_view{value.data(), value.size()});
  res.keep_alive(keep_alive);
  res.body() = span_body::value_type{found.body.data(), found.body.size()};
  res.prepare_payload();
  if (head)
    res.body() = {}; // Content-Length stays that of the GET answer
  write(std::move(res));
}

template <class Stream>
void basic_http_session<Stream>::send_health(unsigned version, bool keep_alive, bool head,
                               const health_report* report,
                               const std::string& error) {
  auto healthy = report != nullptr && report->database_ok;
  // A gateway without a worker still chats (its fallback answers), but an
  // operator must see that the agent is gone.
  auto degraded = healthy && !report->nodes.empty()
                  && std::none_of(report->nodes.begin(), report->nodes.end(),
                                  [](const node_status& n) {
                                    return n.state == "up";
                                  });
  nlohmann::json body{
    {"status", !healthy ? "unhealthy" : degraded ? "degraded" : "healthy"},
    {"timestamp", storage::utc_timestamp()},
    {"database", healthy ? "connected" : "disconnected"},
  };
  if (report != nullptr) {
    body["database_backend"] = report->database_backend;
    body["live_sessions"] = report->live_sessions;
    auto services = nlohmann::json::array();
    for (const auto& s : report->services)
      services.push_back({{"name", s.name},
                          {"state", s.state},
                          {"restarts", s.restarts},
                          {"last_error", s.last_error}});
    body["services"] = std::move(services);
    body["role"] = report->role;
    if (report->role != "all")
      body["nodes"] = cluster_nodes_json(*report, false);
    if (!report->database_ok)
      body["reason"] = report->database_error;
  } else {
    body["reason"] = error;
  }
  auto res = json_response(
    healthy ? 200 : 503, version, keep_alive,
    body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (head)
    res.body().clear(); // Content-Length stays that of the GET answer
  write(std::move(res));
}

template <class Stream>
template <class Body>
void basic_http_session<Stream>::write(http::response<Body> res) {
  auto close = res.need_eof();
  auto sp = std::make_shared<http::response<Body>>(std::move(res));
  beast::get_lowest_layer(stream_).expires_after(ctx_.limits.request_timeout);
  http::async_write(stream_, *sp,
                    [self = this->shared_from_this(), sp, close](auto ec,
                                                           auto bytes) {
                      self->on_write(close, ec, bytes);
                    });
}

template <class Stream>
void basic_http_session<Stream>::on_write(bool close, boost::system::error_code ec,
                            std::size_t) {
  if (ec)
    return;
  if (close)
    return do_close();
  do_read();
}

template <class Stream>
void basic_http_session<Stream>::do_close() {
  if constexpr (std::is_same_v<Stream, plain_stream>) {
    boost::system::error_code ec;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  } else {
    // TLS says goodbye with close_notify, bounded like any other write.
    beast::get_lowest_layer(stream_).expires_after(ctx_.limits.request_timeout);
    stream_.async_shutdown([self = this->shared_from_this()](auto) {
      beast::get_lowest_layer(self->stream_).close();
    });
  }
}

template class basic_http_session<plain_stream>;
template class basic_http_session<tls_stream>;

} // namespace parley::transport
