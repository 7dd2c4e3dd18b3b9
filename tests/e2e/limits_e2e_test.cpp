// Every limit of a public chat server (limit_config, docs/security.md),
// against the real binary with small values set through its environment:
// connections in all and per address, header and body sizes, frame sizes,
// the request (slowloris), WebSocket idle and closing-handshake timeouts,
// message rates per session and per address, answers waiting per session,
// and clients that read too slowly (queue limit and send timeout).
//
// Other client addresses: any 127.x.y.z reaches the server on 127.0.0.1
// when the client binds it before connecting (raw_options::source_address).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/raw_client.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

milliseconds since(clock_type::time_point start) {
  return std::chrono::duration_cast<milliseconds>(clock_type::now() - start);
}

raw_options from(const std::string& address) {
  raw_options options;
  options.source_address = address;
  return options;
}

json parse_body(const http_response& res) {
  return json::parse(res.body, nullptr, false);
}

/// The start of a request that never ends: the server holds the connection
/// (and its place among the connections) while it waits for the rest. An
/// unknown path: its 404 is written without asking any actor, so nothing
/// but the connection itself holds on to it.
constexpr const char* partial_request = "GET /held-open HTTP/1.1\r\n";

/// The rest of partial_request, asking the server to close afterwards.
constexpr const char* rest_of_request
  = "Host: x\r\nConnection: close\r\n\r\n";

class limits_e2e : public e2e_fixture {
protected:
  void TearDown() override {
    if (HasFailure() && mock_)
      ADD_FAILURE() << "mock LLM log:\n" << mock_->log();
    e2e_fixture::TearDown();
  }

  /// A connection from `address` that sent half a request line and waits.
  raw_socket hold(const std::string& address = {}) {
    raw_socket sock{host(), port(), from(address)};
    EXPECT_TRUE(sock.send_all(partial_request));
    return sock;
  }

  /// Finishes a held request (Connection: close) and reads the answer to
  /// the end. The server closes it in the handler that wrote the answer, on
  /// its one io thread (PARLEY_IO_THREADS=1), and lets go of its place when
  /// that handler returns: before it can accept the client's next
  /// connection.
  void finish(raw_socket& held) {
    ASSERT_TRUE(held.send_all(rest_of_request));
    std::string received;
    auto how = held.wait_closed(frame_timeout, &received);
    EXPECT_TRUE(how == raw_status::eof || how == raw_status::error)
      << to_string(how);
    EXPECT_TRUE(contains(received, "HTTP/1.1 404")) << received;
    held.close();
  }

  /// The mock LLM with `args`, and the server answering through it (the
  /// rules route, so each message is one LLM request) with `env`.
  void start_with_llm(std::vector<std::string> args,
                      std::map<std::string, std::string> env) {
    args.insert(args.end(), {"--protocol", "websocket"});
    mock_ = std::make_unique<mock_llm_process>(std::move(args));
    env.emplace("AGENT_ROUTER", "rules");
    start_server({"--llm-url",
                  "ws://127.0.0.1:" + std::to_string(mock_->port()) + "/chat"},
                 env);
    ASSERT_TRUE(server().wait_for_line("LLM connected", 20000ms))
      << server().log();
  }

  /// Reads `client` until `replies` message frames and `errors` error frames
  /// arrived; returns them all.
  template <class Client>
  std::vector<json> read_counting(Client& client, std::size_t replies,
                                  std::size_t errors, milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    std::vector<json> frames;
    std::size_t got_replies = 0;
    std::size_t got_errors = 0;
    while (got_replies < replies || got_errors < errors) {
      auto left = std::chrono::duration_cast<milliseconds>(
        deadline - clock_type::now());
      if (left.count() <= 0)
        throw std::runtime_error("read_counting: timed out; frames:\n"
                                 + dump(frames));
      frames.push_back(client.read_json(left));
      auto type = type_of(frames.back());
      got_replies += type == "message" ? 1 : 0;
      got_errors += type == "error" ? 1 : 0;
    }
    return frames;
  }

  /// The session's stored messages, from the admin API.
  json stored_messages(std::int64_t session_id) {
    auto res = admin_get(host(), port(),
                         "/api/sessions/" + std::to_string(session_id)
                           + "?include_messages=true");
    EXPECT_EQ(res.status, 200u) << res.body;
    auto body = parse_body(res);
    if (body.is_discarded() || !body.contains("data"))
      return json::array();
    return body["data"].value("messages", json::array());
  }

