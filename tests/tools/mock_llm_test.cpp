// The mock LLM server (tools/mock_llm/) as Parley's LLM tests will use it:
// the real binary, started per test, driven over real sockets in both
// protocols.

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>

#include "tests/support/mock_llm_process.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"
#include "tests/tools/raw_http.hpp"

using namespace parley::test;
using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto frame_timeout = 5000ms;

std::int64_t ms_since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           clock_type::now() - start)
    .count();
}

class mock_llm : public ::testing::Test {
protected:
  void TearDown() override {
    if (mock_ && mock_->running()) {
      mock_->terminate();
      auto status = mock_->wait_exit(5000ms);
      EXPECT_TRUE(status.is_exit(0)) << status.to_string();
    }
    if (HasFailure() && mock_)
      ADD_FAILURE() << "mock log:\n" << mock_->log();
  }

  /// Starts the mock with `args` (plus --port 0 and --verbose) and waits for
  /// its `mock llm listening on HOST:PORT` line, the whole line.
  void start(std::vector<std::string> args) {
    args.push_back("--verbose");
    mock_ = std::make_unique<mock_llm_process>(std::move(args));
    host_ = mock_->host();
    port_ = mock_->port();
  }

  json stats() {
    auto res = http_get(host_, port_, "/stats");
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body);
  }

  /// Polls /stats until `pred` holds (the mock counts asynchronously to the
  /// client that caused the count).
  template <class Predicate>
  json stats_until(Predicate pred, std::chrono::milliseconds timeout = 3000ms) {
    auto deadline = clock_type::now() + timeout;
    auto s = stats();
    while (!pred(s) && clock_type::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      s = stats();
    }
    return s;
  }

  // -- websocket ----------------------------------------------------------------

  void connect(ws_client& client) {
    client.connect(host_, port_, "/chat");
  }

  static json ws_request(const json& id, const std::string& message,
                         bool stream, json metadata = json::object()) {
    json meta{{"sql_mode", false},
              {"advanced_ai", false},
              {"session_context", json::object()}};
    meta.update(metadata);
    return {{"id", id},
            {"message", message},
            {"model", "test-model"},
            {"metadata", meta},
            {"settings",
             {{"max_tokens", 100}, {"temperature", 0.7}, {"stream", stream}}}};
  }

  static json health_request(const json& id) {
    return ws_request(id, "ping", false, {{"health_check", true}});
  }

  /// Reads frames of request `id` until its final (or error) frame; returns
  /// the deltas' texts and that last frame.
  static std::pair<std::vector<std::string>, json>
  read_reply(ws_client& client) {
    std::vector<std::string> deltas;
    for (;;) {
      auto frame = client.read_json(frame_timeout);
      if (frame.contains("delta")) {
        deltas.push_back(frame["delta"].get<std::string>());
        continue;
      }
      return {deltas, frame};
    }
  }

  // -- openai -------------------------------------------------------------------

  static json chat_body(const std::string& user_text, bool stream,
                        json extra = json::object()) {
    json body{{"model", "test-model"},
              {"messages",
               json::array({{{"role", "system"}, {"content", "Be brief."}},
                            {{"role", "user"}, {"content", user_text}}})},
              {"stream", stream}};
    if (stream)
      body["stream_options"] = {{"include_usage", true}};
    body.update(extra);
    return body;
  }

  http_response post_chat(const json& body, const http_headers& headers = {},
                          std::chrono::milliseconds timeout = frame_timeout) {
    http_headers all{{"Content-Type", "application/json"}};
    all.insert(all.end(), headers.begin(), headers.end());
    return http_request(host_, port_, "POST", "/v1/chat/completions",
                        body.dump(), all, timeout);
  }

  /// Reads every event of a stream whose head was read; the last element is
  /// "[DONE]" when the stream completed.
  static std::vector<std::string> read_events(raw_http& conn,
                                              raw_http::sse_status* end
                                              = nullptr) {
    std::vector<std::string> events;
    for (;;) {
      auto ev = conn.next_event(frame_timeout);
      if (ev.status != raw_http::sse_status::event) {
        if (end != nullptr)
          *end = ev.status;
        return events;
      }
      events.push_back(ev.data);
    }
  }

  std::unique_ptr<mock_llm_process> mock_;
  std::string host_;
  std::uint16_t port_ = 0;
};

// -- both protocols -------------------------------------------------------------

TEST_F(mock_llm, exits_with_0_on_sigint) {
  start({"--protocol", "openai"});
  mock_->interrupt();
  EXPECT_TRUE(mock_->wait_exit(5000ms).is_exit(0));
}

TEST_F(mock_llm, bad_options_exit_with_2) {
  for (auto args : std::vector<std::vector<std::string>>{
         {"--protocol", "grpc"},
         {"--chunks", "0"},
         {"--tool-call", "f", "--tool-args", "[1]"},
         {"--status", "42"},
         {"--tls-cert", "server.crt"},
         {"--tls-key", "server.key"},
         {"--no-such-flag"}}) {
    server_process proc{mock_llm_process::executable_path(), args};
    auto status = proc.wait_exit(5000ms);
    EXPECT_TRUE(status.is_exit(2))
      << args.front() << ": " << status.to_string() << "\n" << proc.log();
  }
}

// -- custom WebSocket protocol ----------------------------------------------------

TEST_F(mock_llm, websocket_streams_deltas_in_order_then_the_final_reply) {
  start({"--protocol", "websocket", "--chunks", "4"});
  ws_client client;
  connect(client);
  client.send_json(ws_request("r1", "hello there", true));
  std::vector<json> frames;
  for (int i = 0; i < 5; ++i)
    frames.push_back(client.read_json(frame_timeout));
  std::string text;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(frames[i].contains("delta")) << frames[i];
    EXPECT_EQ(frames[i]["id"], "r1");
    EXPECT_FALSE(frames[i]["delta"].get<std::string>().empty());
    text += frames[i]["delta"].get<std::string>();
  }
  EXPECT_EQ(text, "Echo: hello there");
  const auto& final_frame = frames[4];
  EXPECT_EQ(final_frame["id"], "r1") << final_frame;
  EXPECT_EQ(final_frame["response"], "Echo: hello there") << final_frame;
  EXPECT_EQ(final_frame["model"], "test-model");
  EXPECT_EQ(final_frame["finish_reason"], "completed");
  EXPECT_EQ(final_frame["tokens_used"], 5); // 2 words asked, 3 answered
  EXPECT_EQ(final_frame["metadata"], json::object());
  EXPECT_EQ(client.read_frame(200ms).status, read_status::timeout);
}

TEST_F(mock_llm, websocket_without_stream_sends_only_the_final_reply) {
  start({"--protocol", "websocket", "--reply", "Fixed answer."});
  ws_client client;
  connect(client);
  client.send_json(ws_request(7, "anything", false));
  auto frame = client.read_json(frame_timeout);
  EXPECT_EQ(frame["id"], 7) << frame;
  EXPECT_EQ(frame["response"], "Fixed answer.") << frame;
  EXPECT_EQ(frame["finish_reason"], "completed");
  EXPECT_EQ(client.read_frame(200ms).status, read_status::timeout);
}

