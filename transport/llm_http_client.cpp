#include "transport/llm_http_client.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <deque>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <sys/types.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "transport/sse_parser.hpp"
#include "transport/tls_client.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace parley::llm {

// -- errors -------------------------------------------------------------------

namespace {

class http_client_category_impl : public boost::system::error_category {
public:
  const char* name() const noexcept override {
    return "parley.llm_http_client";
  }

  std::string message(int ev) const override {
    switch (static_cast<http_client_errc>(ev)) {
      case http_client_errc::cancelled:
        return "request cancelled";
      case http_client_errc::connect_timeout:
        return "connect or TLS handshake timed out";
      case http_client_errc::request_timeout:
        return "request timed out";
      case http_client_errc::malformed_event_stream:
        return "malformed event stream";
      case http_client_errc::not_http:
        return "not an http:// or https:// endpoint";
    }
    return "unknown llm_http_client error";
  }
};

} // namespace

const boost::system::error_category& http_client_category() noexcept {
  static const http_client_category_impl instance;
  return instance;
}

error_code make_error_code(http_client_errc e) noexcept {
  return {static_cast<int>(e), http_client_category()};
}

http_request_handle::~http_request_handle() = default;

llm_http_client::~llm_http_client() = default;

// -- implementation -------------------------------------------------------------

namespace {

using strand_type = net::strand<net::any_io_executor>;
using clock_type = std::chrono::steady_clock;

/// One kept-alive connection; owned by the request using it or by the pool,
/// and by every pending operation on it: finish() drops the request's
/// reference while a read may still be in flight, and Beast's read and write
/// operations touch the stream and the buffer until their handler runs.
template <class Stream>
struct connection {
  template <class... Args>
  explicit connection(Args&&... args) : stream(std::forward<Args>(args)...) {
    // nop
  }

  void close() {
    // No TLS close_notify: the connection is abandoned either way, and a
    // shutdown handshake could hang on a peer that stopped reading.
    beast::get_lowest_layer(stream).close();
  }

  Stream stream;
  beast::flat_buffer buffer;
  clock_type::time_point idle_since;
  bool reused = false; // served a request before: may have gone stale
};

/// One implementation for http (Stream = tcp_stream) and https
/// (ssl_stream<tcp_stream>). All members, and all members of its requests,
/// are touched on strand_ only.
template <class Stream>
class client_impl final : public llm_http_client {
public:
  static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

  using conn_ptr = std::shared_ptr<connection<Stream>>;

  struct request final : http_request_handle {
    request(std::shared_ptr<client_impl> owner, http::verb verb,
            std::string target, std::string body,
            http_request_callbacks callbacks)
      : client(std::move(owner)),
        callbacks(std::move(callbacks)),
        deadline(client->strand_),
        resolver(client->strand_) {
      auto& ep = client->endpoint_;
      msg.method(verb);
      msg.target(target);
      msg.version(11);
      msg.set(http::field::host, ep.host_header());
      msg.set(http::field::user_agent, "Parley");
      // No key, no header: some servers reject an empty bearer token.
      if (!client->api_key_.empty())
        msg.set(http::field::authorization, "Bearer " + client->api_key_);
      if (verb == http::verb::post) {
        msg.set(http::field::accept, "text/event-stream, application/json");
        msg.set(http::field::content_type, "application/json");
        msg.body() = std::move(body);
      } else {
        msg.set(http::field::accept, "application/json");
      }
      msg.keep_alive(true);
      msg.prepare_payload();
    }

    void cancel() override {
      net::post(client->strand_, [self = self()] {
        self->client->finish(self, http_client_errc::cancelled,
                             "cancelled locally");
      });
    }

    std::shared_ptr<request> self() {
      return std::static_pointer_cast<request>(shared_from_this());
    }

    std::shared_ptr<client_impl> client;
    http_request_callbacks callbacks;
    net::steady_timer deadline;
    tcp::resolver resolver;
    http::request<http::string_body> msg;
    conn_ptr conn;
    std::optional<http::response_parser<http::buffer_body>> parser;
    std::optional<sse_parser> events; // set: the response is an event stream
    std::string body;                 // a response that is not
    std::array<char, 16 * 1024> chunk;
    bool queued = false;   // waiting in queue_ for a connection slot
    bool has_slot = false; // counted in active_
    bool retried = false;  // sent again after a stale connection
    bool finished = false;
  };

  using request_ptr = std::shared_ptr<request>;

