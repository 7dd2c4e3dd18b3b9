#include "transport/llm_ws_client.hpp"

#include "transport/tls_client.hpp"

#include <deque>
#include <stdexcept>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace parley::llm {

// -- errors -------------------------------------------------------------------

namespace {

class ws_client_category_impl : public boost::system::error_category {
public:
  const char* name() const noexcept override {
    return "parley.llm_ws_client";
  }

  std::string message(int ev) const override {
    switch (static_cast<ws_client_errc>(ev)) {
      case ws_client_errc::queue_full:
        return "outgoing queue full";
      case ws_client_errc::connect_timeout:
        return "connect or handshake timed out";
      case ws_client_errc::not_websocket:
        return "not a ws:// or wss:// endpoint";
    }
    return "unknown llm_ws_client error";
  }
};

} // namespace

const boost::system::error_category& ws_client_category() noexcept {
  static const ws_client_category_impl instance;
  return instance;
}

error_code make_error_code(ws_client_errc e) noexcept {
  return {static_cast<int>(e), ws_client_category()};
}

llm_ws_client::~llm_ws_client() = default;

// -- implementation -------------------------------------------------------------

namespace {

using strand_type = net::strand<net::any_io_executor>;

/// One implementation for ws:// (NextLayer = tcp_stream) and wss://
/// (ssl_stream<tcp_stream>). All members are touched on strand_ only.
template <class NextLayer>
class client_impl final : public llm_ws_client {
public:
  static constexpr bool tls = !std::is_same_v<NextLayer, beast::tcp_stream>;

  /// `stream_args` construct the websocket stream: (strand) or
  /// (strand, *ssl_ctx).
  template <class... StreamArgs>
  client_impl(strand_type strand, llm_endpoint endpoint, std::string api_key,
              ws_client_options options, ws_client_callbacks callbacks,
              std::shared_ptr<ssl::context> ssl_ctx,
              StreamArgs&&... stream_args)
    : ssl_ctx_(std::move(ssl_ctx)),
      strand_(std::move(strand)),
      endpoint_(std::move(endpoint)),
      api_key_(std::move(api_key)),
      options_(options),
      callbacks_(std::move(callbacks)),
      resolver_(strand_),
      timer_(strand_),
      ws_(std::forward<StreamArgs>(stream_args)...) {
    // nop
  }

  void start() override {
    net::post(strand_, [self = self()] { self->do_start(); });
  }

  void send(std::string frame) override {
    net::post(strand_, [self = self(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  void close() override {
    net::post(strand_, [self = self()] { self->do_close_request(); });
  }

private:
  std::shared_ptr<client_impl> self() {
    return std::static_pointer_cast<client_impl>(shared_from_this());
  }

  // -- opening phase ------------------------------------------------------------

  void do_start() {
    if (started_ || finished_)
      return;
    started_ = true;
    // One deadline for the whole opening phase: the resolver has no timeout
    // of its own, and a server that accepts but never answers must not hang
    // the LLM actor.
    timer_.expires_after(options_.handshake_timeout);
    timer_.async_wait([self = self()](error_code ec) {
      if (ec || self->finished_ || self->open_)
        return;
      self->finish(ws_client_errc::connect_timeout,
                   "no connection to " + self->endpoint_.host_header()
                     + " within the handshake timeout");
    });
    resolver_.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                            [self = self()](error_code ec,
                                            tcp::resolver::results_type res) {
                              self->on_resolve(ec, std::move(res));
                            });
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (finished_)
      return;
    if (ec)
      return finish(ec, "cannot resolve " + endpoint_.host + ": "
                          + ec.message());
    beast::get_lowest_layer(ws_).async_connect(
      results, [self = self()](error_code ec, const tcp::endpoint&) {
        self->on_connect(ec);
      });
  }

  void on_connect(error_code ec) {
    if (finished_)
      return;
    if (ec)
      return finish(ec, "cannot connect to " + endpoint_.host_header() + ": "
                          + ec.message());
    // The LLM's requests are small and latency-bound.
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay{true},
                                                     ignored);
    if constexpr (tls) {
      if (auto err = prepare_tls(); err)
        return finish(err, "TLS setup failed: " + err.message());
      ws_.next_layer().async_handshake(ssl::stream_base::client,
                                       [self = self()](error_code ec) {
                                         self->on_tls_handshake(ec);
                                       });
    } else {
      ws_handshake();
    }
  }

  /// SNI and peer verification for this host: a name is checked against the
  /// certificate's DNS names, an IP literal against its IP addresses (and
  /// gets no SNI, which RFC 6066 forbids for addresses).
  error_code prepare_tls() {
    return llm::prepare_tls(ws_.next_layer().native_handle(), endpoint_.host);
  }

  void on_tls_handshake(error_code ec) {
    if (finished_)
      return;
    if (ec)
      return finish(ec, "TLS handshake with " + endpoint_.host_header()
                          + " failed: "
                          + describe_tls_error(
                            ws_.next_layer().native_handle(), ec));
    ws_handshake();
  }

  void ws_handshake() {
    // Beast's own timeouts take over from here: the handshake timeout also
    // bounds the closing handshake, the idle timeout sends keep-alive pings.
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = options_.handshake_timeout;
    timeouts.idle_timeout = options_.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
      [key = api_key_](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "Parley");
        // No key, no header: some servers reject an empty bearer token.
        if (!key.empty())
          req.set(beast::http::field::authorization, "Bearer " + key);
      }));
    ws_.read_message_max(options_.max_message_bytes);
    ws_.async_handshake(response_, endpoint_.host_header(), endpoint_.target,
                        [self = self()](error_code ec) {
                          self->on_ws_handshake(ec);
                        });
  }