TEST_F(mock_llm, websocket_health_check_answers_at_once_and_counts_apart) {
  start({"--protocol", "websocket", "--latency-ms", "3000"});
  ws_client client;
  connect(client);
  auto t0 = clock_type::now();
  client.send_json(health_request("h1"));
  auto pong = client.read_json(frame_timeout);
  EXPECT_LT(ms_since(t0), 1000);
  EXPECT_EQ(pong["id"], "h1");
  EXPECT_EQ(pong["response"], "pong");
  EXPECT_EQ(pong["tokens_used"], 0);
  EXPECT_EQ(pong["finish_reason"], "completed");
  EXPECT_EQ(pong["metadata"], json({{"health_check", true}}));
  auto s = stats();
  EXPECT_EQ(s["health_checks"], 1) << s;
  EXPECT_EQ(s["requests"], 0) << s;
}

TEST_F(mock_llm, websocket_latency_delays_the_reply) {
  start({"--protocol", "websocket", "--latency-ms", "400"});
  ws_client client;
  connect(client);
  auto t0 = clock_type::now();
  client.send_json(ws_request("slow", "hi", false));
  EXPECT_EQ(client.read_frame(150ms).status, read_status::timeout);
  auto frame = client.read_json(frame_timeout);
  EXPECT_GE(ms_since(t0), 400);
  EXPECT_EQ(frame["response"], "Echo: hi");
}

TEST_F(mock_llm, websocket_fail_nth_fails_that_request_only) {
  start({"--protocol", "websocket", "--fail-nth", "2"});
  ws_client client;
  connect(client);
  client.send_json(health_request("h")); // health checks are not counted
  EXPECT_EQ(client.read_json()["response"], "pong");
  for (auto id : {"a", "b", "c"}) {
    client.send_json(ws_request(id, "x", true));
    auto [deltas, last] = read_reply(client);
    EXPECT_EQ(last["id"], id) << last;
    if (std::string{id} == "b") {
      EXPECT_TRUE(deltas.empty());
      EXPECT_EQ(last["error"], "mock failure") << last;
    } else {
      EXPECT_EQ(last["response"], "Echo: x") << last;
    }
  }
}

TEST_F(mock_llm, websocket_status_gives_error_frames_then_success) {
  start({"--protocol", "websocket", "--status", "429", "--status-count", "2"});
  ws_client client;
  connect(client);
  for (int i = 1; i <= 3; ++i) {
    client.send_json(ws_request(i, "x", false));
    auto frame = client.read_json();
    EXPECT_EQ(frame["id"], i);
    if (i <= 2) {
      EXPECT_EQ(frame["code"], 429) << frame;
      EXPECT_TRUE(frame["error"].is_string()) << frame;
    } else {
      EXPECT_EQ(frame["response"], "Echo: x") << frame;
    }
  }
}

TEST_F(mock_llm, websocket_require_key_refuses_the_upgrade_without_it) {
  start({"--protocol", "websocket", "--require-key", "sekret"});
  ws_client anonymous;
  try {
    connect(anonymous);
    ADD_FAILURE() << "the upgrade without a key succeeded";
  } catch (const ws_error& ex) {
    EXPECT_NE(std::string{ex.what()}.find("HTTP 401"), std::string::npos)
      << ex.what();
  }
  ws_client wrong;
  wrong.set_upgrade_headers({{"Authorization", "Bearer nope"}});
  EXPECT_THROW(connect(wrong), ws_error);
  ws_client right;
  right.set_upgrade_headers({{"Authorization", "Bearer sekret"}});
  connect(right);
  right.send_json(ws_request("k", "hi", false));
  EXPECT_EQ(right.read_json()["response"], "Echo: hi");
  auto s = stats();
  EXPECT_EQ(s["authorized"]["present"], true) << s;
  EXPECT_EQ(s["authorized"]["value"], "Bearer sekret") << s;
  EXPECT_EQ(s["authorized"]["with"], 2) << s;
  EXPECT_EQ(s["authorized"]["without"], 1) << s;
  EXPECT_EQ(s["unauthorized"], 2) << s;
}

TEST_F(mock_llm, websocket_stats_show_whether_a_key_was_sent) {
  start({"--protocol", "websocket"});
  ws_client client;
  connect(client);
  auto s = stats();
  EXPECT_EQ(s["authorized"]["present"], false) << s;
  EXPECT_TRUE(s["authorized"]["value"].is_null()) << s;
  client.set_upgrade_headers({{"Authorization", "Bearer abc"}});
  connect(client);
  s = stats();
  EXPECT_EQ(s["authorized"]["present"], true) << s;
  EXPECT_EQ(s["authorized"]["value"], "Bearer abc") << s;
}

TEST_F(mock_llm, websocket_close_mid_stream_drops_after_n_deltas) {
  start({"--protocol", "websocket", "--chunks", "4", "--close-mid-stream",
         "2", "--close-count", "1"});
  ws_client client;
  connect(client);
  client.send_json(ws_request("d", "hello there", true));
  std::vector<json> frames;
  auto end = client.wait_closed(frame_timeout, &frames);
  EXPECT_EQ(end.status, read_status::error)
    << "expected a drop without a close frame, got " << end.describe();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["delta"].get<std::string>()
              + frames[1]["delta"].get<std::string>(),
            "Echo: he");
  EXPECT_EQ(stats()["dropped"], 1);
  // --close-count 1: the next request streams to the end.
  connect(client);
  client.send_json(ws_request("e", "hello there", true));
  auto [deltas, last] = read_reply(client);
  EXPECT_EQ(deltas.size(), 4u);
  EXPECT_EQ(last["response"], "Echo: hello there") << last;
}

TEST_F(mock_llm, websocket_tool_call_then_tool_results) {
  start({"--protocol", "websocket", "--tool-call", "get_order", "--tool-args",
         R"({"order_id":"A-1"})"});
  ws_client client;
  connect(client);
  client.send_json(ws_request("t1", "where is my order A-1?", true));
  auto [deltas, call] = read_reply(client);
  EXPECT_TRUE(deltas.empty());
  EXPECT_EQ(call["finish_reason"], "tool_calls") << call;
  ASSERT_TRUE(call["metadata"]["tool_calls"].is_array()) << call;
  ASSERT_EQ(call["metadata"]["tool_calls"].size(), 1u) << call;
  auto tc = call["metadata"]["tool_calls"][0];
  EXPECT_EQ(tc["name"], "get_order");
  EXPECT_EQ(json::parse(tc["arguments"].get<std::string>()),
            json({{"order_id", "A-1"}}));
  ASSERT_TRUE(tc["id"].is_string() && !tc["id"].get<std::string>().empty());
  client.send_json(ws_request(
    "t2", "where is my order A-1?", true,
    {{"tool_results", json::array({{{"tool_call_id", tc["id"]},
                                    {"name", "get_order"},
                                    {"content", "shipped on Monday"}}})}}));
  auto [more, answer] = read_reply(client);
  EXPECT_FALSE(more.empty());
  EXPECT_EQ(answer["finish_reason"], "completed") << answer;
  auto text = answer["response"].get<std::string>();
  EXPECT_NE(text.find("shipped on Monday"), std::string::npos) << text;
}

