#include "tests/support/ws_client.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <optional>
#include <sstream>
#include <type_traits>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

// The only translation unit of the harness that includes Beast: ws_client
// and http_request both live here to keep the build of the tests fast.

namespace parley::test {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

// A client context that trusts only `trusted_cert` (a self-signed server
// certificate is its own trust anchor) and verifies the server against it.
std::shared_ptr<ssl::context> trusting_context(const std::string& trusted_cert) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  ctx->load_verify_file(trusted_cert, ec);
  if (ec)
    throw std::runtime_error("cannot load " + trusted_cert + ": "
                             + ec.message());
  return ctx;
}

// Runs handlers of `ioc` one at a time until `done()` holds or the deadline
// passes. Returns done(). Waiting for the event itself (not sleeping) keeps
// fast paths fast while every wait stays bounded.
template <class Predicate>
bool run_until(net::io_context& ioc, Predicate done,
               clock_type::time_point deadline) {
  while (!done()) {
    auto now = clock_type::now();
    if (now >= deadline)
      return false;
    if (ioc.stopped())
      ioc.restart();
    if (ioc.run_one_for(deadline - now) == 0 && ioc.stopped())
      return done(); // out of work: nothing left that could change it
  }
  return true;
}

// Lets the handlers of cancelled operations run so that none of them
// outlives what it refers to.
void drain(net::io_context& ioc) {
  ioc.restart();
  ioc.run_for(std::chrono::seconds{2});
}

std::string truncate(std::string text, std::size_t max = 300) {
  if (text.size() > max) {
    text.resize(max);
    text += "...";
  }
  return text;
}

// Completion state shared with a handler, which may run after the call that
// started the operation has given up on it.
struct op_state {
  bool done = false;
  beast::error_code ec;
};

} // namespace

// -- ws_read_result -----------------------------------------------------------

const char* to_string(read_status status) noexcept {
  switch (status) {
    case read_status::frame:
      return "frame";
    case read_status::timeout:
      return "timeout";
    case read_status::closed:
      return "closed";
    case read_status::error:
      return "error";
  }
  return "?";
}

std::string ws_read_result::describe() const {
  std::ostringstream out;
  switch (status) {
    case read_status::frame:
      out << (binary ? "binary frame: " : "text frame: ") << truncate(text);
      break;
    case read_status::timeout:
      out << "timeout: no frame arrived";
      break;
    case read_status::closed:
      out << "closed by the server with code " << close_code << " reason \""
          << close_reason << '"';
      break;
    case read_status::error:
      out << "connection failed without a close frame: " << error;
      break;
  }
  return out.str();
}

// -- ws_client::impl ----------------------------------------------------------

struct ws_client::impl {
  // Declared first: destroyed last, after everything that uses it.
  net::io_context ioc;
  std::shared_ptr<ssl::context> tls; // set: connect over wss://
  // One of the two is set while connected: plain or over TLS.
  std::optional<websocket::stream<tcp::socket>> ws;
  std::optional<websocket::stream<beast::ssl_stream<tcp::socket>>> wss;
  beast::flat_buffer buffer;
  bool reading = false;
  std::deque<ws_read_result> inbox;
  std::optional<ws_read_result> end; // closed or error; after the inbox
  std::string write_buf;
  std::vector<std::pair<std::string, std::string>> upgrade_headers;

  bool connected() const noexcept {
    return ws.has_value() || wss.has_value();
  }

  bool open() const noexcept {
    return connected() && !end.has_value();
  }

  // Calls `f` with whichever stream is connected.
  template <class F>
  void each(F&& f) {
    if (ws)
      f(*ws);
    else if (wss)
      f(*wss);
  }

  void reset_streams() {
    ws.reset();
    wss.reset();
  }

