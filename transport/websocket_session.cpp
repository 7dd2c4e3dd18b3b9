#include "transport/websocket_session.hpp"

#include <type_traits>
#include <variant>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp> // teardown of a TLS stream
#include <caf/send.hpp>

#include "config/logging.hpp"
#include "transport/http_router.hpp"
#include "transport/protocol.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

namespace parley::transport {

namespace {

std::shared_ptr<spdlog::logger> log() {
  return logger("transport");
}

/// Frames a session may have in its mailbox from one socket.
constexpr std::size_t max_unhandled = 32;

/// A queue over its limits is dropped at once past this many times them;
/// below, only once the client has read nothing for stall_grace. Keeps a
/// resume's replay (a burst, read at once) from dropping a good client.
constexpr std::size_t hard_queue_factor = 4;
constexpr auto stall_grace = std::chrono::seconds{1};

/// Bytes made ready for a message's first read. A read waits with its
/// buffer prepared, and Beast's own choice (1,536 bytes) is most of an idle
/// connection's memory; a chat frame fits in this, and a longer one comes
/// in further reads.
constexpr std::size_t first_read_bytes = 256;

/// The TCP socket under a WebSocket stream, plain or TLS.
template <class Stream>
net::ip::tcp::socket& tcp_socket(Stream& stream) {
  auto& lowest = beast::get_lowest_layer(stream);
  if constexpr (std::is_same_v<std::decay_t<decltype(lowest)>,
                               net::ip::tcp::socket>)
    return lowest;
  else
    return lowest.socket();
}

} // namespace

template <class NextLayer>
template <class Next>
basic_websocket_session<NextLayer>::basic_websocket_session(
  Next&& next, server_context& ctx, connection_slot slot)
  : ws_(std::forward<Next>(next)),
    bind_timer_(ws_.get_executor()),
    send_timer_(ws_.get_executor()),
    ctx_(ctx),
    slot_(std::move(slot)),
    id_(ctx.next_connection_id++) {
  ctx_.open_connections.opened();
}

template <class NextLayer>
basic_websocket_session<NextLayer>::~basic_websocket_session() {
  ctx_.open_connections.closed();
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::run(request req,
                            std::map<std::string, std::string> query) {
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = ctx_.limits.handshake_timeout;
  timeouts.idle_timeout = ctx_.limits.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
    [](websocket::response_type& res) {
      res.set(beast::http::field::server, "Parley");
    }));
  // Room for JSON escaping around a text at the limit; anything larger is
  // no chat message and fails the connection with 1009 (too big).
  ws_.read_message_max(ctx_.limits.max_message_bytes * 6 + 4096);
  ws_.async_accept(req, beast::bind_front_handler(&basic_websocket_session::on_accept,
                                                  this->shared_from_this(),
                                                  std::move(query)));
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::on_accept(std::map<std::string, std::string> query,
                                  boost::system::error_code ec) {
  if (ec) {
    log()->debug("conn={} handshake failed: {}", id_, ec.message());
    return;
  }
  if (slot_.refused())
    return reject_and_close(protocol::codes::server_busy,
                            refusal_reason(slot_.verdict()),
                            close_codes::try_again_later);
  auto params = parse_resume_params(query);
  if (!params.error.empty())
    return reject_and_close(protocol::codes::invalid_resume, params.error,
                            close_codes::policy_violation);
  if (params.session_id == 0) {
    // A new chat costs a database row, like a message: it draws on the
    // address's message budget, so a script cannot open thousands.
    if (auto wait = ctx_.address_rate.take(slot_.address()); wait.count() > 0)
      return reject_and_close(protocol::codes::rate_limited,
                              "too many new chats from your address; try "
                              "again in a moment",
                              close_codes::try_again_later);
  }
  auto registry = ctx_.directory->get()->registry;
  if (!registry)
    return reject_and_close(protocol::codes::internal_error,
                            "the chat is starting; try again shortly",
                            close_codes::try_again_later);
  log()->debug("conn={} open (session {})", id_, params.session_id);
  // No read until a session actor binds: the client's frames wait in the
  // socket, and the session sends its greeting first.
  bind_timer_.expires_after(ctx_.limits.bind_timeout);
  bind_timer_.async_wait([self = this->shared_from_this()](auto ec) {
    if (!ec && !self->session_ && !self->closing_)
      self->reject_and_close(protocol::codes::internal_error,
                             "the chat did not answer in time",
                             close_codes::try_again_later);
  });
  caf::anon_send(registry, attach_atom_v,
                 std::static_pointer_cast<client_connection>(
                   this->shared_from_this()),
                 attach_request{params.session_id,
                                std::move(params.resume_token),
                                params.last_seq});
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::reject_and_close(const std::string& code,
                                         const std::string& message,
                                         std::uint16_t close_code) {
  enqueue(protocol::error_frame_text(0, code, message));
  closing_ = true;
  close_code_ = close_code;
  close_reason_ = message;
  if (!writing_)
    do_close();
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::bind(session_actor session) {
  net::post(ws_.get_executor(), [self = this->shared_from_this(),
                                 session = std::move(session)]() mutable {
    if (self->finished_ || self->closing_) {
      // The socket went away before the session was ready for it.
      caf::anon_send(session, detach_atom_v, self->id_);
      return;
    }
    self->session_ = std::move(session);
    self->bind_timer_.cancel();
    if (!self->reading_)
      self->do_read();
  });
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::send(std::string frame) {
  net::post(ws_.get_executor(),
            [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
              self->enqueue(std::move(frame));
            });
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::close(std::uint16_t code, std::string reason) {
  net::post(ws_.get_executor(), [self = this->shared_from_this(), code,
                                 reason = std::move(reason)]() mutable {
    if (self->closing_ || self->finished_)
      return;
    self->closing_ = true;
    self->close_code_ = code;
    self->close_reason_ = std::move(reason);
    if (!self->writing_)
      self->do_close();
  });
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::frame_handled() {
  net::post(ws_.get_executor(), [self = this->shared_from_this()] {
    if (self->unhandled_ > 0)
      --self->unhandled_;
    if (self->read_paused_ && self->unhandled_ <= max_unhandled / 2
        && !self->finished_ && !self->closing_) {
      self->read_paused_ = false;
      self->do_read();
    }
  });
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::forwarded() {
  if (++unhandled_ < max_unhandled)
    return do_read();
  // The session is behind: let the client's frames wait in TCP.
  reading_ = false;
  read_paused_ = true;
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::do_read() {
  reading_ = true;
  // 0: past the first read, Beast sizes each read to the frame.
  auto limit = buffer_.size() == 0 ? first_read_bytes : 0;
  ws_.async_read_some(buffer_, limit,
                      beast::bind_front_handler(&basic_websocket_session::on_read,
                                                this->shared_from_this()));
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::clear_buffer() {
  buffer_.consume(buffer_.size());
  // After a long message, back to first_read_bytes while idle.
  if (buffer_.capacity() > first_read_bytes)
    buffer_.shrink_to_fit();
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::on_read(boost::system::error_code ec, std::size_t) {
  if (ec) {
    reading_ = false;
    if (ec == websocket::error::closed)
      return finish("closed by client");
    if (ec == websocket::error::bad_frame_payload)
      return finish("invalid UTF-8 in a text frame (closed with 1007)");
    return finish(ec == net::error::operation_aborted ? "closed"
                                                      : "read failed");
  }
  if (!ws_.is_message_done())
    return do_read();
  if (!ws_.got_text()) {
    clear_buffer();
    auto err = protocol::binary_frame_error();
    caf::anon_send(session_, protocol_error{err.code, err.message, 0, {}});
    return forwarded();
  }
  auto text = beast::buffers_to_string(buffer_.data());
  clear_buffer();
  auto frame = protocol::parse_client_frame(text, ctx_.limits.max_message_bytes);
  if (auto* msg = std::get_if<protocol::message_frame>(&frame)) {
    // The address's budget is shared by all its sockets and REST calls;
    // the session checks its own. A refused message is not stored.
    if (auto wait = ctx_.address_rate.take(slot_.address()); wait.count() > 0)
      caf::anon_send(session_,
                     protocol_error{protocol::codes::rate_limited,
                                    "too many messages from your address; "
                                    "send this one again in a moment",
                                    wait.count(), std::move(msg->client_id)});
    else
      caf::anon_send(session_, client_message{std::move(msg->text),
                                              std::move(msg->client_id)});
  } else if (std::holds_alternative<protocol::ping_frame>(frame)) {
    caf::anon_send(session_, ping_atom_v);
  } else if (auto* cancel = std::get_if<protocol::cancel_frame>(&frame)) {
    caf::anon_send(session_, cancel_atom_v, cancel->reply_to);
  } else {
    auto& err = std::get<protocol::error_frame>(frame);
    caf::anon_send(session_, protocol_error{std::move(err.code),
                                            std::move(err.message), 0,
                                            std::move(err.client_id)});
  }
  forwarded();
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::enqueue(std::string frame) {
  if (closing_ || finished_)
    return;
  const auto& lim = ctx_.limits;
  auto frames = queue_.size() + 1;
  auto bytes = queued_bytes_ + frame.size();
  auto over = frames > lim.max_queued_frames || bytes > lim.max_queued_bytes;
  auto far_over = frames > hard_queue_factor * lim.max_queued_frames
                  || bytes > hard_queue_factor * lim.max_queued_bytes;
  auto stalled = writing_
                 && std::chrono::steady_clock::now() - last_progress_
                      >= stall_grace;
  if (far_over || (over && stalled)) {
    log()->warn("conn={} from {} dropped: it reads too slowly ({} frames, "
                "{} bytes unsent)",
                id_, slot_.address(), queue_.size(), queued_bytes_);
    return drop("outgoing queue full");
  }
  queued_bytes_ = bytes;
  queue_.push_back(std::move(frame));
  if (!writing_)
    do_write();
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::do_write() {
  if (queue_.empty()) {
    writing_ = false;
    send_timer_.cancel();
    if (closing_)
      do_close();
    return;
  }
  if (!writing_)
    last_progress_ = std::chrono::steady_clock::now(); // idle until now
  writing_ = true;
  // Every write gets send_timeout; expires_after cancels the last wait.
  send_timer_.expires_after(ctx_.limits.send_timeout);
  send_timer_.async_wait([self = this->shared_from_this()](auto ec) {
    if (!ec && self->writing_ && !self->finished_) {
      log()->warn("conn={} from {} dropped: nothing read for {} ms", self->id_,
                  self->slot_.address(),
                  self->ctx_.limits.send_timeout.count());
      self->drop("send timeout");
    }
  });
  ws_.text(true);
  ws_.async_write(net::buffer(queue_.front()),
                  beast::bind_front_handler(&basic_websocket_session::on_write,
                                            this->shared_from_this()));
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::on_write(boost::system::error_code ec, std::size_t) {
  if (ec || finished_) { // finished: dropped while this write was done
    writing_ = false;
    queue_.clear();
    queued_bytes_ = 0;
    send_timer_.cancel();
    return finish("write failed");
  }
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
  if (queue_.empty())
    queue_.shrink_to_fit(); // an idle socket keeps no 512-byte block
  last_progress_ = std::chrono::steady_clock::now();
  do_write();
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::drop(const char* why) {
  // The client is not reading: a close frame would not get through either.
  boost::system::error_code ec;
  tcp_socket(ws_).close(ec);
  queue_.clear();
  queued_bytes_ = 0;
  finish(why);
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::do_close() {
  if (close_sent_ || finished_)
    return;
  close_sent_ = true;
  // A close reason holds at most 123 bytes.
  if (close_reason_.size() > 120)
    close_reason_.resize(120);
  ws_.async_close(websocket::close_reason{
                    static_cast<websocket::close_code>(close_code_),
                    close_reason_},
                  [self = this->shared_from_this()](auto) {
                    self->finish("closed by server");
                  });
}

template <class NextLayer>
void basic_websocket_session<NextLayer>::finish(const char* why) {
  if (finished_)
    return;
  finished_ = true;
  bind_timer_.cancel();
  send_timer_.cancel();
  log()->debug("conn={} {}", id_, why);
  if (session_)
    caf::anon_send(session_, detach_atom_v, id_);
}

template class basic_websocket_session<net::ip::tcp::socket>;
template class basic_websocket_session<beast::ssl_stream<beast::tcp_stream>>;

// The two ways in: a plain socket, and a TLS stream after its handshake.
template basic_websocket_session<net::ip::tcp::socket>::basic_websocket_session(
  net::ip::tcp::socket&&, server_context&, connection_slot);
template basic_websocket_session<beast::ssl_stream<beast::tcp_stream>>::
  basic_websocket_session(beast::ssl_stream<beast::tcp_stream>&&,
                          server_context&, connection_slot);

} // namespace parley::transport
