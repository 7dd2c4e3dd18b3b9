#include "tools/mock_llm/http_connection.hpp"

#include <cerrno>
#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "tools/mock_llm/agent_mode.hpp"
#include "tools/mock_llm/wire.hpp"
#include "tools/mock_llm/ws_connection.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using json = nlohmann::json;

namespace parley::mock_llm {

namespace {

constexpr std::size_t max_body_bytes = 16 * 1024 * 1024;
constexpr std::chrono::seconds write_timeout{30};

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

response json_response(unsigned status, const request& req, std::string body) {
  response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "parley-mock-llm");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::optional<std::string> authorization_of(const request& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end())
    return std::nullopt;
  return std::string{it->value()};
}

/// A chat completion being answered: the parsed request, its fate, and for
/// a streamed answer the Server-Sent Events still to send.
struct chat_job {
  chat_request req;
  request_plan plan;
  unsigned version = 11;
  bool keep_alive = true;
  completion_ids ids;
  std::vector<std::string> events;
  std::vector<bool> delay_before; // --chunk-delay-ms before this event
  std::size_t next = 0;
  bool drop_at_end = false; // --close-mid-stream: no final chunk
  bool truncate = false;    // --truncate-frame: event 1 goes out cut
};

/// One class for plain TCP (Stream = tcp_stream) and TLS
/// (ssl_stream<tcp_stream>, after the handshake).
template <class Stream>
class http_connection
  : public std::enable_shared_from_this<http_connection<Stream>> {
public:
  static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

  http_connection(Stream&& stream, mock_state& state)
    : stream_(std::move(stream)), timer_(stream_.get_executor()),
      state_(state) {
    // nop
  }

  void run() {
    do_read();
  }

private:
  std::shared_ptr<http_connection> self() {
    return this->shared_from_this();
  }

  const options& opts() const noexcept {
    return state_.opts();
  }

  /// The TCP layer: its deadline bounds reads and writes, its socket is
  /// what the hang-up watch and the shutdown use.
  beast::tcp_stream& tcp() {
    return beast::get_lowest_layer(stream_);
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(max_body_bytes);
    auto idle = opts().idle_timeout_ms;
    if (idle == 0)
      tcp().expires_never();
    else
      tcp().expires_after(std::chrono::milliseconds{idle});
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_connection::on_read,
                                               self()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream)
      return do_close();
    if (ec) {
      state_.log("http read ends: " + ec.message());
      return;
    }
    handle(parser_->release());
  }

  void handle(request req) {
    auto target = std::string{req.target()};
    auto path = target.substr(0, target.find('?'));
    if (path == "/stats" && req.method() == http::verb::get)
      return write(json_response(200, req, state_.stats_json()));
    if (!slot_.taken())
      slot_ = connection_slot{state_};
    auto openai = opts().protocol == protocol_kind::openai;
    if (beast::websocket::is_upgrade(req)) {
      if (openai)
        return write(json_response(
          400, req,
          openai_error_body("this mock speaks the OpenAI-compatible protocol "
                            "(POST /v1/chat/completions), not WebSocket",
                            "invalid_request_error", "")));
      return upgrade(std::move(req));
    }
    if (!openai) {
      auto res = json_response(
        426, req,
        dump({{"error", "this mock speaks the custom LLM WebSocket "
                        "protocol: upgrade to a WebSocket"}}));
      res.set(http::field::upgrade, "websocket");
      return write(std::move(res));
    }
    auto is = [&path](const char* suffix) {
      return path == std::string{"/v1"} + suffix || path == suffix;
    };
    if (is("/chat/completions")) {
      if (req.method() != http::verb::post)
        return method_not_allowed(req, "POST");
      return answer_chat(req);
    }
    if (is("/models")) {
      if (req.method() != http::verb::get)
        return method_not_allowed(req, "GET");
      return answer_models(req);
    }
    write(json_response(404, req,
                        openai_error_body("unknown path " + path,
                                          "invalid_request_error",
                                          "unknown_url")));
  }

  void method_not_allowed(const request& req, const char* allow) {
    auto res = json_response(405, req,
                             openai_error_body("method not allowed",
                                               "invalid_request_error", ""));
    res.set(http::field::allow, allow);
    write(std::move(res));
  }

  // Checks --require-key; answers 401 itself and returns false on a refusal.
  bool authorized(const request& req) {
    if (state_.authorize(authorization_of(req)))
      return true;
    auto res = json_response(
      401, req,
      openai_error_body("Incorrect API key provided (parley-mock-llm "
                        "--require-key)",
                        "invalid_request_error", "invalid_api_key"));
    res.set(http::field::www_authenticate, "Bearer");
    write(std::move(res));
    return false;
  }