  // Keeps one read pending at all times while connected: frames queue up in
  // the inbox, and control frames (ping, close) get their answers.
  void start_read() {
    if (reading || end || !connected())
      return;
    reading = true;
    each([this](auto& s) {
      s.async_read(buffer, [this](beast::error_code ec, std::size_t) {
        on_read(ec);
      });
    });
  }

  void on_read(beast::error_code ec) {
    reading = false;
    if (!ec) {
      ws_read_result frame;
      frame.status = read_status::frame;
      each([&frame](auto& s) { frame.binary = s.got_binary(); });
      frame.text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      inbox.push_back(std::move(frame));
      start_read();
      return;
    }
    if (end)
      return;
    ws_read_result last;
    if (ec == websocket::error::closed) {
      last.status = read_status::closed;
      each([&last](auto& s) {
        const auto& why = s.reason();
        last.close_code = static_cast<std::uint16_t>(why.code);
        last.close_reason.assign(why.reason.data(), why.reason.size());
      });
    } else {
      last.status = read_status::error;
      last.error = ec.message();
    }
    end = std::move(last);
  }

  void send(std::string_view payload, bool binary,
            std::chrono::milliseconds timeout) {
    if (!connected())
      throw ws_error("send: not connected");
    if (end)
      throw ws_error("send: connection already ended: " + end->describe());
    write_buf.assign(payload.data(), payload.size());
    auto state = std::make_shared<op_state>();
    each([&](auto& s) {
      s.binary(binary);
      s.async_write(net::buffer(write_buf),
                    [state](beast::error_code ec, std::size_t) {
                      state->done = true;
                      state->ec = ec;
                    });
    });
    if (!run_until(
          ioc, [&state] { return state->done; },
          clock_type::now() + timeout)) {
      abort("send timed out");
      throw ws_error("send: timed out after "
                     + std::to_string(timeout.count()) + " ms");
    }
    if (state->ec)
      throw ws_error("send failed: " + state->ec.message()
                     + (end ? " (" + end->describe() + ")" : std::string{}));
  }

  // Tears the TCP connection down and runs the handlers of whatever was
  // pending; records `why` unless the connection had already ended.
  void abort(const std::string& why) noexcept {
    if (!connected())
      return;
    beast::error_code ignored;
    each([&ignored](auto& s) {
      auto& sock = beast::get_lowest_layer(s);
      sock.shutdown(tcp::socket::shutdown_both, ignored);
      sock.close(ignored);
    });
    try {
      drain(ioc);
    } catch (...) {
      // nothing useful left to do
    }
    if (!end) {
      ws_read_result last;
      last.status = read_status::error;
      last.error = why;
      end = std::move(last);
    }
  }
};

// -- ws_client ----------------------------------------------------------------

ws_client::ws_client() : impl_(std::make_unique<impl>()) {
  // nop
}

ws_client::~ws_client() {
  drop();
  impl_->reset_streams();
}