TEST_F(mock_llm, websocket_cancel_stops_the_stream_with_the_text_so_far) {
  // The second delta is due a second after the first: the cancel comes
  // before it even on a busy machine.
  start({"--protocol", "websocket", "--chunks", "4", "--chunk-delay-ms",
         "1000"});
  ws_client client;
  connect(client);
  client.send_json(ws_request("c", "hello there", true));
  auto first = client.read_json();
  ASSERT_TRUE(first.contains("delta")) << first;
  client.send_json({{"id", "c"}, {"cancel", true}});
  auto last = client.read_json();
  EXPECT_EQ(last["id"], "c") << last;
  EXPECT_EQ(last["finish_reason"], "cancelled") << last;
  EXPECT_EQ(last["response"], first["delta"]) << last;
  EXPECT_EQ(client.read_frame(1200ms).status, read_status::timeout);
  EXPECT_EQ(stats()["cancelled"], 1);
  // A cancel for a request no longer in flight is ignored.
  client.send_json({{"id", "c"}, {"cancel", true}});
  EXPECT_EQ(client.read_frame(200ms).status, read_status::timeout);
  EXPECT_EQ(stats()["cancelled"], 1);
}

TEST_F(mock_llm, websocket_serves_concurrent_requests_on_one_connection) {
  start({"--protocol", "websocket", "--chunks", "3", "--chunk-delay-ms",
         "100"});
  ws_client client;
  connect(client);
  std::vector<std::string> ids{"a", "b", "c"};
  for (const auto& id : ids)
    client.send_json(ws_request(id, "message " + id, true));
  std::map<std::string, std::string> text;
  std::map<std::string, json> finals;
  std::vector<std::string> order; // "d:" or "f:" and the id, as they came
  while (finals.size() < ids.size()) {
    auto frame = client.read_json();
    auto id = frame["id"].get<std::string>();
    if (frame.contains("delta")) {
      text[id] += frame["delta"].get<std::string>();
      order.push_back("d:" + id);
    } else {
      finals[id] = frame;
      order.push_back("f:" + id);
    }
  }
  for (const auto& id : ids) {
    EXPECT_EQ(text[id], "Echo: message " + id);
    EXPECT_EQ(finals[id]["response"], "Echo: message " + id);
  }
  // All three were streaming at once: each had a delta before any finished.
  std::set<std::string> started;
  for (const auto& entry : order) {
    if (entry[0] == 'f')
      break;
    started.insert(entry.substr(2));
  }
  EXPECT_EQ(started.size(), 3u) << testing::PrintToString(order);
}

TEST_F(mock_llm, websocket_counts_one_connection_across_requests) {
  start({"--protocol", "websocket"});
  ws_client client;
  connect(client);
  for (int i = 0; i < 5; ++i) {
    client.send_json(ws_request(i, "x", i % 2 == 0));
    read_reply(client);
    if (i < 3) {
      client.send_json(health_request("h" + std::to_string(i)));
      client.read_json();
    }
  }
  auto s = stats();
  EXPECT_EQ(s["connections"], 1) << s;
  EXPECT_EQ(s["open_connections"], 1) << s;
  EXPECT_EQ(s["requests"], 5) << s;
  EXPECT_EQ(s["health_checks"], 3) << s;
  EXPECT_EQ(s["last_request"]["id"], 4) << s;
  client.close();
  s = stats_until([](const json& s) { return s["open_connections"] == 0; });
  EXPECT_EQ(s["open_connections"], 0) << s;
  EXPECT_EQ(s["connections"], 1) << s;
}

TEST_F(mock_llm, websocket_legacy_fields) {
  start({"--protocol", "websocket", "--legacy-fields"});
  ws_client client;
  connect(client);
  client.send_json(ws_request("l", "hi", false));
  auto frame = client.read_json();
  EXPECT_EQ(frame["content"], "Echo: hi") << frame;
  EXPECT_EQ(frame["usage"]["total_tokens"], 3) << frame;
  EXPECT_FALSE(frame.contains("response")) << frame;
  EXPECT_FALSE(frame.contains("tokens_used")) << frame;
}

TEST_F(mock_llm, websocket_bad_frames_get_error_frames) {
  start({"--protocol", "websocket"});
  ws_client client;
  connect(client);
  client.send_text("not json");
  EXPECT_TRUE(client.read_json().contains("error"));
  client.send_json({{"id", "m"}, {"cancel", 1}, {"settings", "odd"}});
  auto frame = client.read_json();
  EXPECT_EQ(frame["id"], "m");
  EXPECT_TRUE(frame.contains("error")) << frame;
  client.send_json(ws_request("ok", "still here", false));
  EXPECT_EQ(client.read_json()["response"], "Echo: still here");
}

TEST_F(mock_llm, websocket_mode_refuses_plain_http) {
  start({"--protocol", "websocket"});
  auto res = post_chat(chat_body("hi", false));
  EXPECT_EQ(res.status, 426u) << res.body;
}

// -- OpenAI-compatible ----------------------------------------------------------------