  static std::vector<std::string> client_ids(const json& messages) {
    std::vector<std::string> ids;
    for (const auto& m : messages)
      if (m.value("is_user", false) && m["client_id"].is_string())
        ids.push_back(m["client_id"].get<std::string>());
    return ids;
  }

  /// Sends a message from a raw WebSocket and reads through its answer.
  static std::vector<json> raw_exchange(raw_ws& client, const std::string& id) {
    client.send_json({{"type", "message"}, {"text", "hello " + id}, {"id", id}});
    auto frames = client.read_until_type("message", frame_timeout);
    EXPECT_EQ(type_of(frames.front()), "ack") << dump(frames);
    EXPECT_EQ(frames.front()["id"], id) << dump(frames);
    return frames;
  }

  std::unique_ptr<mock_llm_process> mock_;
};

// -- connections --------------------------------------------------------------

// PARLEY_MAX_CONNECTIONS: with all places taken, HTTP gets 503 with
// Retry-After and a JSON error, a WebSocket opens only to hear why (an
// error frame server_busy, then close 1013 with the reason); a client that
// does not answer that close frame is cut after the handshake timeout.
// Once some connections end, new ones are served.
TEST_F(limits_e2e, connections_over_the_limit_are_told_why_then_served) {
  start_server({}, {{"PARLEY_MAX_CONNECTIONS", "6"},
                    {"PARLEY_HANDSHAKE_TIMEOUT", "1"},
                    {"PARLEY_IO_THREADS", "1"}});
  // Six places: three chat sockets and three requests that never end.
  std::vector<std::unique_ptr<ws_client>> chats;
  for (int i = 0; i < 3; ++i) {
    chats.push_back(std::make_unique<ws_client>());
    open_session(*chats.back());
  }
  std::vector<raw_socket> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(hold());

  auto busy = http_get(host(), port(), "/health");
  EXPECT_EQ(busy.status, 503u) << busy.body;
  EXPECT_FALSE(busy.header("Retry-After").empty());
  auto body = parse_body(busy);
  ASSERT_TRUE(body.is_object()) << busy.body;
  EXPECT_EQ(body.value("success", true), false) << busy.body;
  EXPECT_TRUE(contains(body.value("error", ""), "busy")) << busy.body;
  EXPECT_EQ(busy.header("Content-Type"), "application/json");

  ws_client refused;
  refused.connect(host(), port(), "/ws");
  std::vector<json> frames;
  auto end = refused.wait_closed(frame_timeout, &frames);
  ASSERT_EQ(frames.size(), 1u) << dump(frames);
  EXPECT_EQ(type_of(frames[0]), "error") << frames[0];
  EXPECT_EQ(frames[0].value("code", ""), "server_busy") << frames[0];
  EXPECT_EQ(seq_of(frames[0]), 0) << frames[0];
  EXPECT_EQ(end.status, read_status::closed) << end.describe();
  EXPECT_EQ(end.close_code, 1013) << end.describe();
  EXPECT_TRUE(contains(end.close_reason, "busy")) << end.describe();

  // The same refusal to a client that never answers the close frame: the
  // server does not wait for it longer than the handshake timeout (1 s).
  {
    raw_ws silent{host(), port()};
    auto close = silent.until_close(frame_timeout);
    ASSERT_EQ(close.kind, raw_ws::event::frame) << close.describe();
    EXPECT_EQ(close.data.close_code(), 1013) << close.describe();
    auto closed_at = clock_type::now();
    auto how = silent.socket().wait_closed(5000ms);
    EXPECT_TRUE(how == raw_status::eof || how == raw_status::error)
      << "the server still holds a socket that never answered its close "
         "frame: "
      << to_string(how);
    EXPECT_GE(since(closed_at), 400ms) << "cut before the handshake timeout";
  }

  // The held connections were not disturbed, and when two of them end,
  // their places are free again.
  finish(held[0]);
  finish(held[1]);
  auto health = http_get(host(), port(), "/health");
  EXPECT_EQ(health.status, 200u) << health.body;
  ws_client fresh;
  open_session(fresh);
  auto got = send_message(fresh, "hello", "after-the-limit");
  EXPECT_EQ(got.ack["id"], "after-the-limit");
  // And the chats that held their places all along still work.
  for (auto& chat : chats)
    ping_barrier(*chat);
}