void ws_client::connect(const std::string& host, std::uint16_t port,
                        const std::string& target,
                        std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (d.connected()) {
    d.abort("reconnecting");
    d.reset_streams();
  }
  d.inbox.clear();
  d.end.reset();
  d.reading = false;
  d.buffer.clear();
  struct connect_state : op_state {
    std::string step = "resolve";
    websocket::response_type response;
  };
  auto state = std::make_shared<connect_state>();
  tcp::resolver resolver{d.ioc};
  auto host_header = host + ":" + std::to_string(port);
  auto decorate = [headers = d.upgrade_headers](websocket::request_type& req) {
    req.set(http::field::user_agent, "parley-e2e-test");
    for (const auto& [name, value] : headers)
      req.set(name, value);
  };
  // The steps are the same over TCP and TLS, but for the TLS handshake.
  auto start = [&](auto& ws) {
    ws.read_message_max(64 * 1024 * 1024);
    ws.set_option(websocket::stream_base::decorator(decorate));
    auto* s = &ws;
    resolver.async_resolve(
      host, std::to_string(port),
      [state, s, host, host_header, target](beast::error_code ec,
                                            tcp::resolver::results_type results) {
        if (ec) {
          state->done = true;
          state->ec = ec;
          return;
        }
        state->step = "connect";
        net::async_connect(
          beast::get_lowest_layer(*s), results,
          [state, s, host, host_header, target](beast::error_code ec,
                                                const tcp::endpoint&) {
            if (ec) {
              state->done = true;
              state->ec = ec;
              return;
            }
            auto upgrade = [state, s, host_header, target] {
              state->step = "upgrade";
              s->async_handshake(state->response, host_header, target,
                                 [state](beast::error_code ec) {
                                   state->done = true;
                                   state->ec = ec;
                                 });
            };
            using stream_type = std::remove_pointer_t<decltype(s)>;
            if constexpr (std::is_same_v<typename stream_type::next_layer_type,
                                         tcp::socket>) {
              upgrade();
            } else {
              state->step = "TLS handshake";
              s->next_layer().set_verify_callback(
                ssl::host_name_verification(host));
              s->next_layer().async_handshake(
                ssl::stream_base::client,
                [state, upgrade](beast::error_code ec) {
                  if (ec) {
                    state->done = true;
                    state->ec = ec;
                    return;
                  }
                  upgrade();
                });
            }
          });
      });
  };
  if (d.tls)
    start(d.wss.emplace(d.ioc, *d.tls));
  else
    start(d.ws.emplace(d.ioc));
  auto where = (d.tls ? "wss://" : "ws://") + host_header + target;
  if (!run_until(
        d.ioc, [&state] { return state->done; },
        clock_type::now() + timeout)) {
    resolver.cancel();
    d.abort("connect timed out");
    throw ws_error("connect to " + where + ": timed out in step "
                   + state->step + " after " + std::to_string(timeout.count())
                   + " ms");
  }
  if (state->ec) {
    std::string detail;
    if (state->step == "upgrade" && state->response.result_int() != 0)
      detail = " (HTTP " + std::to_string(state->response.result_int()) + ": "
               + truncate(state->response.body()) + ")";
    d.abort("connect failed");
    throw ws_error("connect to " + where + ": " + state->step
                   + " failed: " + state->ec.message() + detail);
  }
  d.start_read();
}

void ws_client::use_tls(const std::string& trusted_cert) {
  impl_->tls = trusting_context(trusted_cert);
}

void ws_client::set_upgrade_headers(
  std::vector<std::pair<std::string, std::string>> headers) {
  impl_->upgrade_headers = std::move(headers);
}

bool ws_client::is_open() const noexcept {
  return impl_->open();
}

void ws_client::send_text(std::string_view text,
                          std::chrono::milliseconds timeout) {
  impl_->send(text, false, timeout);
}

void ws_client::send_json(const nlohmann::json& frame,
                          std::chrono::milliseconds timeout) {
  impl_->send(frame.dump(), false, timeout);
}

void ws_client::send_binary(std::string_view bytes,
                            std::chrono::milliseconds timeout) {
  impl_->send(bytes, true, timeout);
}

ws_read_result ws_client::read_frame(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (!d.connected()) {
    ws_read_result result;
    result.status = read_status::error;
    result.error = "not connected";
    return result;
  }
  d.start_read();
  run_until(
    d.ioc, [&d] { return !d.inbox.empty() || d.end.has_value(); },
    clock_type::now() + timeout);
  if (!d.inbox.empty()) {
    auto result = std::move(d.inbox.front());
    d.inbox.pop_front();
    return result;
  }
  if (d.end)
    return *d.end;
  return ws_read_result{};
}

nlohmann::json ws_client::read_json(std::chrono::milliseconds timeout) {
  auto frame = read_frame(timeout);
  if (frame.status != read_status::frame)
    throw ws_error("read_json: " + frame.describe());
  if (frame.binary)
    throw ws_error("read_json: got a binary frame");
  auto result = nlohmann::json::parse(frame.text, nullptr, false);
  if (result.is_discarded())
    throw ws_error("read_json: not JSON: " + truncate(frame.text));
  return result;
}