  void upgrade(request req) {
    if (state_.authorize(authorization_of(req))) {
      // The stream now belongs to the WebSocket; this connection ends here
      // and must not touch it again.
      tcp().expires_never();
      closed_ = true;
      if constexpr (tls)
        start_ws_connection(std::move(stream_), state_, std::move(slot_),
                            std::move(req));
      else
        start_ws_connection(beast::tcp_stream{stream_.release_socket()},
                            state_, std::move(slot_), std::move(req));
      return;
    }
    auto res = json_response(401, req,
                             dump({{"error", "invalid or missing API key "
                                             "(parley-mock-llm "
                                             "--require-key)"}}));
    res.set(http::field::www_authenticate, "Bearer");
    res.keep_alive(false);
    write(std::move(res));
  }

  void answer_models(const request& req) {
    if (!authorized(req))
      return;
    // A cheap probe that real servers (OpenAI, Ollama, vLLM) all offer.
    state_.health_check();
    json body{{"object", "list"},
              {"data",
               json::array({{{"id", "mock-model"},
                             {"object", "model"},
                             {"created", 0},
                             {"owned_by", "parley-mock-llm"}}})}};
    write(json_response(200, req, dump(body)));
  }

  void answer_chat(const request& req) {
    if (!authorized(req))
      return;
    auto parsed = parse_chat_request(req.body());
    if (!parsed.error.empty())
      return write(json_response(400, req,
                                 openai_error_body(parsed.error,
                                                   "invalid_request_error",
                                                   "")));
    job_.emplace();
    job_->plan = state_.plan_request(parsed.body);
    job_->req = std::move(parsed);
    job_->version = req.version();
    job_->keep_alive = req.keep_alive();
    job_->ids.id = "chatcmpl-mock-" + std::to_string(job_->plan.number);
    job_->ids.created = static_cast<std::int64_t>(std::time(nullptr));
    job_->ids.model = job_->req.model;
    state_.log("chat request #" + std::to_string(job_->plan.number)
               + (job_->req.stream ? " (stream)" : ""));
    // What the answer needs of the request, without its body.
    request_ = std::make_shared<request>();
    request_->version(req.version());
    request_->keep_alive(req.keep_alive());
    watch_client();
    if (opts().latency_ms == 0)
      return respond();
    timer_.expires_after(std::chrono::milliseconds{opts().latency_ms});
    timer_.async_wait([self = self()](beast::error_code ec) {
      if (!ec && !self->closed_)
        self->respond();
    });
  }