// Telling a refused client why is bounded too: at most 64 are being told
// at once (each for at most 2 s, whatever the request timeout); more are
// closed without a word.
TEST_F(limits_e2e, refusals_are_bounded_in_number_and_time) {
  start_server({}, {{"PARLEY_MAX_CONNECTIONS", "2"},
                    {"PARLEY_REQUEST_TIMEOUT", "60"},
                    {"PARLEY_IO_THREADS", "1"}});
  std::vector<raw_socket> held;
  held.push_back(hold());
  held.push_back(hold());
  // 64 refused connections that say nothing: each is waited for.
  std::vector<raw_socket> refused;
  auto opened = clock_type::now();
  for (int i = 0; i < 64; ++i)
    refused.emplace_back(host(), port());
  // The 65th is not told anything, even though it asks properly.
  raw_socket unheard{host(), port()};
  ASSERT_TRUE(unheard.send_all(http_request_text("GET", "/health", "x")));
  std::string received;
  auto how = unheard.wait_closed(frame_timeout, &received);
  EXPECT_TRUE(how == raw_status::eof || how == raw_status::error)
    << to_string(how);
  EXPECT_EQ(received, "") << "a 65th refusal got an answer";
  // The 64 are let go after the refusal timeout (2 s), not the request
  // timeout (60 s).
  for (auto& sock : refused) {
    auto ended = sock.wait_closed(6000ms);
    EXPECT_TRUE(ended == raw_status::eof || ended == raw_status::error)
      << to_string(ended);
  }
  EXPECT_GE(since(opened), 1000ms) << "refused connections cut at once";
  EXPECT_LE(since(opened), 6000ms);
  // Still full, so the next one is told again.
  auto busy = http_get(host(), port(), "/health");
  EXPECT_EQ(busy.status, 503u) << busy.body;
  // The two admitted ones were never cut.
  finish(held[0]);
  EXPECT_EQ(http_get(host(), port(), "/health").status, 200u);
}

// PARLEY_MAX_CONNECTIONS_PER_ADDRESS: one address holding its maximum is
// refused more (told that it is about its address), other addresses are not.
TEST_F(limits_e2e, connections_per_address_are_limited) {
  start_server({}, {{"PARLEY_MAX_CONNECTIONS_PER_ADDRESS", "3"},
                    {"PARLEY_IO_THREADS", "1"}});
  const std::string greedy = "127.0.0.2";
  std::vector<raw_socket> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(hold(greedy));

  auto res = raw_http_request(host(), port(), from(greedy), "GET", "/health");
  EXPECT_EQ(res.status, 503u) << res.body;
  EXPECT_FALSE(res.header("Retry-After").empty());
  auto body = parse_body(res);
  ASSERT_TRUE(body.is_object()) << res.body;
  EXPECT_TRUE(contains(body.value("error", ""), "your address")) << res.body;

  raw_ws refused{host(), port(), "/ws", from(greedy)};
  std::vector<json> frames;
  auto end = refused.until_close(frame_timeout, &frames);
  ASSERT_EQ(frames.size(), 1u) << dump(frames);
  EXPECT_EQ(frames[0].value("code", ""), "server_busy") << frames[0];
  EXPECT_EQ(seq_of(frames[0]), 0) << frames[0];
  EXPECT_TRUE(contains(frames[0].value("message", ""), "your address"))
    << frames[0];
  ASSERT_EQ(end.kind, raw_ws::event::frame) << end.describe();
  EXPECT_EQ(end.data.close_code(), 1013) << end.describe();
  EXPECT_TRUE(contains(end.data.close_reason(), "your address"))
    << end.describe();

  // Other addresses are served: 127.0.0.1 chats, 127.0.0.3 asks.
  EXPECT_EQ(http_get(host(), port(), "/health").status, 200u);
  ws_client other;
  open_session(other);
  send_message(other, "hello", "other-address");
  auto third = raw_http_request(host(), port(), from("127.0.0.3"), "GET",
                                "/health");
  EXPECT_EQ(third.status, 200u) << third.body;
  // One of the greedy address's connections ends: it may open another.
  finish(held[0]);
  raw_ws again{host(), port(), "/ws", from(greedy)};
  EXPECT_EQ(type_of(again.read_json()), "session");
}

// -- sizes --------------------------------------------------------------------