std::vector<nlohmann::json>
ws_client::read_until_type(std::string_view type,
                           std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  std::vector<nlohmann::json> frames;
  auto fail = [&](const std::string& why) {
    std::string seen;
    for (const auto& frame : frames)
      seen += "\n  " + truncate(frame.dump());
    throw ws_error("read_until_type(\"" + std::string{type} + "\"): " + why
                   + "; frames read before:" + (seen.empty() ? " none" : seen));
  };
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock_type::now());
    auto frame = read_frame(std::max(left, std::chrono::milliseconds{0}));
    if (frame.status != read_status::frame)
      fail(frame.describe());
    auto json = nlohmann::json::parse(frame.text, nullptr, false);
    if (json.is_discarded())
      fail("not JSON: " + truncate(frame.text));
    frames.push_back(json);
    if (json.is_object() && json.contains("type") && json["type"] == type)
      return frames;
  }
}

ws_read_result ws_client::wait_closed(std::chrono::milliseconds timeout,
                                      std::vector<nlohmann::json>* frames) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock_type::now());
    auto frame = read_frame(std::max(left, std::chrono::milliseconds{0}));
    if (frame.status != read_status::frame)
      return frame;
    if (frames != nullptr) {
      auto json = nlohmann::json::parse(frame.text, nullptr, false);
      frames->push_back(json.is_discarded() ? nlohmann::json(frame.text)
                                            : std::move(json));
    }
  }
}

void ws_client::close(std::uint16_t code, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (!d.open()) {
    drop();
    return;
  }
  auto state = std::make_shared<op_state>();
  d.each([&state, code](auto& s) {
    s.async_close(websocket::close_reason(code),
                  [state](beast::error_code ec) {
                    state->done = true;
                    state->ec = ec;
                  });
  });
  auto finished = run_until(
    d.ioc, [&d, &state] { return state->done && !d.reading; },
    clock_type::now() + timeout);
  if (!finished || state->ec)
    drop();
}

void ws_client::drop() noexcept {
  impl_->abort("connection dropped by the client");
}

// -- http_request -------------------------------------------------------------

std::string http_response::header(std::string_view name) const {
  auto same = [name](const std::string& other) {
    return other.size() == name.size()
           && std::equal(other.begin(), other.end(), name.begin(),
                         [](char x, char y) {
                           return std::tolower(static_cast<unsigned char>(x))
                                  == std::tolower(static_cast<unsigned char>(y));
                         });
  };
  for (const auto& [key, value] : headers)
    if (same(key))
      return value;
  return {};
}