  void respond() {
    auto& job = *job_;
    const auto& req = *request_;
    if (job.plan.status != 0)
      return write(status_response(req, job.plan.status));
    if (job.plan.fail)
      return write(json_response(500, req,
                                 openai_error_body("mock failure "
                                                   "(parley-mock-llm "
                                                   "--fail-nth)",
                                                   "server_error", "")));
    if (job.plan.garbage) {
      state_.log("answering with garbage (--garbage)");
      if (!job.req.stream)
        return write(json_response(200, req, "this is not JSON {"));
      for (auto& event : sse_garbage_events()) {
        job.events.push_back(std::move(event));
        job.delay_before.push_back(false);
      }
      job.events.push_back(sse_done());
      job.delay_before.push_back(false);
      return start_stream();
    }
    // A tool call (its name and arguments), or text.
    std::string tool_name;
    std::string tool_args;
    std::string text;
    std::string call_id;
    if (opts().agent) {
      auto answer = agent_answer(job.req.user_text, job.req.tools);
      if (answer.call) {
        tool_name = std::move(answer.call->name);
        tool_args = std::move(answer.call->arguments);
      }
      text = std::move(answer.text);
      call_id = "call_" + std::to_string(job.plan.number);
    } else {
      if (!opts().tool_call.empty() && job.req.tools_offered
          && !job.req.tool_result) {
        tool_name = opts().tool_call;
        tool_args = opts().tool_args;
      }
      text = reply_text(opts(), job.req.user_text, job.req.tool_result);
      call_id = "call_mock_" + std::to_string(job.plan.number);
    }
    if (job.plan.oversized != 0) {
      tool_name.clear();
      text.assign(job.plan.oversized, 'x');
    }
    auto tool_call = !tool_name.empty();
    if (opts().agent)
      state_.log("agent: " + (tool_call ? "calls " + tool_name + " " + tool_args
                                        : "answers `" + text + "`"));
    std::uint64_t completion_tokens = tool_call ? 1 : count_tokens(text);
    if (!job.req.stream) {
      if (job.plan.drop)
        return drop();
      if (job.plan.truncate) {
        auto body = completion_body(job.ids, text, call_id, tool_name,
                                    tool_args, job.req.prompt_tokens,
                                    completion_tokens);
        return write_cut("HTTP/1.1 200 OK\r\nServer: parley-mock-llm\r\n"
                         "Content-Type: application/json\r\n"
                         "Content-Length: "
                         + std::to_string(body.size()) + "\r\n\r\n"
                         + body.substr(0, body.size() / 2));
      }
      if (tool_call)
        state_.tool_call_emitted(tool_name);
      return write(json_response(
        200, req,
        completion_body(job.ids, text, call_id, tool_name, tool_args,
                        job.req.prompt_tokens, completion_tokens)));
    }
    std::vector<json> deltas;
    json first{{"role", "assistant"}};
    if (tool_call) {
      first["content"] = nullptr;
      // Several argument pieces even with --chunks 1: clients must join them.
      deltas = tool_call_deltas(call_id, tool_name, tool_args,
                                std::max<std::size_t>(2, opts().chunks));
    } else if (job.plan.oversized != 0) {
      first["content"] = "";
      deltas.push_back({{"content", text}}); // one event, all of it
    } else {
      first["content"] = "";
      for (auto& piece : split_chunks(text, opts().chunks))
        deltas.push_back({{"content", std::move(piece)}});
    }
    job.truncate = job.plan.truncate;
    auto add = [&job](std::string event, bool delay) {
      job.events.push_back(std::move(event));
      job.delay_before.push_back(delay);
    };
    add(sse_chunk(job.ids, first), false);
    for (std::size_t i = 0; i < deltas.size(); ++i) {
      if (job.plan.drop && i >= opts().close_mid_stream.value_or(0))
        break;
      add(sse_chunk(job.ids, deltas[i]), i > 0);
    }
    if (job.plan.drop)
      job.drop_at_end = true;
    if (!job.drop_at_end) {
      if (tool_call)
        state_.tool_call_emitted(tool_name);
      add(sse_chunk(job.ids, json::object(), tool_call ? "tool_calls" : "stop"),
          false);
      if (opts().usage_chunk)
        add(sse_usage_chunk(job.ids, job.req.prompt_tokens, completion_tokens),
            false);
      add(sse_done(), false);
    }
    start_stream();
  }

  response status_response(const request& req, unsigned status) {
    std::string body;
    if (status == 429)
      body = openai_error_body("Rate limit reached (parley-mock-llm --status)",
                               "requests", "rate_limit_exceeded");
    else if (status >= 500)
      body = openai_error_body("The server had an error (parley-mock-llm "
                               "--status)",
                               "server_error", "");
    else
      body = openai_error_body("mock status " + std::to_string(status)
                                 + " (parley-mock-llm --status)",
                               "invalid_request_error", "");
    auto res = json_response(status, req, std::move(body));
    if (status == 429 || status == 503)
      res.set(http::field::retry_after, std::to_string(opts().retry_after));
    return res;
  }

  // -- Server-Sent Events, one chunk of the chunked body each ---------------

  void start_stream() {
    sse_head_.emplace(http::status::ok, job_->version);
    sse_head_->set(http::field::server, "parley-mock-llm");
    sse_head_->set(http::field::content_type, "text/event-stream");
    sse_head_->set(http::field::cache_control, "no-cache");
    sse_head_->keep_alive(job_->keep_alive);
    sse_head_->chunked(true);
    serializer_.emplace(*sse_head_);
    tcp().expires_after(write_timeout);
    http::async_write_header(stream_, *serializer_,
                             [self = self()](beast::error_code ec,
                                             std::size_t) {
                               if (ec)
                                 return self->fail("write failed", ec);
                               self->next_event();
                             });
  }

  void next_event() {
    if (closed_)
      return;
    auto& job = *job_;
    if (job.next == job.events.size()) {
      if (job.drop_at_end)
        return drop();
      tcp().expires_after(write_timeout);
      net::async_write(stream_, http::make_chunk_last(),
                       [self = self()](beast::error_code ec,
                                       std::size_t) {
                         if (ec)
                           return self->fail("write failed", ec);
                         self->done(self->job_->keep_alive);
                       });
      return;
    }
    if (job.delay_before[job.next] && opts().chunk_delay_ms > 0) {
      job.delay_before[job.next] = false;
      timer_.expires_after(std::chrono::milliseconds{opts().chunk_delay_ms});
      timer_.async_wait([self = self()](beast::error_code ec) {
        if (!ec)
          self->next_event();
      });
      return;
    }
    if (job.truncate && job.next == 1) {
      // The first delta after the role chunk: its chunk-size line announces
      // all of it, half of it follows, and the connection ends.
      auto& event = job.events[job.next];
      std::ostringstream size;
      size << std::hex << event.size();
      return write_cut(size.str() + "\r\n"
                       + event.substr(0, event.size() / 2));
    }
    current_ = std::move(job.events[job.next++]);
    tcp().expires_after(write_timeout);
    net::async_write(stream_, http::make_chunk(net::buffer(current_)),
                     [self = self()](beast::error_code ec,
                                     std::size_t) {
                       if (ec)
                         return self->fail("write failed", ec);
                       self->next_event();
                     });
  }