// PARLEY_MAX_HEADER_BYTES and PARLEY_MAX_BODY_BYTES: 431 and 413 beyond
// them, served within them.
TEST_F(limits_e2e, header_and_body_sizes_are_limited) {
  start_server({}, {{"PARLEY_MAX_HEADER_BYTES", "2048"},
                    {"PARLEY_MAX_BODY_BYTES", "4096"}});
  auto within = http_request(host(), port(), "GET", "/health", {},
                             {{"X-Padding", std::string(1500, 'p')}});
  EXPECT_EQ(within.status, 200u) << within.body;
  auto too_big = http_request(host(), port(), "GET", "/health", {},
                              {{"X-Padding", std::string(3000, 'p')}});
  EXPECT_EQ(too_big.status, 431u) << too_big.body;
  EXPECT_EQ(parse_body(too_big).value("success", true), false)
    << too_big.body;

  auto body_of = [](std::size_t size) {
    json body{{"message", "hello"},
              {"user_email", "size@example.com"},
              {"metadata", {{"pad", ""}}}};
    auto base = body.dump().size();
    body["metadata"]["pad"] = std::string(size - base, 'x');
    return body.dump();
  };
  http_headers json_type{{"Content-Type", "application/json"}};
  auto fits = http_request(host(), port(), "POST", "/api/chat/send",
                           body_of(4000), json_type);
  EXPECT_EQ(fits.status, 201u) << fits.body;
  auto over = http_request(host(), port(), "POST", "/api/chat/send",
                           body_of(5000), json_type);
  EXPECT_EQ(over.status, 413u) << over.body;
  EXPECT_EQ(parse_body(over).value("success", true), false) << over.body;
  EXPECT_EQ(http_get(host(), port(), "/health").status, 200u);
}

// A frame far beyond the message limit (about 6 times it, room for JSON
// escaping) closes the socket with 1009; one just over the limit is only a
// message_too_long error (chat_e2e_test holds the rest of that).
TEST_F(limits_e2e, a_frame_far_over_the_message_limit_closes_with_1009) {
  start_server({"--max-message-bytes", "64"});
  ws_client client;
  open_session(client);
  // 64 * 6 + 4096 = 4480 bytes: a frame of 4400 is read, and refused.
  client.send_json({{"type", "message"}, {"text", std::string(4350, 'a')}});
  auto frame = client.read_json(frame_timeout);
  EXPECT_EQ(frame.value("code", ""), "message_too_long") << frame;
  ping_barrier(client);
  client.send_json({{"type", "message"}, {"text", std::string(5000, 'a')}});
  std::vector<json> frames;
  auto end = client.wait_closed(frame_timeout, &frames);
  EXPECT_EQ(end.status, read_status::closed) << end.describe();
  EXPECT_EQ(end.close_code, 1009) << end.describe() << "\n" << dump(frames);
  ws_client other;
  open_session(other);
  send_message(other, "still here", "after-1009");
}

// -- timeouts -----------------------------------------------------------------

// PARLEY_REQUEST_TIMEOUT bounds the whole request, not each byte: a client
// trickling its header (slowloris) is cut after about the timeout without
// an answer, and so is a keep-alive connection that sends nothing more.
TEST_F(limits_e2e, a_request_trickled_byte_by_byte_is_cut_at_the_timeout) {
  start_server({}, {{"PARLEY_REQUEST_TIMEOUT", "1"}});
  auto request = http_request_text("GET", "/health", "x", {},
                                   {{"X-Slow", std::string(100, 's')}});
  raw_socket slow{host(), port()};
  auto start = clock_type::now();
  std::string received;
  auto how = raw_status::timeout;
  std::size_t sent = 0;
  // One byte every 100 ms: the request would take about 14 s.
  while (sent < request.size() && since(start) < 10s) {
    if (!slow.send_all(request.substr(sent, 1), 1000ms)) {
      how = raw_status::error;
      break;
    }
    ++sent;
    how = slow.receive(received, 100ms);
    if (how != raw_status::timeout)
      break;
  }
  auto elapsed = since(start);
  EXPECT_TRUE(how == raw_status::eof || how == raw_status::error)
    << "still open after " << elapsed.count() << " ms and " << sent
    << " bytes: " << to_string(how);
  EXPECT_GE(elapsed, 500ms) << "cut long before the timeout";
  EXPECT_LE(elapsed, 3500ms) << "the timeout (1 s) did not cut it";
  EXPECT_EQ(received, "") << "a trickled request got an answer";
  std::cout << "[ limits ] slowloris cut after " << elapsed.count()
            << " ms, " << sent << " bytes sent\n";

  // Between requests the same timeout applies.
  raw_socket idle{host(), port()};
  ASSERT_TRUE(idle.send_all(http_request_text("GET", "/health", "x")));
  auto answer = read_http_response(idle, frame_timeout);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200u);
  auto answered = clock_type::now();
  auto idle_end = idle.wait_closed(5000ms);
  EXPECT_TRUE(idle_end == raw_status::eof || idle_end == raw_status::error)
    << to_string(idle_end);
  EXPECT_GE(since(answered), 500ms);
  EXPECT_EQ(http_get(host(), port(), "/health").status, 200u);
}