  /// `stream_args` construct a connection's stream after the strand:
  /// nothing or (*ssl_ctx).
  client_impl(strand_type strand, llm_endpoint endpoint, std::string api_key,
              http_client_options options,
              std::shared_ptr<ssl::context> ssl_ctx)
    : ssl_ctx_(std::move(ssl_ctx)),
      strand_(std::move(strand)),
      endpoint_(std::move(endpoint)),
      api_key_(std::move(api_key)),
      options_(options) {
    options_.max_connections = std::max<std::size_t>(1,
                                                     options_.max_connections);
  }

  std::shared_ptr<http_request_handle>
  post_stream(std::string target, std::string body_json,
              http_request_callbacks callbacks) override {
    return submit(http::verb::post, std::move(target), std::move(body_json),
                  std::move(callbacks));
  }

  std::shared_ptr<http_request_handle>
  get(std::string target, http_request_callbacks callbacks) override {
    return submit(http::verb::get, std::move(target), {},
                  std::move(callbacks));
  }

  void close() override {
    net::post(strand_, [self = self()] { self->do_close(); });
  }

private:
  std::shared_ptr<client_impl> self() {
    return std::static_pointer_cast<client_impl>(shared_from_this());
  }

  // -- scheduling ---------------------------------------------------------------

  std::shared_ptr<http_request_handle>
  submit(http::verb verb, std::string target, std::string body,
         http_request_callbacks callbacks) {
    // Built here, touched on the strand only from now on.
    auto req = std::make_shared<request>(self(), verb, std::move(target),
                                         std::move(body),
                                         std::move(callbacks));
    net::post(strand_, [req] { req->client->start(req); });
    return req;
  }

  void start(const request_ptr& req) {
    if (req->finished)
      return; // cancelled before it got here
    if (closed_)
      return finish(req, http_client_errc::cancelled, "client closed");
    req->deadline.expires_after(options_.request_timeout);
    req->deadline.async_wait([req](error_code ec) {
      if (ec || req->finished)
        return;
      req->client->finish(req, http_client_errc::request_timeout,
                          "no complete response from "
                            + req->client->endpoint_.host_header()
                            + " within the request timeout");
    });
    req->queued = true;
    queue_.push_back(req);
    pump();
  }

  /// Gives waiting requests a connection slot while there is one.
  void pump() {
    while (!queue_.empty() && active_.size() < options_.max_connections) {
      auto req = queue_.front();
      queue_.pop_front();
      req->queued = false;
      req->has_slot = true;
      active_.insert(req);
      if (auto conn = take_idle()) {
        conn->reused = true;
        send(req, std::move(conn));
      } else {
        open_connection(req);
      }
    }
  }

  /// The most recently used idle connection that is still usable.
  conn_ptr take_idle() {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (clock_type::now() - conn->idle_since < options_.idle_timeout
          && still_open(*conn))
        return conn;
      conn->close();
    }
    return nullptr;
  }

  /// A peek that does not block: a server that closed the idle connection
  /// left an EOF (or a reset) to read. Cheaper than a failed request, but
  /// racy, hence the retry in on_write/on_header.
  static bool still_open(connection<Stream>& conn) {
    if (conn.buffer.size() > 0)
      return false; // bytes after the last response: the stream is confused
    auto fd = beast::get_lowest_layer(conn.stream).socket().native_handle();
    char byte = 0;
    auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK;
    if (n == 0)
      return false;
    // Plain HTTP: unsolicited bytes are garbage. TLS: a session ticket or a
    // key update may arrive between responses; a close_notify is caught by
    // the retry instead.
    return tls;
  }

  // -- connecting ---------------------------------------------------------------