namespace {

// One request over `stream` (a tcp::socket, or a TLS stream over one whose
// handshake comes after the connect).
template <class Stream>
http_response request_over(net::io_context& ioc, Stream& stream,
                           const std::string& host, std::uint16_t port,
                           const std::string& method, const std::string& target,
                           const std::string& body, const http_headers& headers,
                           std::chrono::milliseconds timeout) {
  constexpr bool tls = !std::is_same_v<Stream, tcp::socket>;
  tcp::resolver resolver{ioc};
  auto& sock = beast::get_lowest_layer(stream);
  http::request<http::string_body> req;
  req.version(11);
  auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown)
    req.method_string(method);
  else
    req.method(verb);
  req.target(target);
  req.set(http::field::host, host + ":" + std::to_string(port));
  req.set(http::field::user_agent, "parley-e2e-test");
  req.set(http::field::connection, "close");
  req.body() = body;
  auto with_body = !body.empty() || verb == http::verb::post
                   || verb == http::verb::put || verb == http::verb::patch;
  if (with_body)
    req.content_length(body.size());
  for (const auto& [name, value] : headers)
    req.set(name, value);
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (verb == http::verb::head)
    parser.skip(true); // a HEAD answer has a Content-Length but no body
  beast::flat_buffer buf;
  std::string step = "resolve";
  bool done = false;        // the read finished, or resolve/connect failed
  beast::error_code result; // of the read (or of resolve/connect)
  beast::error_code write_result;
  resolver.async_resolve(
    host, std::to_string(port),
    [&](beast::error_code ec, tcp::resolver::results_type results) {
      if (ec) {
        done = true;
        result = ec;
        return;
      }
      step = "connect";
      net::async_connect(
        sock, results, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) {
            done = true;
            result = ec;
            return;
          }
          auto exchange = [&] {
            step = "write and read";
            http::async_write(stream, req,
                              [&](beast::error_code ec, std::size_t) {
                                write_result = ec;
                              });
            http::async_read(stream, buf, parser,
                             [&](beast::error_code ec, std::size_t) {
                               done = true;
                               result = ec;
                             });
          };
          if constexpr (tls) {
            step = "TLS handshake";
            stream.set_verify_callback(ssl::host_name_verification(host));
            stream.async_handshake(ssl::stream_base::client,
                                   [&, exchange](beast::error_code ec) {
                                     if (ec) {
                                       done = true;
                                       result = ec;
                                       return;
                                     }
                                     exchange();
                                   });
          } else {
            exchange();
          }
        });
    });
  auto where = (tls ? "https://" : "http://") + host + ":" + std::to_string(port) + target;
  auto finished = run_until(
    ioc, [&done] { return done; }, clock_type::now() + timeout);
  // Whatever is still pending (the rest of a body the server did not want)
  // is cancelled and its handler run before the locals go away.
  auto cleanup = [&] {
    beast::error_code ignored;
    resolver.cancel();
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
    drain(ioc);
  };
  if (!finished) {
    cleanup();
    throw ws_error(method + " " + where + ": timed out in step " + step
                   + " after " + std::to_string(timeout.count()) + " ms");
  }
  if (result) {
    auto write_note = write_result ? " (the write failed too: "
                                       + write_result.message() + ")"
                                   : std::string{};
    cleanup();
    throw ws_error(method + " " + where + ": " + step
                   + " failed: " + result.message() + write_note);
  }
  auto res = parser.release();
  http_response response;
  response.status = res.result_int();
  for (const auto& field : res)
    response.headers.emplace_back(std::string{field.name_string()},
                                  std::string{field.value()});
  response.body = std::move(res.body());
  cleanup();
  return response;
}

} // namespace

http_response http_request(const std::string& host, std::uint16_t port,
                           const std::string& method, const std::string& target,
                           const std::string& body, const http_headers& headers,
                           std::chrono::milliseconds timeout) {
  net::io_context ioc;
  tcp::socket sock{ioc};
  return request_over(ioc, sock, host, port, method, target, body, headers,
                      timeout);
}

http_response http_get(const std::string& host, std::uint16_t port,
                       const std::string& target,
                       std::chrono::milliseconds timeout) {
  return http_request(host, port, "GET", target, {}, {}, timeout);
}

http_response https_request(const std::string& trusted_cert,
                            const std::string& host, std::uint16_t port,
                            const std::string& method,
                            const std::string& target, const std::string& body,
                            const http_headers& headers,
                            std::chrono::milliseconds timeout) {
  auto ctx = trusting_context(trusted_cert);
  net::io_context ioc;
  beast::ssl_stream<tcp::socket> stream{ioc, *ctx};
  return request_over(ioc, stream, host, port, method, target, body, headers,
                      timeout);
}

http_response https_get(const std::string& trusted_cert,
                        const std::string& host, std::uint16_t port,
                        const std::string& target,
                        std::chrono::milliseconds timeout) {
  return https_request(trusted_cert, host, port, "GET", target, {}, {},
                       timeout);
}

} // namespace parley::test