// PARLEY_IDLE_TIMEOUT: the server pings a silent chat socket and closes it
// when nothing comes back within the timeout; a client that answers the
// pings stays.
TEST_F(limits_e2e, a_socket_that_never_answers_pings_is_closed) {
  start_server({}, {{"PARLEY_IDLE_TIMEOUT", "1"}});
  raw_ws silent{host(), port()};
  raw_ws answering{host(), port()};
  answering.answer_pings = true;
  EXPECT_EQ(type_of(silent.read_json()), "session");
  EXPECT_EQ(type_of(answering.read_json()), "session");
  // Both are read in turns; only `answering` answers the server's pings.
  auto start = clock_type::now();
  int pings = 0;
  int answered = 0;
  raw_ws::event end;
  milliseconds closed_after{0};
  while (since(start) < 2500ms || end.kind == raw_ws::event::timeout) {
    if (since(start) > 6000ms)
      break;
    if (end.kind == raw_ws::event::timeout) {
      auto ev = silent.next(20ms);
      if (ev.kind == raw_ws::event::ended
          || (ev.kind == raw_ws::event::frame
              && ev.data.opcode == ws_opcode::close)) {
        end = ev;
        closed_after = since(start);
      } else if (ev.kind == raw_ws::event::frame) {
        pings += ev.data.opcode == ws_opcode::ping ? 1 : 0;
      }
    }
    auto other = answering.next(20ms);
    ASSERT_NE(other.kind, raw_ws::event::ended)
      << "the socket that answers pings was closed after "
      << since(start).count() << " ms";
    if (other.kind == raw_ws::event::frame) {
      ASSERT_NE(other.data.opcode, ws_opcode::close) << other.describe();
      answered += other.data.opcode == ws_opcode::ping ? 1 : 0;
    }
  }
  EXPECT_NE(end.kind, raw_ws::event::timeout) << "never closed";
  EXPECT_GE(pings, 1) << "closed without a ping first";
  EXPECT_GE(closed_after, 500ms);
  EXPECT_LE(closed_after, 3500ms);
  std::cout << "[ limits ] silent socket closed after " << closed_after.count()
            << " ms (" << end.describe() << ")\n";
  // The one that answered is still there more than two timeouts later.
  EXPECT_GE(answered, 1);
  answering.send_json({{"type", "ping"}});
  EXPECT_EQ(type_of(answering.read_json()), "pong");
}

// -- rates --------------------------------------------------------------------

