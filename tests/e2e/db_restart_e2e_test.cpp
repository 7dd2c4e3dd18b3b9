// The real server while its PostgreSQL goes away and comes back, without the
// server restarting: /health turns 503 and back to 200, chat messages sent
// during the outage are refused with storage_unavailable (never acknowledged)
// and go through exactly once when the client sends them again, REST writes
// get 503 (never 500) and work again afterwards, and nothing ever shows the
// database password. Runs on a private PostgreSQL server of its own
// (tests/databases/pg-instance), never on the shared ones of the databases
// fixture, in two variants: a fast shutdown and a crash (immediate shutdown).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <sys/types.h>

#include "storage/database.hpp"
#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/rest_client.hpp"
#include "tests/support/private_postgres.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"

using namespace parley::test;
using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr milliseconds start_timeout{15000};
constexpr milliseconds frame_timeout{10000};
constexpr milliseconds exit_timeout{10000};
// How long the server may take to notice the outage, and to recover.
constexpr milliseconds notice_timeout{10000};
constexpr milliseconds recover_timeout{20000};
constexpr milliseconds poll_interval{50};

enum class outage { fast_stop, crash };

std::string name_of(outage kind) {
  return kind == outage::fast_stop ? "fast_stop" : "crash";
}

double ms_since(steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(steady_clock::now() - start)
    .count();
}

/// `data.advanced_ai_enabled` of a POST /api/chat/send answer, null when
/// there is none.
json advanced_ai(const rest_reply& reply) {
  json::json_pointer ptr{"/data/advanced_ai_enabled"};
  return reply.json.is_object() && reply.json.contains(ptr) ? reply.json.at(ptr)
                                                            : json{};
}

/// Whether process `pid` exists and is not a zombie (server_process only
/// learns of an exit when it reaps the child).
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  auto end = stat.rfind(')'); // "pid (comm) STATE ..."
  return end != std::string::npos && end + 2 < stat.size()
         && stat[end + 2] != 'Z' && stat[end + 2] != 'X';
}

/// What a WebSocket client learned about one message it sent.
struct chat_turn {
  std::string client_id;
  std::int64_t message_id = 0;
  std::int64_t reply_id = 0;
  std::vector<json> frames;
};

class db_restart_e2e : public ::testing::TestWithParam<outage> {
protected:
  db_restart_e2e() : tmp_("parley-dbrst") {
    std::filesystem::create_directories(tmp_ / "knowledge");
  }

  void SetUp() override {
    if (!private_postgres::installed())
      FAIL() << "PostgreSQL is not installed (tools/deps test installs it)";
    auto t0 = steady_clock::now();
    pg_ = std::make_unique<private_postgres>();
    pg_->start();
    note("postgres first start", t0);
    t0 = steady_clock::now();
    std::vector<std::string> args{"--host",         "127.0.0.1",
                                  "--port",         "0",
                                  "--database-url", pg_->url_text(),
                                  "--log-level",    "debug",
                                  "--knowledge-dir", (tmp_ / "knowledge").string()};
    // The temporary folder as working directory keeps a developer's `.env`
    // out of the test.
    server_ = std::make_unique<server_process>(
      server_process::default_executable(), args,
      std::map<std::string, std::string>{
        {"PARLEY_ADMIN_TOKEN", test_admin_token}},
      tmp_.path().string());
    ASSERT_TRUE(server_->wait_until_listening(start_timeout))
      << "the server did not print `listening on http://HOST:PORT`";
    note("server start", t0);
    rest_ = std::make_unique<rest_client>(server_->host(), server_->port());
  }

  void TearDown() override {
    if (server_ && server_->running()) {
      server_->kill();
      server_->wait_exit(exit_timeout);
    }
    if (HasFailure() && server_)
      ADD_FAILURE() << "server log (" << tmp_.path().string() << "):\n"
                    << server_->log();
  }

  void note(const std::string& what, steady_clock::time_point since) {
    std::cout << "[ timing   ] " << name_of(GetParam()) << ": " << what << " "
              << static_cast<long>(ms_since(since)) << " ms" << std::endl;
  }

  // -- HTTP -------------------------------------------------------------------

  /// GET /health; keeps the body for the password check.
  http_response health() {
    auto res = http_get(server_->host(), server_->port(), "/health");
    seen_.push_back(res.body);
    return res;
  }