TEST_F(mock_llm, openai_streams_server_sent_events_one_by_one) {
  start({"--protocol", "openai", "--chunks", "4", "--chunk-delay-ms", "200"});
  raw_http conn{host_, port_};
  auto t0 = clock_type::now();
  conn.send("POST", "/v1/chat/completions", chat_body("hello there", true).dump());
  auto head = conn.read_head(frame_timeout);
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(head.header("Transfer-Encoding"), "chunked");
  std::vector<json> chunks;
  std::vector<std::int64_t> arrival;
  raw_http::sse_result ev;
  while ((ev = conn.next_event(frame_timeout)).status
           == raw_http::sse_status::event
         && ev.data != "[DONE]") {
    chunks.push_back(json::parse(ev.data));
    arrival.push_back(ms_since(t0));
  }
  ASSERT_EQ(ev.data, "[DONE]");
  auto done_at = ms_since(t0);
  EXPECT_EQ(conn.next_event(frame_timeout).status, raw_http::sse_status::end);
  // role, 4 deltas, finish, usage
  ASSERT_EQ(chunks.size(), 7u);
  for (const auto& c : chunks) {
    EXPECT_EQ(c["id"], chunks[0]["id"]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["model"], "test-model");
  }
  EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  for (int i = 1; i <= 4; ++i) {
    EXPECT_TRUE(chunks[i]["choices"][0]["finish_reason"].is_null());
    text += chunks[i]["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, "Echo: hello there");
  EXPECT_EQ(chunks[5]["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(chunks[6]["choices"].empty());
  EXPECT_EQ(chunks[6]["usage"],
            json({{"prompt_tokens", 4},
                  {"completion_tokens", 3},
                  {"total_tokens", 7}}));
  // The deltas arrive as they are sent, not all at the end.
  EXPECT_LE(arrival[1] + 300, done_at)
    << "first delta at " << arrival[1] << " ms, [DONE] at " << done_at;
  // Keep-alive: the same connection takes the next request.
  conn.send("POST", "/chat/completions", chat_body("again", false).dump());
  auto next = conn.read_head(frame_timeout);
  EXPECT_EQ(next.status, 200u);
  EXPECT_EQ(json::parse(conn.read_body(next, frame_timeout))["choices"][0]
                                                         ["message"]["content"],
            "Echo: again");
}

TEST_F(mock_llm, openai_without_stream_answers_one_completion) {
  start({"--protocol", "openai"});
  auto res = post_chat(chat_body("hello there", false));
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  auto body = json::parse(res.body);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Echo: hello there");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["total_tokens"], 7);
}

TEST_F(mock_llm, openai_status_429_twice_then_success) {
  start({"--protocol", "openai", "--status", "429", "--status-count", "2"});
  for (int i = 0; i < 2; ++i) {
    auto res = post_chat(chat_body("x", true));
    EXPECT_EQ(res.status, 429u) << res.body;
    EXPECT_EQ(res.header("Retry-After"), "0");
    auto body = json::parse(res.body);
    EXPECT_EQ(body["error"]["code"], "rate_limit_exceeded") << body;
  }
  auto res = post_chat(chat_body("x", false));
  EXPECT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(stats()["requests"], 3);
}

TEST_F(mock_llm, openai_status_500_then_success) {
  start({"--protocol", "openai", "--status", "500", "--status-count", "1"});
  auto res = post_chat(chat_body("x", false));
  EXPECT_EQ(res.status, 500u) << res.body;
  EXPECT_EQ(json::parse(res.body)["error"]["type"], "server_error");
  EXPECT_TRUE(res.header("Retry-After").empty());
  EXPECT_EQ(post_chat(chat_body("x", false)).status, 200u);
}

TEST_F(mock_llm, openai_fail_nth_answers_500) {
  start({"--protocol", "openai", "--fail-nth", "1", "--fail-nth", "3"});
  std::vector<unsigned> statuses;
  for (int i = 0; i < 4; ++i)
    statuses.push_back(post_chat(chat_body("x", i % 2 == 1)).status);
  EXPECT_EQ(statuses, (std::vector<unsigned>{500, 200, 500, 200}));
}

TEST_F(mock_llm, openai_require_key) {
  start({"--protocol", "openai", "--require-key", "sekret"});
  auto none = post_chat(chat_body("x", false));
  EXPECT_EQ(none.status, 401u) << none.body;
  EXPECT_EQ(json::parse(none.body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(post_chat(chat_body("x", false), {{"Authorization", "Bearer no"}})
              .status,
            401u);
  EXPECT_EQ(
    post_chat(chat_body("x", false), {{"Authorization", "Bearer sekret"}})
      .status,
    200u);
  auto s = stats();
  EXPECT_EQ(s["authorized"]["present"], true) << s;
  EXPECT_EQ(s["authorized"]["value"], "Bearer sekret") << s;
  EXPECT_EQ(s["authorized"]["with"], 2) << s;
  EXPECT_EQ(s["authorized"]["without"], 1) << s;
  EXPECT_EQ(s["requests"], 1) << s; // refused requests are not numbered
  EXPECT_EQ(s["unauthorized"], 2) << s;
}

TEST_F(mock_llm, openai_stats_show_whether_a_key_was_sent) {
  start({"--protocol", "openai"});
  EXPECT_EQ(post_chat(chat_body("x", false)).status, 200u);
  auto s = stats();
  EXPECT_EQ(s["authorized"]["present"], false) << s;
  EXPECT_EQ(post_chat(chat_body("x", false), {{"Authorization", "Bearer k"}})
              .status,
            200u);
  s = stats();
  EXPECT_EQ(s["authorized"]["present"], true) << s;
  EXPECT_EQ(s["authorized"]["value"], "Bearer k") << s;
  EXPECT_EQ(s["last_request"]["model"], "test-model") << s;
}

TEST_F(mock_llm, openai_close_mid_stream_drops_after_n_deltas) {
  start({"--protocol", "openai", "--chunks", "4", "--close-mid-stream", "2"});
  raw_http conn{host_, port_};
  conn.send("POST", "/v1/chat/completions", chat_body("hello there", true).dump());
  auto head = conn.read_head(frame_timeout);
  EXPECT_EQ(head.status, 200u);
  raw_http::sse_status end;
  auto events = read_events(conn, &end);
  EXPECT_EQ(end, raw_http::sse_status::closed);
  ASSERT_EQ(events.size(), 3u); // role, 2 deltas
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Echo");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["delta"]["content"], ": he");
  // Without stream, the answer is dropped whole.
  EXPECT_THROW(post_chat(chat_body("x", false)), ws_error);
  EXPECT_EQ(stats()["dropped"], 2);
}

TEST_F(mock_llm, openai_streamed_tool_call_then_text_with_the_result) {
  auto args = R"({"order_id":"A-1","details":true})";
  start({"--protocol", "openai", "--tool-call", "lookup_order", "--tool-args",
         args, "--chunks", "3"});
  json tools = json::array(
    {{{"type", "function"},
      {"function",
       {{"name", "lookup_order"},
        {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}}});
  raw_http conn{host_, port_};
  conn.send("POST", "/v1/chat/completions",
            chat_body("where is A-1?", true, {{"tools", tools}}).dump());
  ASSERT_EQ(conn.read_head(frame_timeout).status, 200u);
  auto events = read_events(conn);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  std::string id, name, arguments, finish;
  int argument_pieces = 0;
  for (const auto& ev : events) {
    if (ev == "[DONE]")
      continue;
    auto chunk = json::parse(ev);
    if (chunk["choices"].empty())
      continue;
    const auto& choice = chunk["choices"][0];
    if (choice["finish_reason"].is_string())
      finish = choice["finish_reason"];
    const auto& delta = choice["delta"];
    EXPECT_FALSE(delta.contains("content") && delta["content"].is_string()
                 && !delta["content"].get<std::string>().empty())
      << ev;
    if (!delta.contains("tool_calls"))
      continue;
    auto call = delta["tool_calls"][0];
    EXPECT_EQ(call["index"], 0);
    if (call.contains("id"))
      id += call["id"].get<std::string>();
    if (call["function"].contains("name"))
      name += call["function"]["name"].get<std::string>();
    auto piece = call["function"]["arguments"].get<std::string>();
    if (!piece.empty())
      ++argument_pieces;
    arguments += piece;
  }
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(name, "lookup_order");
  EXPECT_EQ(arguments, args);
  EXPECT_GE(argument_pieces, 2);
  EXPECT_EQ(finish, "tool_calls");
  // The agent ran the tool: the answer quotes its result.
  json messages = json::array(
    {{{"role", "user"}, {"content", "where is A-1?"}},
     {{"role", "assistant"},
      {"content", nullptr},
      {"tool_calls",
       json::array({{{"id", id},
                     {"type", "function"},
                     {"function",
                      {{"name", "lookup_order"}, {"arguments", args}}}}})}},
     {{"role", "tool"}, {"tool_call_id", id}, {"content", "shipped Monday"}}});
  auto res = post_chat(
    {{"model", "m"}, {"messages", messages}, {"tools", tools}, {"stream", false}});
  ASSERT_EQ(res.status, 200u) << res.body;
  auto body = json::parse(res.body);
  auto text = body["choices"][0]["message"]["content"].get<std::string>();
  EXPECT_NE(text.find("shipped Monday"), std::string::npos) << text;
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  // Without tools offered there is no tool call.
  auto plain = json::parse(post_chat(chat_body("hi", false)).body);
  EXPECT_EQ(plain["choices"][0]["message"]["content"], "Echo: hi");
}

TEST_F(mock_llm, openai_non_streamed_tool_call) {
  start({"--protocol", "openai", "--tool-call", "kb_search", "--tool-args",
         R"({"query":"refunds"})"});
  json tools = json::array(
    {{{"type", "function"}, {"function", {{"name", "kb_search"}}}}});
  auto res = post_chat(chat_body("refunds?", false, {{"tools", tools}}));
  ASSERT_EQ(res.status, 200u) << res.body;
  auto choice = json::parse(res.body)["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["name"],
            "kb_search");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["arguments"],
            R"({"query":"refunds"})");
}

// -- --agent: a small tool-using model, both protocols ---------------------------

/// The tools Parley's agent offers in answer rounds, and the `route` tool it
/// forces first (parameters left out: the mock reads only the names).
json agent_tools() {
  return json::array(
    {{{"type", "function"}, {"function", {{"name", "get_order"}}}},
     {{"type", "function"}, {"function", {{"name", "knowledge_search"}}}}});
}

json route_tools() {
  return json::array(
    {{{"type", "function"}, {"function", {{"name", "route"}}}}});
}

/// What get_order answers for the demo order 124, and what knowledge_search
/// answers for a return question (the first match is what counts).
const std::string order_124
  = R"({"order_id":"124","status":"shipped","carrier":"UPS","tracking":"1Z9"})";
const std::string return_policy_matches
  = R"({"query":"q","top_k":3,"matches":[{"source":"returns-and-refunds.md",)"
    R"("title":"Returns and Refunds","section":"Return policy","content":"30 days",)"
    R"("score":6.3},{"source":"x.md","title":"X","section":"Other","content":"",)"
    R"("score":1.0}]})";

const std::string both_needs
  = "Where is order 124 and what is your return policy?";

/// A forced route call's arguments for each keyword rule.
const std::vector<std::pair<std::string, json>>& route_cases() {
  static const std::vector<std::pair<std::string, json>> cases{
    {"I want to talk to a HUMAN",
     {{"intent", "ESCALATE_TO_HUMAN"},
      {"confidence", 0.95},
      {"next_action", "respond"},
      {"slot_to_request", nullptr},
      {"tool_name", nullptr},
      {"tool_args", nullptr}}},
    {"where is order 124?",
     {{"intent", "GET_ORDER_INFORMATION"},
      {"confidence", 0.9},
      {"next_action", "call_tool"},
      {"slot_to_request", nullptr},
      {"tool_name", "get_order"},
      {"tool_args", {{"order_id", "124"}}}}},
    {"Tracking my package please",
     {{"intent", "GET_ORDER_INFORMATION"},
      {"confidence", 0.9},
      {"next_action", "ask_for_slot"},
      {"slot_to_request", "order_id"},
      {"tool_name", nullptr},
      {"tool_args", nullptr}}},
    {"I want a refund",
     {{"intent", "REFUND_ORDER"},
      {"confidence", 0.9},
      {"next_action", "ask_for_slot"},
      {"slot_to_request", "order_id"},
      {"tool_name", nullptr},
      {"tool_args", nullptr}}},
    {"What is your Return policy?",
     {{"intent", "KNOWLEDGE_QA"},
      {"confidence", 0.9},
      {"next_action", "call_tool"},
      {"slot_to_request", nullptr},
      {"tool_name", "knowledge_search"},
      {"tool_args", {{"query", "What is your Return policy?"}}}}},
    {"Hi!",
     {{"intent", "GREETING"},
      {"confidence", 0.9},
      {"next_action", "respond"},
      {"slot_to_request", nullptr},
      {"tool_name", nullptr},
      {"tool_args", nullptr}}},
    {"it's 555",
     {{"intent", "GET_ORDER_INFORMATION"},
      {"confidence", 0.9},
      {"next_action", "call_tool"},
      {"slot_to_request", nullptr},
      {"tool_name", "get_order"},
      {"tool_args", {{"order_id", "555"}}}}},
    {"this is something else",
     {{"intent", "UNKNOWN"},
      {"confidence", 0.9},
      {"next_action", "respond"},
      {"slot_to_request", nullptr},
      {"tool_name", nullptr},
      {"tool_args", nullptr}}},
    {"garbage-route where is my order?", {{"intent", "DANCE"}}},
  };
  return cases;
}

/// A streamed chat completion put back together.
struct streamed_completion {
  std::string text;
  std::string call_id;
  std::string call_name;
  std::string call_arguments;
  std::string finish_reason;
  std::size_t content_deltas = 0;
};

streamed_completion join_stream(const std::vector<std::string>& events) {
  streamed_completion result;
  for (const auto& ev : events) {
    if (ev == "[DONE]")
      continue;
    auto chunk = json::parse(ev);
    if (chunk["choices"].empty())
      continue;
    const auto& choice = chunk["choices"][0];
    if (choice["finish_reason"].is_string())
      result.finish_reason = choice["finish_reason"];
    const auto& delta = choice["delta"];
    if (delta.contains("content") && delta["content"].is_string()
        && !delta["content"].get<std::string>().empty()) {
      result.text += delta["content"].get<std::string>();
      ++result.content_deltas;
    }
    if (!delta.contains("tool_calls"))
      continue;
    const auto& call = delta["tool_calls"][0];
    if (call.contains("id"))
      result.call_id += call["id"].get<std::string>();
    if (call["function"].contains("name"))
      result.call_name += call["function"]["name"].get<std::string>();
    result.call_arguments += call["function"]["arguments"].get<std::string>();
  }
  return result;
}

TEST_F(mock_llm, agent_flag_does_not_go_with_a_fixed_reply_or_call) {
  for (auto args : std::vector<std::vector<std::string>>{
         {"--agent", "--tool-call", "f"}, {"--agent", "--reply", "x"}}) {
    server_process proc{mock_llm_process::executable_path(), args};
    EXPECT_TRUE(proc.wait_exit(5000ms).is_exit(2)) << proc.log();
  }
}

TEST_F(mock_llm, websocket_agent_answers_a_forced_route_by_keywords) {
  start({"--protocol", "websocket", "--agent", "--chunks", "3"});
  ws_client client;
  connect(client);
  int n = 0;
  for (const auto& [message, expected] : route_cases()) {
    auto id = "route" + std::to_string(++n);
    client.send_json(ws_request(
      id, message, true,
      {{"tools", route_tools()},
       {"tool_choice", "route"},
       {"system_prompt", "Route the message."}}));
    auto [deltas, reply] = read_reply(client);
    EXPECT_TRUE(deltas.empty()) << message;
    EXPECT_EQ(reply["id"], id);
    EXPECT_EQ(reply["response"], "") << reply;
    EXPECT_EQ(reply["finish_reason"], "tool_calls") << reply;
    const auto& calls = reply["metadata"]["tool_calls"];
    ASSERT_EQ(calls.size(), 1u) << reply;
    EXPECT_EQ(calls[0]["name"], "route");
    EXPECT_EQ(calls[0]["id"], "call_" + std::to_string(n));
    EXPECT_EQ(json::parse(calls[0]["arguments"].get<std::string>()), expected)
      << message;
  }
  auto s = stats();
  EXPECT_EQ(s["route_calls"], route_cases().size()) << s.dump();
  EXPECT_EQ(s["tool_calls_emitted"], route_cases().size()) << s.dump();
}

TEST_F(mock_llm, websocket_agent_summarises_the_tool_results_in_its_answer) {
  start({"--protocol", "websocket", "--agent", "--chunks", "3"});
  ws_client client;
  connect(client);
  client.send_json(ws_request(
    "a1", "where is order 124?", true,
    {{"tools", agent_tools()},
     {"tool_choice", "auto"},
     {"tool_results", json::array({{{"tool_call_id", "call_route_1"},
                                    {"name", "get_order"},
                                    {"content", order_124}}})}}));
  auto [deltas, reply] = read_reply(client);
  EXPECT_EQ(deltas.size(), 3u);
  std::string streamed;
  for (const auto& d : deltas)
    streamed += d;
  EXPECT_EQ(reply["finish_reason"], "completed") << reply;
  EXPECT_EQ(reply["response"], "LLM answer: order 124 is shipped via UPS");
  EXPECT_EQ(streamed, reply["response"]);
  // An unknown order, and no tools at all: the text says so, or echoes.
  client.send_json(ws_request(
    "a2", "where is order 999?", false,
    {{"tools", agent_tools()},
     {"tool_results",
      json::array({{{"tool_call_id", "c"},
                    {"name", "get_order"},
                    {"content", R"({"error":"not found","order_id":"999"})"}}})}}));
  EXPECT_EQ(read_reply(client).second["response"],
            "LLM answer: order 999 was not found");
  client.send_json(ws_request("a3", "hello there", false));
  EXPECT_EQ(read_reply(client).second["response"], "LLM answer: hello there");
  EXPECT_EQ(stats()["tool_calls_emitted"], 0);
}

TEST_F(mock_llm, websocket_agent_calls_one_tool_per_round_until_it_can_answer) {
  start({"--protocol", "websocket", "--agent"});
  ws_client client;
  connect(client);
  json meta{{"tools", agent_tools()}, {"tool_choice", "auto"}};
  client.send_json(ws_request("m1", both_needs, true, meta));
  auto first = read_reply(client).second;
  ASSERT_EQ(first["finish_reason"], "tool_calls") << first;
  auto call = first["metadata"]["tool_calls"][0];
  EXPECT_EQ(call["name"], "get_order");
  EXPECT_EQ(json::parse(call["arguments"].get<std::string>()),
            json({{"order_id", "124"}}));
  meta["tool_results"] = json::array(
    {{{"tool_call_id", call["id"]}, {"name", "get_order"},
      {"content", order_124}}});
  client.send_json(ws_request("m2", both_needs, true, meta));
  auto second = read_reply(client).second;
  ASSERT_EQ(second["finish_reason"], "tool_calls") << second;
  call = second["metadata"]["tool_calls"][0];
  EXPECT_EQ(call["name"], "knowledge_search");
  EXPECT_EQ(json::parse(call["arguments"].get<std::string>()),
            json({{"query", both_needs}}));
  EXPECT_NE(call["id"], first["metadata"]["tool_calls"][0]["id"]);
  meta["tool_results"].push_back({{"tool_call_id", call["id"]},
                                  {"name", "knowledge_search"},
                                  {"content", return_policy_matches}});
  client.send_json(ws_request("m3", both_needs, true, meta));
  auto [deltas, answer] = read_reply(client);
  EXPECT_FALSE(deltas.empty());
  EXPECT_EQ(answer["response"],
            "LLM answer: order 124 is shipped via UPS; see Return policy");
  // tool_choice "none" answers at once, with what there is.
  meta["tool_choice"] = "none";
  meta.erase("tool_results");
  client.send_json(ws_request("m4", both_needs, false, meta));
  EXPECT_EQ(read_reply(client).second["response"],
            "LLM answer: " + both_needs);
  auto s = stats();
  EXPECT_EQ(s["tool_calls_emitted"], 2) << s.dump();
  EXPECT_EQ(s["route_calls"], 0) << s.dump();
}

TEST_F(mock_llm, openai_agent_answers_a_forced_route_by_keywords) {
  start({"--protocol", "openai", "--agent", "--chunks", "3"});
  json forced{{"tools", route_tools()},
              {"tool_choice",
               {{"type", "function"}, {"function", {{"name", "route"}}}}}};
  raw_http conn{host_, port_};
  int n = 0;
  for (const auto& [message, expected] : route_cases()) {
    ++n;
    conn.send("POST", "/v1/chat/completions",
              chat_body(message, true, forced).dump());
    ASSERT_EQ(conn.read_head(frame_timeout).status, 200u);
    auto got = join_stream(read_events(conn));
    EXPECT_EQ(got.finish_reason, "tool_calls") << message;
    EXPECT_EQ(got.text, "") << message;
    EXPECT_EQ(got.call_name, "route");
    EXPECT_EQ(got.call_id, "call_" + std::to_string(n));
    EXPECT_EQ(json::parse(got.call_arguments), expected) << message;
  }
  // Not streamed: the same call in message.tool_calls.
  auto res = post_chat(chat_body("I want a human", false, forced));
  ASSERT_EQ(res.status, 200u) << res.body;
  auto choice = json::parse(res.body)["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["name"], "route");
  EXPECT_EQ(json::parse(choice["message"]["tool_calls"][0]["function"]
                          ["arguments"]
                            .get<std::string>())["intent"],
            "ESCALATE_TO_HUMAN");
  auto s = stats();
  EXPECT_EQ(s["route_calls"], route_cases().size() + 1) << s.dump();
  EXPECT_EQ(s["tool_calls_emitted"], route_cases().size() + 1) << s.dump();
}

TEST_F(mock_llm, openai_agent_summarises_the_tool_results_in_its_answer) {
  start({"--protocol", "openai", "--agent", "--chunks", "3"});
  // As Parley sends a round: the assistant's call, then the tool's result,
  // which names the call only by its id.
  json messages = json::array(
    {{{"role", "system"}, {"content", "Answer."}},
     {{"role", "user"}, {"content", "what is your return policy?"}},
     {{"role", "assistant"},
      {"content", nullptr},
      {"tool_calls",
       json::array({{{"id", "call_route_1"},
                     {"type", "function"},
                     {"function",
                      {{"name", "knowledge_search"},
                       {"arguments", R"({"query":"return policy"})"}}}}})}},
     {{"role", "tool"},
      {"tool_call_id", "call_route_1"},
      {"content", return_policy_matches}}});
  raw_http conn{host_, port_};
  conn.send("POST", "/v1/chat/completions",
            json({{"model", "m"},
                  {"messages", messages},
                  {"tools", agent_tools()},
                  {"tool_choice", "auto"},
                  {"stream", true}})
              .dump());
  ASSERT_EQ(conn.read_head(frame_timeout).status, 200u);
  auto got = join_stream(read_events(conn));
  EXPECT_EQ(got.finish_reason, "stop");
  EXPECT_EQ(got.call_name, "");
  EXPECT_EQ(got.text, "LLM answer: see Return policy");
  EXPECT_EQ(got.content_deltas, 3u);
  EXPECT_EQ(stats()["tool_calls_emitted"], 0);
}

TEST_F(mock_llm, openai_agent_calls_one_tool_per_round_until_it_can_answer) {
  start({"--protocol", "openai", "--agent"});
  json messages = json::array({{{"role", "user"}, {"content", both_needs}}});
  auto round = [&](const std::string& choice) {
    auto res = post_chat({{"model", "m"},
                          {"messages", messages},
                          {"tools", agent_tools()},
                          {"tool_choice", choice},
                          {"stream", false}});
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body)["choices"][0];
  };
  // Each call goes back as the assistant's call and the tool's result.
  auto answer_call = [&](const json& choice, const std::string& content) {
    auto call = choice["message"]["tool_calls"][0];
    messages.push_back({{"role", "assistant"},
                        {"content", nullptr},
                        {"tool_calls", json::array({call})}});
    messages.push_back({{"role", "tool"},
                        {"tool_call_id", call["id"]},
                        {"content", content}});
  };
  auto first = round("auto");
  ASSERT_EQ(first["finish_reason"], "tool_calls") << first;
  EXPECT_EQ(first["message"]["tool_calls"][0]["function"]["name"], "get_order");
  EXPECT_EQ(json::parse(first["message"]["tool_calls"][0]["function"]
                          ["arguments"]
                            .get<std::string>()),
            json({{"order_id", "124"}}));
  answer_call(first, order_124);
  auto second = round("auto");
  ASSERT_EQ(second["finish_reason"], "tool_calls") << second;
  EXPECT_EQ(second["message"]["tool_calls"][0]["function"]["name"],
            "knowledge_search");
  answer_call(second, return_policy_matches);
  auto third = round("auto");
  EXPECT_EQ(third["finish_reason"], "stop") << third;
  EXPECT_EQ(third["message"]["content"],
            "LLM answer: order 124 is shipped via UPS; see Return policy");
  auto s = stats();
  EXPECT_EQ(s["tool_calls_emitted"], 2) << s.dump();
  EXPECT_EQ(s["route_calls"], 0) << s.dump();
}

TEST_F(mock_llm, openai_client_hanging_up_cancels_the_stream) {
  // The next write is a second away: a count before it shows that the mock
  // noticed the hang-up itself.
  start({"--protocol", "openai", "--chunks", "4", "--chunk-delay-ms", "1000"});
  {
    raw_http conn{host_, port_};
    conn.send("POST", "/v1/chat/completions", chat_body("hello", true).dump());
    ASSERT_EQ(conn.read_head(frame_timeout).status, 200u);
    EXPECT_EQ(conn.next_event(frame_timeout).status,
              raw_http::sse_status::event); // role
    EXPECT_EQ(conn.next_event(frame_timeout).status,
              raw_http::sse_status::event); // first delta
  }
  auto s = stats_until([](const json& s) { return s["cancelled"] == 1; },
                       800ms);
  EXPECT_EQ(s["cancelled"], 1) << s;
  EXPECT_EQ(s["open_connections"], 0) << s;
}

TEST_F(mock_llm, openai_slow_reply_passes_a_client_timeout) {
  start({"--protocol", "openai", "--latency-ms", "600"});
  EXPECT_THROW(post_chat(chat_body("x", false), {}, 200ms), ws_error);
  auto t0 = clock_type::now();
  EXPECT_EQ(post_chat(chat_body("x", false)).status, 200u);
  EXPECT_GE(ms_since(t0), 600);
}

TEST_F(mock_llm, openai_keep_alive_counts_one_connection) {
  start({"--protocol", "openai"});
  raw_http conn{host_, port_};
  for (int i = 0; i < 3; ++i) {
    conn.send("POST", i == 1 ? "/chat/completions" : "/v1/chat/completions",
              chat_body("x", i == 2).dump());
    auto head = conn.read_head(frame_timeout);
    EXPECT_EQ(head.status, 200u);
    conn.read_body(head, frame_timeout);
    conn.send("GET", i == 0 ? "/models" : "/v1/models");
    auto models = conn.read_head(frame_timeout);
    EXPECT_EQ(models.status, 200u);
    EXPECT_EQ(json::parse(conn.read_body(models, frame_timeout))["object"],
              "list");
  }
  auto s = stats();
  EXPECT_EQ(s["connections"], 1) << s;
  EXPECT_EQ(s["open_connections"], 1) << s;
  EXPECT_EQ(s["requests"], 3) << s;
  EXPECT_EQ(s["health_checks"], 3) << s;
}

TEST_F(mock_llm, openai_bad_requests) {
  start({"--protocol", "openai"});
  auto res = http_request(host_, port_, "POST", "/v1/chat/completions",
                          "{not json", {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 400u) << res.body;
  EXPECT_EQ(post_chat({{"model", "m"}, {"messages", json::array()}}).status,
            400u);
  EXPECT_EQ(http_get(host_, port_, "/v1/chat/completions").status, 405u);
  EXPECT_EQ(http_get(host_, port_, "/v1/nothing").status, 404u);
  ws_client client;
  EXPECT_THROW(connect(client), ws_error);
  EXPECT_EQ(stats()["requests"], 0);
}

TEST_F(mock_llm, openai_no_usage_chunk) {
  start({"--protocol", "openai", "--no-usage-chunk"});
  raw_http conn{host_, port_};
  conn.send("POST", "/v1/chat/completions", chat_body("hi", true).dump());
  ASSERT_EQ(conn.read_head(frame_timeout).status, 200u);
  auto events = read_events(conn);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  events.pop_back();
  for (const auto& ev : events)
    EXPECT_FALSE(json::parse(ev).contains("usage")) << ev;
}

TEST_F(mock_llm, idle_connections_are_closed_after_the_idle_timeout) {
  start({"--protocol", "openai", "--idle-timeout-ms", "300"});
  raw_http conn{host_, port_};
  conn.send("GET", "/v1/models");
  auto head = conn.read_head(frame_timeout);
  conn.read_body(head, frame_timeout);
  EXPECT_TRUE(conn.wait_closed(3000ms));
}

TEST_F(mock_llm, restarts_on_the_same_port_after_a_kill) {
  for (auto protocol : {"websocket", "openai"}) {
    start({"--protocol", protocol});
    auto port = port_;
    // A connection open at the kill leaves the port in TIME_WAIT.
    ws_client client;
    raw_http conn{host_, port_};
    if (std::string{protocol} == "websocket")
      connect(client);
    else
      conn.send("GET", "/v1/models");
    mock_->kill();
    mock_->wait_exit(5000ms);
    mock_.reset();
    mock_ = std::make_unique<mock_llm_process>(
      std::vector<std::string>{"--protocol", protocol}, port);
    ASSERT_EQ(mock_->port(), port) << protocol << ": " << mock_->log();
    EXPECT_EQ(stats()["accepted"], 1) << protocol;
    mock_->terminate();
    EXPECT_TRUE(mock_->wait_exit(5000ms).is_exit(0)) << protocol;
  }
}

// -- TLS (--tls-cert, --tls-key) ---------------------------------------------

/// What https_get got: the error that ended the read (eof after a
/// close_notify) and everything read before it.
struct tls_exchange {
  boost::system::error_code ec;
  std::string response;
};

/// One GET (Connection: close) over TLS to 127.0.0.1:`port`, with SNI
/// `server_name` and the certificate verified against `ca_file` alone;
/// reads until the server ends the stream. Bounded by `timeout`.
tls_exchange https_get(std::uint16_t port, const std::string& server_name,
                       const std::string& ca_file, const std::string& target,
                       std::chrono::milliseconds timeout = frame_timeout) {
  namespace net = boost::asio;
  namespace ssl = net::ssl;
  net::io_context io;
  ssl::context ctx{ssl::context::tls_client};
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(ssl::verify_peer);
  ssl::stream<net::ip::tcp::socket> stream{io, ctx};
  SSL_set_tlsext_host_name(stream.native_handle(), server_name.c_str());
  stream.set_verify_callback(ssl::host_name_verification(server_name));
  stream.next_layer().connect(
    {net::ip::make_address("127.0.0.1"), port});
  auto request = "GET " + target + " HTTP/1.1\r\nHost: " + server_name
                 + "\r\nConnection: close\r\n\r\n";
  tls_exchange result;
  result.ec = net::error::timed_out;
  stream.async_handshake(ssl::stream_base::client, [&](auto ec) {
    if (ec) {
      result.ec = ec;
      return;
    }
    net::async_write(stream, net::buffer(request), [&](auto ec, auto) {
      if (ec) {
        result.ec = ec;
        return;
      }
      net::async_read(stream, net::dynamic_buffer(result.response),
                      [&](auto ec, auto) { result.ec = ec; });
    });
  });
  io.run_for(timeout);
  return result;
}

TEST_F(mock_llm, tls_serves_https_with_its_certificate_and_ends_cleanly) {
  temp_dir tmp{"parley-mock-tls"};
  auto cert = make_self_signed_cert(tmp.path());
  start({"--protocol", "openai", "--tls-cert", cert.cert_file.string(),
         "--tls-key", cert.key_file.string()});
  auto got = https_get(port_, "localhost", cert.cert_file.string(), "/stats");
  // eof, not stream_truncated: the mock said close_notify before it left.
  EXPECT_EQ(got.ec, boost::asio::error::eof) << got.ec.message();
  ASSERT_EQ(got.response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got.response;
  auto body = json::parse(got.response.substr(got.response.find("\r\n\r\n")));
  EXPECT_EQ(body["tls"], true) << body.dump();
  EXPECT_EQ(body["tls_handshakes"], 1) << body.dump();
  EXPECT_EQ(body["tls_failures"], 0) << body.dump();
  EXPECT_TRUE(mock_->wait_for_line(
    "tls handshake done (TLSv1.3, sni localhost)", frame_timeout))
    << mock_->log();
}

TEST_F(mock_llm, tls_refuses_plain_http_and_counts_the_failure) {
  temp_dir tmp{"parley-mock-tls"};
  auto cert = make_self_signed_cert(tmp.path());
  start({"--protocol", "websocket", "--tls-cert", cert.cert_file.string(),
         "--tls-key", cert.key_file.string()});
  EXPECT_THROW(http_get(host_, port_, "/stats"), ws_error);
  ASSERT_TRUE(mock_->wait_for_line("tls handshake failed", frame_timeout))
    << mock_->log();
  auto got = https_get(port_, "localhost", cert.cert_file.string(), "/stats");
  ASSERT_EQ(got.response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got.response;
  auto body = json::parse(got.response.substr(got.response.find("\r\n\r\n")));
  EXPECT_EQ(body["protocol"], "websocket") << body.dump();
  EXPECT_EQ(body["tls_failures"], 1) << body.dump();
  EXPECT_EQ(body["tls_handshakes"], 1) << body.dump();
  EXPECT_EQ(body["accepted"], 2) << body.dump();
}

TEST_F(mock_llm, tls_files_that_cannot_be_loaded_exit_with_1) {
  temp_dir tmp{"parley-mock-tls"};
  auto cert = make_self_signed_cert(tmp.path());
  auto other = make_self_signed_cert(tmp.path(), {"localhost"}, "other");
  for (auto files : std::vector<std::pair<std::string, std::string>>{
         {(tmp / "missing.crt").string(), cert.key_file.string()},
         {cert.cert_file.string(), (tmp / "missing.key").string()},
         {cert.key_file.string(), cert.key_file.string()},
         {cert.cert_file.string(), other.key_file.string()}}) {
    server_process proc{mock_llm_process::executable_path(),
                        {"--tls-cert", files.first, "--tls-key", files.second,
                         "--port", "0"}};
    auto status = proc.wait_exit(5000ms);
    EXPECT_TRUE(status.is_exit(1))
      << files.first << " " << files.second << ": " << status.to_string()
      << "\n" << proc.log();
    EXPECT_EQ(proc.log().find("listening"), std::string::npos) << proc.log();
  }
}

} // namespace