// PARLEY_SESSION_RATE and PARLEY_SESSION_BURST: the message past the burst
// is refused with rate_limited, its client_id and retry_after_ms, and not
// stored; sent again after that wait, it is stored and answered once.
TEST_F(limits_e2e, messages_per_session_are_rate_limited) {
  start_server({}, {{"PARLEY_SESSION_RATE", "60"},
                    {"PARLEY_SESSION_BURST", "3"}});
  ws_client client;
  auto session = open_session(client);
  for (auto id : {"r1", "r2", "r3", "r4"})
    client.send_json({{"type", "message"}, {"text", "hi there"}, {"id", id}});
  auto frames = read_counting(client, 3, 1, 10000ms);
  std::vector<std::string> acked;
  json refusal;
  for (const auto& f : frames) {
    if (type_of(f) == "ack")
      acked.push_back(f["id"].get<std::string>());
    if (type_of(f) == "error")
      refusal = f;
  }
  EXPECT_EQ(acked, (std::vector<std::string>{"r1", "r2", "r3"}))
    << dump(frames);
  EXPECT_EQ(refusal.value("code", ""), "rate_limited") << refusal;
  EXPECT_EQ(refusal.value("client_id", ""), "r4") << refusal;
  ASSERT_TRUE(refusal["retry_after_ms"].is_number_integer()) << refusal;
  auto wait = refusal["retry_after_ms"].get<std::int64_t>();
  EXPECT_GT(wait, 0) << refusal;
  EXPECT_LE(wait, 1000) << "one message a second: " << refusal;
  EXPECT_GT(seq_of(refusal), session.seq) << refusal;
  EXPECT_TRUE(ping_barrier(client).size() == 1) << "nothing else for r4";
  auto ids = client_ids(stored_messages(session.session_id));
  EXPECT_EQ(ids, (std::vector<std::string>{"r1", "r2", "r3"}))
    << "the refused message must not be stored";

  // The client does what the frame says: waits, then sends it again.
  std::this_thread::sleep_for(milliseconds{wait});
  auto again = send_message(client, "hi there", "r4");
  EXPECT_EQ(again.ack["id"], "r4");
  auto rest = ping_barrier(client);
  EXPECT_EQ(rest.size(), 1u) << "answered once:\n" << dump(rest);
  client.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.user_rows_in_session(session.session_id), 4);
  EXPECT_EQ(db.user_rows_with_client_id(session.session_id, "r4"), 1);
  EXPECT_EQ(db.replies_to(again.ack["message_id"].get<std::int64_t>()), 1);
}