  /// Polls /health until it answers `status` or `timeout` passed; returns
  /// the last answer and, in `polls`, how many requests that took.
  http_response wait_health(unsigned status, milliseconds timeout,
                            int* polls = nullptr) {
    auto deadline = steady_clock::now() + timeout;
    int count = 0;
    for (;;) {
      auto res = health();
      ++count;
      if (res.status == status || steady_clock::now() >= deadline) {
        if (polls != nullptr)
          *polls = count;
        return res;
      }
      std::this_thread::sleep_for(poll_interval);
    }
  }

  rest_reply post(const std::string& target, const json& body) {
    auto reply = rest_->post(target, body);
    seen_.push_back(reply.body);
    return reply;
  }

  rest_reply get(const std::string& target) {
    auto reply = rest_->get(target);
    seen_.push_back(reply.body);
    return reply;
  }

  // -- WebSocket --------------------------------------------------------------

  /// The next JSON frame; remembers the highest seq for a resume.
  json read(ws_client& ws, milliseconds timeout = frame_timeout) {
    auto frame = ws.read_json(timeout);
    seen_.push_back(frame.dump());
    if (frame.contains("seq") && frame["seq"].is_number_integer())
      last_seq_ = std::max(last_seq_, frame["seq"].get<std::int64_t>());
    return frame;
  }

  /// Reads until a frame of `type` (inclusive); throws on timeout.
  std::vector<json> read_until(ws_client& ws, const std::string& type,
                               milliseconds timeout = frame_timeout) {
    auto deadline = steady_clock::now() + timeout;
    std::vector<json> frames;
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline
                                                           - steady_clock::now());
      if (left.count() <= 0)
        throw std::runtime_error("no `" + type + "` frame within "
                                 + std::to_string(timeout.count())
                                 + " ms; got:\n" + dump(frames));
      frames.push_back(read(ws, left));
      if (type_of(frames.back()) == type)
        return frames;
    }
  }

  void open_session(ws_client& ws) {
    ws.connect(server_->host(), server_->port(), "/ws");
    auto frame = read(ws);
    ASSERT_EQ(type_of(frame), "session") << frame;
    ASSERT_TRUE(frame["session_id"].is_number_integer()) << frame;
    ASSERT_TRUE(frame["resume_token"].is_string()) << frame;
    session_id_ = frame["session_id"].get<std::int64_t>();
    resume_token_ = frame["resume_token"].get<std::string>();
  }

  /// Sends a message and expects ack, typing and the reply to it, nothing
  /// else (an `error` frame fails the test with the frames as evidence).
  chat_turn chat(ws_client& ws, const std::string& text,
                 const std::string& client_id) {
    chat_turn turn;
    turn.client_id = client_id;
    ws.send_json({{"type", "message"}, {"text", text}, {"id", client_id}});
    turn.frames = read_until(ws, "message");
    int acks = 0;
    for (const auto& f : turn.frames) {
      auto type = type_of(f);
      if (type == "ack") {
        ++acks;
        EXPECT_EQ(f.value("id", json{}), client_id) << f;
        if (f.contains("message_id") && f["message_id"].is_number_integer())
          turn.message_id = f["message_id"].get<std::int64_t>();
      } else if (type != "typing" && type != "message") {
        ADD_FAILURE() << "message " << client_id << " got an unexpected frame "
                      << f << "\nall frames:\n" << dump(turn.frames);
      }
    }
    EXPECT_EQ(acks, 1) << "message " << client_id << ":\n" << dump(turn.frames);
    const auto& reply = turn.frames.back();
    EXPECT_NE(turn.message_id, 0) << dump(turn.frames);
    EXPECT_EQ(reply.value("reply_to", json{}), turn.message_id)
      << dump(turn.frames);
    if (reply.contains("id") && reply["id"].is_number_integer())
      turn.reply_id = reply["id"].get<std::int64_t>();
    EXPECT_NE(turn.reply_id, 0) << reply;
    return turn;
  }

  /// ping → every frame up to the pong: shows nothing else was pending.
  std::vector<json> barrier(ws_client& ws) {
    ws.send_json({{"type", "ping"}});
    return read_until(ws, "pong");
  }

  // -- the database, after the server exited ------------------------------------

  std::int64_t count(parley::storage::database& db, const std::string& sql,
                     std::int64_t a) {
    long long n = 0;
    long long key = a;
    db.sql() << sql, soci::into(n), soci::use(key);
    return n;
  }

  std::int64_t count(parley::storage::database& db, const std::string& sql,
                     const std::string& a) {
    long long n = 0;
    db.sql() << sql, soci::into(n), soci::use(a);
    return n;
  }

  std::int64_t count(parley::storage::database& db, const std::string& sql,
                     std::int64_t a, const std::string& b) {
    long long n = 0;
    long long key = a;
    db.sql() << sql, soci::into(n), soci::use(key), soci::use(b);
    return n;
  }

  std::int64_t id_of(parley::storage::database& db, std::int64_t session_id,
                     const std::string& client_id) {
    long long id = 0;
    long long key = session_id;
    db.sql() << "SELECT id FROM messages WHERE session_id = :s "
                "AND client_id = :c AND is_user = 1",
      soci::into(id), soci::use(key), soci::use(client_id);
    return id;
  }

  std::int64_t reply_id_of(parley::storage::database& db,
                           std::int64_t message_id) {
    long long id = 0;
    long long key = message_id;
    db.sql() << "SELECT id FROM messages WHERE reply_to = :m AND is_user = 0",
      soci::into(id), soci::use(key);
    return id;
  }

  void run_scenario();

  temp_dir tmp_;
  std::unique_ptr<private_postgres> pg_;     // destroyed after the server
  std::unique_ptr<server_process> server_;
  std::unique_ptr<rest_client> rest_;
  std::vector<std::string> seen_; // every response body and frame
  std::int64_t session_id_ = 0;
  std::string resume_token_;
  std::int64_t last_seq_ = 0;
};