  // -- the end of a response ------------------------------------------------

  void write(response res) {
    auto sp = std::make_shared<response>(std::move(res));
    auto keep_alive = !sp->need_eof();
    tcp().expires_after(write_timeout);
    http::async_write(stream_, *sp,
                      [self = self(), sp,
                       keep_alive](beast::error_code ec, std::size_t) {
                        if (ec)
                          return self->fail("write failed", ec);
                        self->done(keep_alive);
                      });
  }

  void done(bool keep_alive) {
    stop_watching();
    job_.reset();
    request_.reset();
    serializer_.reset();
    sse_head_.reset();
    if (closed_)
      return;
    if (keep_alive)
      return do_read();
    do_close();
  }

  // While a chat request is answered, a client that hangs up (how OpenAI
  // clients cancel a stream) is noticed at once, not at the next write.
  // Over TLS the socket is watched the same way: a client that sends a
  // close_notify before it hangs up looks like a pipelined request (bytes to
  // read) and is noticed only at the next write.
  void watch_client() {
    watching_ = true;
    auto gen = ++watch_gen_;
    tcp().socket().async_wait(
      net::socket_base::wait_read,
      [self = self(), gen](beast::error_code ec) {
        if (ec || gen != self->watch_gen_ || !self->watching_ || self->closed_)
          return;
        char c;
        auto n = ::recv(self->tcp().socket().native_handle(), &c, 1,
                        MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) {
          // A pipelined request: the client is still there.
          self->watching_ = false;
          return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          self->watch_client();
          return;
        }
        self->state_.cancelled();
        self->state_.log("the client hung up during a reply: cancelled");
        self->close_socket();
      });
  }

  void stop_watching() {
    if (!watching_)
      return;
    watching_ = false;
    ++watch_gen_;
    beast::error_code ignored;
    tcp().socket().cancel(ignored);
  }

  void drop() {
    state_.dropped();
    state_.log("dropping the connection (--close-mid-stream)");
    close_socket();
  }

  // --truncate-frame: writes `raw` (the start of something longer that it
  // announces), then drops the connection.
  void write_cut(std::string raw) {
    state_.dropped();
    state_.log("cutting the reply short (--truncate-frame)");
    current_ = std::move(raw);
    tcp().expires_after(write_timeout);
    net::async_write(stream_, net::buffer(current_),
                     [self = self()](beast::error_code, std::size_t) {
                       self->close_socket();
                     });
  }

  void fail(const char* what, beast::error_code ec) {
    if (!closed_)
      state_.log(std::string{what} + ": " + ec.message());
    close_socket();
  }

  void close_socket() {
    if (closed_)
      return;
    closed_ = true;
    watching_ = false;
    timer_.cancel();
    beast::error_code ignored;
    tcp().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }

  void do_close() {
    if constexpr (tls) {
      // close_notify first: it tells a TLS client that the end is an end,
      // not a truncation. Bounded: the client need not answer it.
      tcp().expires_after(write_timeout);
      stream_.async_shutdown(
        [self = self()](beast::error_code) {
          beast::error_code ignored;
          self->tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send,
                                        ignored);
        });
    } else {
      beast::error_code ignored;
      tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  net::steady_timer timer_;
  mock_state& state_;
  connection_slot slot_;
  std::optional<chat_job> job_;
  std::shared_ptr<request> request_; // job_'s version and keep-alive
  std::optional<http::response<http::empty_body>> sse_head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::string current_; // the event being written
  bool watching_ = false;
  std::uint64_t watch_gen_ = 0;
  bool closed_ = false;
};

} // namespace

void start_http_connection(beast::tcp_stream&& stream, mock_state& state) {
  std::make_shared<http_connection<beast::tcp_stream>>(std::move(stream),
                                                       state)
    ->run();
}

void start_http_connection(beast::ssl_stream<beast::tcp_stream>&& stream,
                           mock_state& state) {
  std::make_shared<http_connection<beast::ssl_stream<beast::tcp_stream>>>(
    std::move(stream), state)
    ->run();
}

} // namespace parley::mock_llm