// PARLEY_ADDRESS_RATE and PARLEY_ADDRESS_BURST: one budget for all the
// sockets and REST calls of an address; REST gets 429 with Retry-After and
// code rate_limited; another address has its own budget.
TEST_F(limits_e2e, messages_per_address_are_rate_limited) {
  // 6 a minute: no token comes back while the test runs. A burst of 6:
  // two new chats (each costs a token, like a message) and four messages.
  start_server({}, {{"PARLEY_ADDRESS_RATE", "6"},
                    {"PARLEY_ADDRESS_BURST", "6"},
                    {"PARLEY_SESSION_RATE", "0"}});
  const std::string busy = "127.0.0.2";
  raw_ws first{host(), port(), "/ws", from(busy)};
  raw_ws second{host(), port(), "/ws", from(busy)};
  auto first_session = first.read_json();
  auto second_session = second.read_json();
  ASSERT_EQ(type_of(first_session), "session");
  ASSERT_EQ(type_of(second_session), "session");
  // Four messages over two sessions use the address's burst.
  raw_exchange(first, "a1");
  raw_exchange(second, "b1");
  raw_exchange(first, "a2");
  raw_exchange(second, "b2");
  for (auto* client : {&first, &second}) {
    auto id = client == &first ? "a3" : "b3";
    client->send_json({{"type", "message"}, {"text", "more"}, {"id", id}});
    auto frame = client->read_json(frame_timeout);
    EXPECT_EQ(frame.value("code", ""), "rate_limited") << frame;
    EXPECT_EQ(frame.value("client_id", ""), id) << frame;
    EXPECT_GT(frame.value("retry_after_ms", 0), 0) << frame;
  }
  auto rest = raw_http_request(
    host(), port(), from(busy), "POST", "/api/chat/send",
    json{{"message", "hello"}, {"user_email", "busy@example.com"}}.dump(),
    {{"Content-Type", "application/json"}});
  EXPECT_EQ(rest.status, 429u) << rest.body;
  EXPECT_FALSE(rest.header("Retry-After").empty());
  EXPECT_GE(std::atoi(rest.header("Retry-After").c_str()), 1);
  auto rest_body = parse_body(rest);
  EXPECT_EQ(rest_body.value("code", ""), "rate_limited") << rest.body;
  EXPECT_EQ(rest_body.value("success", true), false) << rest.body;
  // A third new chat from the address is refused as well.
  raw_ws third{host(), port(), "/ws", from(busy)};
  std::vector<json> frames;
  auto end = third.until_close(frame_timeout, &frames);
  ASSERT_EQ(frames.size(), 1u) << dump(frames);
  EXPECT_EQ(frames[0].value("code", ""), "rate_limited") << frames[0];
  ASSERT_EQ(end.kind, raw_ws::event::frame) << end.describe();
  EXPECT_EQ(end.data.close_code(), 1013) << end.describe();

  // 127.0.0.1 has a budget of its own (the same burst of 6), over
  // WebSocket and REST: a new chat, three messages, one REST chat.
  ws_client calm;
  open_session(calm);
  for (auto id : {"c1", "c2", "c3"})
    send_message(calm, "hello", id);
  auto calm_rest = http_request(
    host(), port(), "POST", "/api/chat/send",
    json{{"message", "hello"}, {"user_email", "calm@example.com"}}.dump(),
    {{"Content-Type", "application/json"}});
  EXPECT_EQ(calm_rest.status, 201u) << calm_rest.body;

  // Nothing of the refused ones was stored.
  auto a_id = first_session["session_id"].get<std::int64_t>();
  auto b_id = second_session["session_id"].get<std::int64_t>();
  EXPECT_EQ(client_ids(stored_messages(a_id)),
            (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(client_ids(stored_messages(b_id)),
            (std::vector<std::string>{"b1", "b2"}));
}

// -- answers waiting ----------------------------------------------------------

// PARLEY_MAX_PENDING_REPLIES: with a slow LLM, the message past the limit
// gets too_many_pending (not stored); once the answers came, it goes in.
TEST_F(limits_e2e, answers_waiting_per_session_are_limited) {
  start_with_llm({"--latency-ms", "1000"},
                 {{"PARLEY_MAX_PENDING_REPLIES", "2"},
                  {"PARLEY_SESSION_RATE", "0"},
                  {"PARLEY_ADDRESS_RATE", "0"}});
  ws_client client;
  auto session = open_session(client);
  for (auto id : {"p1", "p2", "p3"})
    client.send_json({{"type", "message"}, {"text", "hello " + std::string{id}},
                      {"id", id}});
  auto frames = read_counting(client, 2, 1, 15000ms);
  std::vector<std::string> acked;
  json refusal;
  for (const auto& f : frames) {
    if (type_of(f) == "ack")
      acked.push_back(f["id"].get<std::string>());
    if (type_of(f) == "error")
      refusal = f;
  }
  EXPECT_EQ(acked, (std::vector<std::string>{"p1", "p2"})) << dump(frames);
  EXPECT_EQ(refusal.value("code", ""), "too_many_pending") << refusal;
  EXPECT_EQ(refusal.value("client_id", ""), "p3") << refusal;
  EXPECT_GT(refusal.value("retry_after_ms", 0), 0) << refusal;
  EXPECT_EQ(client_ids(stored_messages(session.session_id)),
            (std::vector<std::string>{"p1", "p2"}));
  // Both answered by now: p3 is taken.
  auto again = ask(client, "hello p3", "p3");
  EXPECT_EQ(again.ack["id"], "p3");
  EXPECT_EQ(again.reply["text"], "Echo: hello p3");
  EXPECT_EQ(ping_barrier(client).size(), 1u);
}

// -- slow readers -------------------------------------------------------------

/// A client that sends `count` messages and reads nothing, with a small
/// receive buffer: the server has ~`count` answers of 60 KB to send it.
void flood_without_reading(raw_ws& client, int count) {
  for (int i = 0; i < count; ++i)
    if (!client.send_json({{"type", "message"},
                           {"text", "hello " + std::to_string(i)},
                           {"id", "big-" + std::to_string(i)}},
                          2000ms))
      break; // dropped already
}

// PARLEY_MAX_QUEUED_BYTES: a client that does not read while the server has
// megabytes for it is dropped once its queue passes the limit; the server's
// memory does not grow with what it could not send, and others are served.
TEST_F(limits_e2e, a_client_that_reads_too_slowly_is_dropped) {
  start_with_llm({"--oversized", "60000"},
                 {{"PARLEY_MAX_QUEUED_BYTES", "65536"},
                  {"PARLEY_MAX_PENDING_REPLIES", "10000"},
                  {"PARLEY_SESSION_RATE", "0"},
                  {"PARLEY_ADDRESS_RATE", "0"}});
  auto rss_before = resident_bytes(server().pid());
  raw_options small;
  small.receive_buffer = 4096;
  raw_ws reader{host(), port(), "/ws", small};
  auto greeting = reader.read_json();
  ASSERT_EQ(type_of(greeting), "session") << greeting;
  auto mark = server().line_count();
  auto start = clock_type::now();
  constexpr int messages = 700; // 42 MB of answers, were they all queued
  flood_without_reading(reader, messages);
  auto line = server().wait_for_line("dropped: it reads too slowly", 30000ms,
                                     mark);
  ASSERT_TRUE(line.has_value()) << "the slow reader was never dropped";
  // The client finds the end of the connection once it reads.
  auto how = reader.socket().wait_closed(10000ms);
  EXPECT_TRUE(how == raw_status::eof || how == raw_status::error)
    << to_string(how);
  // One more message to the session over REST is answered after all the
  // others (one at a time, in order): then every answer has been made.
  auto barrier = http_request(
    host(), port(), "POST", "/api/chat/send",
    json{{"message", "hello barrier"},
         {"user_email", "slow@example.com"},
         {"session_id", greeting["session_id"]},
         {"resume_token", greeting["resume_token"]}}
      .dump(),
    {{"Content-Type", "application/json"}}, 60000ms);
  EXPECT_EQ(barrier.status, 201u) << barrier.body;
  auto elapsed = since(start);
  ws_client other;
  open_session(other);
  auto got = ask(other, "hello there", "other");
  EXPECT_EQ(got.reply["source"], "llm");
  auto rss_after = resident_bytes(server().pid());
  auto growth = rss_after > rss_before ? rss_after - rss_before : 0;
  std::cout << "[ limits ] slow reader dropped; " << messages
            << " answers made in " << elapsed.count() << " ms; server VmRSS "
            << rss_before / 1024 << " kB -> " << rss_after / 1024 << " kB\n";
  // Were the answers queued for the client, that would be 42 MB.
  EXPECT_LT(growth, memory_scale * 30 * 1024 * 1024);
}

// PARLEY_SEND_TIMEOUT: with room in the queue, a client that reads nothing
// for the send timeout is dropped as well.
TEST_F(limits_e2e, a_client_that_reads_nothing_is_dropped_after_the_send_timeout) {
  start_with_llm({"--oversized", "60000"},
                 {{"PARLEY_SEND_TIMEOUT", "1"},
                  {"PARLEY_MAX_QUEUED_BYTES", "1073741824"},
                  {"PARLEY_MAX_QUEUED_FRAMES", "1000000"},
                  {"PARLEY_MAX_PENDING_REPLIES", "10000"},
                  {"PARLEY_SESSION_RATE", "0"},
                  {"PARLEY_ADDRESS_RATE", "0"}});
  raw_options small;
  small.receive_buffer = 4096;
  raw_ws reader{host(), port(), "/ws", small};
  auto mark = server().line_count();
  flood_without_reading(reader, 100); // 6 MB of answers
  auto line = server().wait_for_line("dropped: nothing read for", 30000ms,
                                     mark);
  ASSERT_TRUE(line.has_value()) << "the client that reads nothing stays";
  auto how = reader.socket().wait_closed(10000ms);
  EXPECT_TRUE(how == raw_status::eof || how == raw_status::error)
    << to_string(how);
  ws_client other;
  open_session(other);
  auto got = ask(other, "hello again", "other");
  EXPECT_EQ(got.reply["source"], "llm");
}

// The outgoing queue limits drop clients that stopped reading, not clients
// that get a burst at once: a resume from seq 0 replays the whole
// conversation, far more frames than the limit, to a client reading it.
TEST_F(limits_e2e, a_resume_replays_more_than_the_queue_limit) {
  start_server({}, {{"PARLEY_MAX_QUEUED_FRAMES", "16"},
                    {"PARLEY_SESSION_RATE", "0"},
                    {"PARLEY_ADDRESS_RATE", "0"}});
  ws_client client;
  auto session = open_session(client);
  constexpr int messages = 12; // 24 replayed frames, the limit is 16
  for (int i = 0; i < messages; ++i)
    send_message(client, "hello", "m" + std::to_string(i));
  client.close();
  ws_client again;
  auto first = resume_session(again, session, 0);
  ASSERT_EQ(first.value("type", ""), "session") << first;
  auto frames = ping_barrier(again);
  std::size_t acks = 0;
  std::size_t replies = 0;
  for (const auto& frame : frames) {
    acks += frame.value("type", "") == "ack" ? 1 : 0;
    replies += frame.value("type", "") == "message" ? 1 : 0;
  }
  EXPECT_EQ(acks, static_cast<std::size_t>(messages));
  EXPECT_EQ(replies, static_cast<std::size_t>(messages));
  EXPECT_FALSE(server().log().find("reads too slowly") != std::string::npos)
    << "a reading client was dropped";
}

} // namespace
} // namespace parley::test