void db_restart_e2e::run_scenario() {
  auto test_start = steady_clock::now();
  const auto password = pg_->password();
  ASSERT_FALSE(password.empty());

  // -- 1. normal operation ---------------------------------------------------
  {
    auto res = health();
    ASSERT_EQ(res.status, 200u) << res.body;
    auto body = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res.body;
    EXPECT_EQ(body["status"], "healthy") << res.body;
    EXPECT_EQ(body["database_backend"], "postgresql") << res.body;
  }

  auto ws = std::make_unique<ws_client>();
  ASSERT_NO_FATAL_FAILURE(open_session(*ws));
  ASSERT_NE(session_id_, 0);
  std::vector<chat_turn> ws_turns; // every message the WebSocket saw acked
  for (const char* id : {"w-1", "w-2", "w-3"})
    ws_turns.push_back(
      chat(*ws, std::string{"hello, before the outage: "} + id, id));

  auto user = post("/api/users", {{"name", "Rita Rest"},
                                  {"email", "rita@example.com"}});
  ASSERT_TRUE(is_success(user, 201));
  struct rest_turn {
    std::string client_id;
    std::int64_t message_id = 0;
    std::int64_t reply_id = 0;
  };
  std::vector<rest_turn> rest_turns;
  auto first = post("/api/chat/send",
                    {{"message", "Where is my order?"},
                     {"user_email", "rita@example.com"},
                     {"client_id", "r-1"}});
  ASSERT_TRUE(is_success(first, 201));
  // The seeded setting enable_advanced_ai is "true" (api.md).
  EXPECT_EQ(advanced_ai(first), true) << first.describe();
  const auto rest_session = first.data()["session_id"].get<std::int64_t>();
  // Later messages to the session prove they are its owner's.
  const auto rest_token = first.data()["resume_token"].get<std::string>();
  rest_turns.push_back({"r-1", first.data()["message"]["id"].get<std::int64_t>(),
                        first.data()["message"]["response_id"].get<std::int64_t>()});

  // -- 2. the database goes away -----------------------------------------------
  auto t0 = steady_clock::now();
  if (GetParam() == outage::fast_stop)
    pg_->stop();
  else
    pg_->kill();
  note("postgres " + std::string{GetParam() == outage::fast_stop ? "stop" : "kill"},
       t0);

  t0 = steady_clock::now();
  int polls = 0;
  {
    auto res = wait_health(503, notice_timeout, &polls);
    note("/health 503 after " + std::to_string(polls) + " polls", t0);
    ASSERT_EQ(res.status, 503u) << "/health during the outage: " << res.body;
    auto body = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res.body;
    EXPECT_EQ(body["status"], "unhealthy") << res.body;
    EXPECT_EQ(body["database"], "disconnected") << res.body;
    EXPECT_TRUE(body.contains("reason") && body["reason"].is_string()
                && !body["reason"].get<std::string>().empty())
      << res.body;
  }

  // A chat message: refused with storage_unavailable, never acknowledged.
  t0 = steady_clock::now();
  const std::string lost_text = "hello, sent while the database was down";
  ws->send_json({{"type", "message"}, {"text", lost_text}, {"id", "w-out"}});
  auto refused = read_until(*ws, "error", notice_timeout);
  note("WebSocket error frame", t0);
  EXPECT_EQ(refused.back()["code"], "storage_unavailable") << dump(refused);
  for (const auto& f : refused)
    EXPECT_NE(type_of(f), "ack") << "a message refused during the outage was "
                                    "acknowledged:\n"
                                 << dump(refused);
  auto after_refusal = barrier(*ws);
  for (const auto& f : after_refusal)
    EXPECT_TRUE(type_of(f) == "pong")
      << "unexpected frame after the refusal:\n" << dump(after_refusal);

  // REST writes (and a read): 503 with the error envelope, never 500.
  auto out_chat = post("/api/chat/send",
                       {{"message", "Sent by REST during the outage"},
                        {"user_email", "rita@example.com"},
                        {"session_id", rest_session},
                        {"resume_token", rest_token},
                        {"client_id", "r-out"}});
  EXPECT_TRUE(is_error(out_chat, 503));
  auto out_user = post("/api/users", {{"name", "Olga Outage"},
                                      {"email", "olga@example.com"}});
  EXPECT_TRUE(is_error(out_user, 503));
  auto out_list = get("/api/users");
  EXPECT_TRUE(is_error(out_list, 503));

  EXPECT_TRUE(alive(server_->pid())) << "the server exited during the outage";
  EXPECT_TRUE(ws->is_open())
    << "the server closed the WebSocket during the outage; protocol.md says "
       "it stays open after storage_unavailable";

  // -- 3. the database comes back ----------------------------------------------
  t0 = steady_clock::now();
  pg_->start();
  note("postgres restart", t0);
  t0 = steady_clock::now();
  {
    auto res = wait_health(200, recover_timeout, &polls);
    note("/health 200 after " + std::to_string(polls) + " polls", t0);
    ASSERT_EQ(res.status, 200u) << "/health did not recover within "
                                << recover_timeout.count() << " ms: "
                                << res.body;
    auto body = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res.body;
    EXPECT_EQ(body["status"], "healthy") << res.body;
    EXPECT_EQ(body["database"], "connected") << res.body;
  }

  // The WebSocket client sends the refused message again, same id: it is
  // acknowledged and answered exactly once.
  if (!ws->is_open()) {
    ws = std::make_unique<ws_client>();
    ws->connect(server_->host(), server_->port(),
                resume_target(session_id_, resume_token_, last_seq_));
    auto frame = read(*ws);
    ASSERT_EQ(type_of(frame), "session") << frame;
    EXPECT_EQ(frame["resumed"], true) << frame;
    auto replayed = barrier(*ws);
    for (const auto& f : replayed)
      EXPECT_TRUE(type_of(f) == "pong") << "replayed after last_seq "
                                        << last_seq_ << ":\n" << dump(replayed);
  }
  t0 = steady_clock::now();
  auto resent = chat(*ws, lost_text, "w-out");
  note("resend acknowledged and answered", t0);
  for (const auto& turn : ws_turns)
    EXPECT_NE(turn.message_id, resent.message_id)
      << "the resend was acknowledged with an old message id";
  auto after_resend = barrier(*ws);
  for (const auto& f : after_resend)
    EXPECT_TRUE(type_of(f) == "pong")
      << "a second ack or answer after the resend:\n" << dump(after_resend);
  ws_turns.push_back(resent);

  // Sending it once more is a duplicate: the original ack and answer again.
  ws->send_json({{"type", "message"}, {"text", lost_text}, {"id", "w-out"}});
  auto repeated = read_until(*ws, "message");
  ASSERT_GE(repeated.size(), 2u) << dump(repeated);
  EXPECT_EQ(type_of(repeated.front()), "ack") << dump(repeated);
  EXPECT_EQ(repeated.front()["message_id"], resent.message_id) << dump(repeated);
  EXPECT_EQ(repeated.back()["id"], resent.reply_id) << dump(repeated);
  barrier(*ws);

  ws_turns.push_back(chat(*ws, "hello after the outage", "w-4"));

  // REST works again: the refused calls, sent again, and a new one.
  auto again_chat = post("/api/chat/send",
                         {{"message", "Sent by REST during the outage"},
                          {"user_email", "rita@example.com"},
                          {"session_id", rest_session},
                         {"resume_token", rest_token},
                          {"resume_token", rest_token},
                        {"resume_token", rest_token},
                          {"client_id", "r-out"}});
  EXPECT_TRUE(is_success(again_chat, 201));
  EXPECT_EQ(advanced_ai(again_chat), true)
    << "the setting is \"true\"; false means its read failed:\n"
    << again_chat.describe();
  if (again_chat.status == 201)
    rest_turns.push_back({"r-out",
                          again_chat.data()["message"]["id"].get<std::int64_t>(),
                          again_chat.data()["message"]["response_id"]
                            .get<std::int64_t>()});
  auto again_user = post("/api/users", {{"name", "Olga Outage"},
                                        {"email", "olga@example.com"}});
  EXPECT_TRUE(is_success(again_user, 201))
    << "(a 409 would mean the refused POST was stored after all)";
  auto next_chat = post("/api/chat/send",
                        {{"message", "And where is my refund?"},
                         {"user_email", "rita@example.com"},
                         {"session_id", rest_session},
                         {"resume_token", rest_token},
                        {"resume_token", rest_token},
                         {"client_id", "r-2"}});
  EXPECT_TRUE(is_success(next_chat, 201));
  EXPECT_EQ(advanced_ai(next_chat), true)
    << "the setting is \"true\"; false means its read failed:\n"
    << next_chat.describe();
  if (next_chat.status == 201)
    rest_turns.push_back({"r-2",
                          next_chat.data()["message"]["id"].get<std::int64_t>(),
                          next_chat.data()["message"]["response_id"]
                            .get<std::int64_t>()});
  // Reads go round robin over the persistence pool (4 connections on
  // PostgreSQL): these reach every one of them.
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(is_success(get("/api/users"), 200)) << "read #" << i + 1;

  // From the first healthy answer on, /health stays healthy.
  for (int i = 0; i < 8; ++i) {
    auto res = health();
    EXPECT_EQ(res.status, 200u) << "/health #" << i + 1
                                << " after the first healthy answer: "
                                << res.body;
  }

  // -- 4. graceful stop --------------------------------------------------------
  ws->close();
  t0 = steady_clock::now();
  server_->terminate();
  auto status = server_->wait_exit(exit_timeout);
  note("server SIGTERM exit", t0);
  EXPECT_TRUE(status.is_exit(0)) << "after SIGTERM the server "
                                 << status.to_string();

  // -- 5. the database, directly -----------------------------------------------
  parley::storage::database db{pg_->url()};
  std::set<std::int64_t> acked;
  for (const auto& turn : ws_turns) {
    SCOPED_TRACE("WebSocket message " + turn.client_id);
    acked.insert(turn.message_id);
    EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE id = :id "
                        "AND is_user = 1",
                    turn.message_id),
              1);
    EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE reply_to = :id "
                        "AND is_user = 0",
                    turn.message_id),
              1);
    EXPECT_EQ(reply_id_of(db, turn.message_id), turn.reply_id);
    EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE session_id = :s "
                        "AND client_id = :c AND is_user = 1",
                    session_id_, turn.client_id),
              1);
    EXPECT_EQ(id_of(db, session_id_, turn.client_id), turn.message_id);
  }
  for (const auto& turn : rest_turns) {
    SCOPED_TRACE("REST message " + turn.client_id);
    acked.insert(turn.message_id);
    EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE id = :id "
                        "AND is_user = 1",
                    turn.message_id),
              1);
    EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE reply_to = :id "
                        "AND is_user = 0",
                    turn.message_id),
              1);
    EXPECT_EQ(reply_id_of(db, turn.message_id), turn.reply_id);
    EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE session_id = :s "
                        "AND client_id = :c AND is_user = 1",
                    rest_session, turn.client_id),
              1);
  }
  EXPECT_EQ(acked.size(), ws_turns.size() + rest_turns.size())
    << "two acknowledged messages share an id";
  // No other user rows: nothing refused was stored besides its resend.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE session_id = :s "
                      "AND is_user = 1",
                  session_id_),
            static_cast<std::int64_t>(ws_turns.size()));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM messages WHERE session_id = :s "
                      "AND is_user = 1",
                  rest_session),
            static_cast<std::int64_t>(rest_turns.size()));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM users WHERE email = :e",
                  std::string{"olga@example.com"}),
            1);

  // -- the password, nowhere -----------------------------------------------------
  auto log = server_->log();
  EXPECT_EQ(log.find(password), std::string::npos)
    << "the server log shows the database password";
  for (const auto& text : seen_)
    EXPECT_EQ(text.find(password), std::string::npos)
      << "a response shows the database password: " << text;
  note("whole scenario", test_start);
}

TEST_P(db_restart_e2e, server_survives_a_database_restart) {
  run_scenario();
}

INSTANTIATE_TEST_SUITE_P(postgresql, db_restart_e2e,
                         ::testing::Values(outage::fast_stop, outage::crash),
                         [](const ::testing::TestParamInfo<outage>& info) {
                           return name_of(info.param);
                         });

} // namespace