  void open_connection(const request_ptr& req) {
    if constexpr (tls)
      req->conn = std::make_shared<connection<Stream>>(strand_, *ssl_ctx_);
    else
      req->conn = std::make_shared<connection<Stream>>(strand_);
    req->resolver.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                                [req](error_code ec,
                                      tcp::resolver::results_type res) {
                                  req->client->on_resolve(req, ec,
                                                          std::move(res));
                                });
  }

  void on_resolve(const request_ptr& req, error_code ec,
                  tcp::resolver::results_type results) {
    if (req->finished)
      return;
    if (ec)
      return finish(req, ec,
                    "cannot resolve " + endpoint_.host + ": " + ec.message());
    // tcp_stream's deadline covers the connect and the TLS handshake.
    auto& lowest = beast::get_lowest_layer(req->conn->stream);
    lowest.expires_after(options_.connect_timeout);
    lowest.async_connect(results, [req, conn = req->conn](
                                    error_code ec, const tcp::endpoint&) {
      req->client->on_connect(req, ec);
    });
  }

  void on_connect(const request_ptr& req, error_code ec) {
    if (req->finished)
      return;
    if (ec)
      return connect_failed(req, ec, "cannot connect to ");
    auto& lowest = beast::get_lowest_layer(req->conn->stream);
    // The LLM's requests are small and latency-bound.
    error_code ignored;
    lowest.socket().set_option(tcp::no_delay{true}, ignored);
    if constexpr (tls) {
      if (auto err = prepare_tls(req->conn->stream); err)
        return finish(req, err, "TLS setup failed: " + err.message());
      req->conn->stream.async_handshake(
        ssl::stream_base::client, [req, conn = req->conn](error_code ec) {
          req->client->on_tls_handshake(req, ec);
        });
    } else {
      lowest.expires_never();
      send(req, req->conn);
    }
  }

  /// `detail` replaces ec.message() in the reason (TLS: why the server's
  /// certificate was refused).
  void connect_failed(const request_ptr& req, error_code ec, const char* what,
                      std::string detail = {}) {
    if (ec == beast::error::timeout)
      return finish(req, http_client_errc::connect_timeout,
                    std::string{"timed out: "} + what
                      + endpoint_.host_header());
    finish(req, ec,
           what + endpoint_.host_header() + ": "
             + (detail.empty() ? ec.message() : detail));
  }

  /// SNI and peer verification for this host, as llm_ws_client does: a
  /// name is checked against the certificate's DNS names, an IP literal
  /// against its IP addresses (and gets no SNI, which RFC 6066 forbids for
  /// addresses).
  template <class TlsStream>
  error_code prepare_tls(TlsStream& stream) {
    return llm::prepare_tls(stream.native_handle(), endpoint_.host);
  }

  void on_tls_handshake(const request_ptr& req, error_code ec) {
    if (req->finished)
      return;
    if (ec)
      return connect_failed(req, ec, "TLS handshake failed with ",
                            describe_tls_error(
                              req->conn->stream.native_handle(), ec));
    beast::get_lowest_layer(req->conn->stream).expires_never();
    send(req, req->conn);
  }

  // -- one exchange -------------------------------------------------------------

  void send(const request_ptr& req, conn_ptr conn) {
    req->conn = std::move(conn);
    http::async_write(req->conn->stream, req->msg,
                      [req, conn = req->conn](error_code ec, std::size_t) {
                        req->client->on_write(req, ec);
                      });
  }

  void on_write(const request_ptr& req, error_code ec) {
    if (req->finished)
      return;
    if (ec) {
      if (can_retry(req))
        return retry(req);
      return finish(req, ec, "write failed: " + ec.message());
    }
    req->parser.emplace();
    req->parser->body_limit(options_.max_response_bytes);
    http::async_read_header(
      req->conn->stream, req->conn->buffer, *req->parser,
      [req, conn = req->conn](error_code ec, std::size_t) {
        req->client->on_header(req, ec);
      });
  }

  /// A reused connection that failed before any byte of a response: the
  /// server had closed it, so the request never reached it (or was never
  /// answered); sending it again once is what browsers do too.
  bool can_retry(const request_ptr& req) const {
    return req->conn->reused && !req->retried
           && (!req->parser || !req->parser->got_some());
  }

  void retry(const request_ptr& req) {
    req->retried = true;
    req->conn->close();
    req->conn.reset();
    req->parser.reset();
    open_connection(req);
  }

  void on_header(const request_ptr& req, error_code ec) {
    if (req->finished)
      return;
    if (ec) {
      if (can_retry(req))
        return retry(req);
      return finish(req, ec, "reading the response failed: " + ec.message());
    }
    auto& res = req->parser->get();
    auto content_type = res[http::field::content_type];
    if (starts_with_ci({content_type.data(), content_type.size()},
                       "text/event-stream"))
      req->events.emplace();
    if (req->callbacks.on_status)
      req->callbacks.on_status(res.result_int(),
                               std::string{res[http::field::retry_after]});
    read_body(req);
  }

  void read_body(const request_ptr& req) {
    if (req->parser->is_done())
      return complete(req);
    auto& body = req->parser->get().body();
    body.data = req->chunk.data();
    body.size = req->chunk.size();
    http::async_read_some(
      req->conn->stream, req->conn->buffer, *req->parser,
      [req, conn = req->conn](error_code ec, std::size_t) {
        req->client->on_body(req, ec);
      });
  }

  // The request's parser, message and chunk buffer stay with it (never reset
  // in finish()) for the same reason: the handlers hold the request.
  void on_body(const request_ptr& req, error_code ec) {
    if (req->finished)
      return;
    if (ec == http::error::need_buffer)
      ec = {}; // the chunk buffer is full: deliver it, then read on
    if (ec)
      return finish(req, ec, "reading the response failed: " + ec.message());
    auto n = req->chunk.size() - req->parser->get().body().size;
    std::string_view bytes{req->chunk.data(), n};
    if (req->events) {
      for (auto& ev : req->events->feed(bytes)) {
        if (req->callbacks.on_event)
          req->callbacks.on_event(std::move(ev.data));
      }
      if (req->events->failed())
        return finish(req, http_client_errc::malformed_event_stream,
                      req->events->error());
    } else {
      // body_limit bounds this.
      req->body.append(bytes);
    }
    read_body(req);
  }

  void complete(const request_ptr& req) {
    auto& res = req->parser->get();
    bool reusable = res.keep_alive() && !req->parser->need_eof();
    if (!req->events && req->callbacks.on_body)
      req->callbacks.on_body(std::move(req->body));
    finish(req, {}, "", reusable);
  }

  static bool starts_with_ci(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size())
      return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(text[i]))
          != static_cast<unsigned char>(prefix[i]))
        return false;
    return true;
  }

  // -- ending -------------------------------------------------------------------

  /// The single exit of a request: hands its connection back to the pool
  /// (only after a complete response) or closes it, which makes its pending
  /// operations fail into handlers that find `finished` set; then calls
  /// on_done once and lets the next waiting request in.
  void finish(const request_ptr& req, error_code ec, std::string reason,
              bool keep_connection = false) {
    if (req->finished)
      return;
    req->finished = true;
    req->deadline.cancel();
    req->resolver.cancel();
    if (req->queued) {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), req),
                   queue_.end());
      req->queued = false;
    }
    if (auto conn = std::move(req->conn)) {
      if (keep_connection && !closed_
          && idle_.size() < options_.max_connections) {
        conn->idle_since = clock_type::now();
        idle_.push_back(std::move(conn));
      } else {
        conn->close();
      }
    }
    if (req->has_slot) {
      req->has_slot = false;
      active_.erase(req);
    }
    // Released before the call: the callbacks may own the request.
    auto callbacks = std::move(req->callbacks);
    req->callbacks = {};
    if (callbacks.on_done)
      callbacks.on_done(ec, std::move(reason));
    pump();
  }

  void do_close() {
    closed_ = true;
    // Copies: finish() edits both containers.
    auto waiting = std::vector<request_ptr>(queue_.begin(), queue_.end());
    auto busy = std::vector<request_ptr>(active_.begin(), active_.end());
    for (auto& req : waiting)
      finish(req, http_client_errc::cancelled, "client closed");
    for (auto& req : busy)
      finish(req, http_client_errc::cancelled, "client closed");
    for (auto& conn : idle_)
      conn->close();
    idle_.clear();
  }

  // Declared before everything that may refer to it.
  std::shared_ptr<ssl::context> ssl_ctx_;
  strand_type strand_;
  llm_endpoint endpoint_;
  std::string api_key_;
  http_client_options options_;
  std::deque<request_ptr> queue_; // waiting for a connection slot
  std::set<request_ptr> active_;  // holding a slot (connecting or exchanging)
  std::vector<conn_ptr> idle_;    // kept alive, most recently used last
  bool closed_ = false;
};

using plain_client = client_impl<beast::tcp_stream>;
using tls_client = client_impl<beast::ssl_stream<beast::tcp_stream>>;

} // namespace

std::shared_ptr<llm_http_client>
llm_http_client::make(net::any_io_executor executor, llm_endpoint endpoint,
                      std::string api_key, http_client_options options) {
  if (endpoint.websocket() || (endpoint.scheme != "http"
                               && endpoint.scheme != "https"))
    throw std::invalid_argument{
      make_error_code(http_client_errc::not_http).message()};
  auto strand = net::make_strand(executor);
  if (!endpoint.tls())
    return std::make_shared<plain_client>(strand, std::move(endpoint),
                                          std::move(api_key), options,
                                          nullptr);
  auto ctx = make_verifying_tls_context();
  return std::make_shared<tls_client>(strand, std::move(endpoint),
                                      std::move(api_key), options,
                                      std::move(ctx));
}

} // namespace parley::llm