  void on_ws_handshake(error_code ec) {
    if (finished_)
      return;
    if (ec) {
      if (ec == websocket::error::upgrade_declined)
        return finish(ec, "the server declined the upgrade: HTTP "
                            + std::to_string(response_.result_int()) + " "
                            + std::string{response_.reason()});
      return finish(ec, "WebSocket handshake with " + endpoint_.host_header()
                          + " failed: " + ec.message());
    }
    response_ = {};
    open_ = true;
    timer_.cancel();
    if (callbacks_.on_open)
      callbacks_.on_open();
    do_read();
    if (!queue_.empty() && !writing_)
      do_write();
  }

  // -- reading ------------------------------------------------------------------

  void do_read() {
    ws_.async_read(buffer_, [self = self()](error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(error_code ec) {
    if (finished_)
      return;
    if (ec) {
      if (closing_)
        return finish({}, "closed locally");
      if (ec == websocket::error::closed) {
        auto cr = ws_.reason();
        return finish(ec, "closed by the server (code "
                            + std::to_string(cr.code) + ")"
                            + (cr.reason.empty() ? std::string{}
                                                 : ": " + std::string{cr.reason.c_str()}));
      }
      return finish(ec, "read failed: " + ec.message());
    }
    auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (callbacks_.on_frame)
      callbacks_.on_frame(std::move(text));
    do_read();
  }

  // -- writing ------------------------------------------------------------------

  void enqueue(std::string frame) {
    if (finished_ || closing_)
      return;
    if (queue_.size() >= options_.max_queued_frames)
      return finish(ws_client_errc::queue_full,
                    std::to_string(queue_.size()) + " frames unsent");
    queue_.push_back(std::move(frame));
    if (open_ && !writing_)
      do_write();
  }

  void do_write() {
    if (queue_.empty()) {
      writing_ = false;
      if (closing_)
        do_close();
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
                    [self = self()](error_code ec, std::size_t) {
                      self->on_write(ec);
                    });
  }

  void on_write(error_code ec) {
    if (finished_)
      return;
    if (ec) {
      writing_ = false;
      if (closing_)
        return finish({}, "closed locally");
      return finish(ec, "write failed: " + ec.message());
    }
    queue_.pop_front();
    do_write();
  }

  // -- closing ------------------------------------------------------------------

  void do_close_request() {
    if (finished_ || closing_)
      return;
    if (!open_) {
      // Still connecting (or never started): nothing to say goodbye to.
      return finish({}, "closed locally");
    }
    closing_ = true;
    if (!writing_)
      do_close();
  }

  void do_close() {
    if (close_sent_ || finished_)
      return;
    close_sent_ = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = self()](error_code) {
                      self->finish({}, "closed locally");
                    });
  }

  /// The single exit: cancels everything still pending (their handlers find
  /// finished_ set) and calls on_close once.
  void finish(error_code ec, std::string reason) {
    if (finished_)
      return;
    finished_ = true;
    timer_.cancel();
    resolver_.cancel();
    queue_.clear();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    // Released before the call: the callbacks may own this client.
    auto callbacks = std::move(callbacks_);
    callbacks_ = {};
    if (callbacks.on_close)
      callbacks.on_close(ec, std::move(reason));
  }

  // Declared before ws_: the TLS stream refers to it.
  std::shared_ptr<ssl::context> ssl_ctx_;
  strand_type strand_;
  llm_endpoint endpoint_;
  std::string api_key_;
  ws_client_options options_;
  ws_client_callbacks callbacks_;
  tcp::resolver resolver_;
  net::steady_timer timer_;
  websocket::stream<NextLayer> ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool started_ = false;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false; // close() while open: no more frames accepted
  bool close_sent_ = false;
  bool finished_ = false;
};

using plain_client = client_impl<beast::tcp_stream>;
using tls_client = client_impl<beast::ssl_stream<beast::tcp_stream>>;

} // namespace

std::shared_ptr<llm_ws_client>
llm_ws_client::make(net::any_io_executor executor, llm_endpoint endpoint,
                    std::string api_key, ws_client_options options,
                    ws_client_callbacks callbacks) {
  if (!endpoint.websocket())
    throw std::invalid_argument{
      make_error_code(ws_client_errc::not_websocket).message()};
  auto strand = net::make_strand(executor);
  if (!endpoint.tls())
    return std::make_shared<plain_client>(strand, std::move(endpoint),
                                          std::move(api_key), options,
                                          std::move(callbacks), nullptr,
                                          strand);
  auto ctx = make_verifying_tls_context();
  auto& ctx_ref = *ctx;
  return std::make_shared<tls_client>(strand, std::move(endpoint),
                                      std::move(api_key), options,
                                      std::move(callbacks), std::move(ctx),
                                      strand, ctx_ref);
}

} // namespace parley::llm
