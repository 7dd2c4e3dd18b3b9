// Faults injected while the server runs, and what every one of them must
// leave behind: a clear error (or a clear answer) for the client, the same
// server process, nothing acknowledged lost or stored twice, and normal
// service once the fault is gone, without a restart.
//
// - SQLite locked: another connection holds the file's write lock.
// - Disk full: RLIMIT_FSIZE on the running server (prlimit(2)) makes its
//   writes past the current file sizes fail with EFBIG.
// - The LLM sends garbage, an oversized frame or a frame cut in half, over
//   the custom WebSocket protocol and the OpenAI-compatible one.
//
// (The database going away altogether is db_restart_e2e_test, on
// PostgreSQL.)

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

/// The error frames that say "not stored, send it again" and "stored, not
/// answered yet", and nothing else.
bool is_clear_storage_error(const json& frame) {
  auto code = frame.value("code", std::string{});
  return type_of(frame) == "error"
         && (code == "storage_unavailable" || code == "internal_error")
         && !frame.value("message", std::string{}).empty();
}

/// The chat's rate limits off (variables, which a server without them
/// ignores): these tests send as fast as the server answers, on purpose.
const std::map<std::string, std::string> no_rate_limits{
  {"PARLEY_SESSION_RATE", "0"}, {"PARLEY_ADDRESS_RATE", "0"}};

json health_of(const std::string& host, std::uint16_t port,
               unsigned& status) {
  auto res = http_get(host, port, "/health");
  status = res.status;
  return json::parse(res.body, nullptr, false);
}

class fault_e2e : public e2e_fixture {
protected:
  /// Frames of one message up to its answer or an error frame about it.
  struct outcome {
    std::vector<json> frames;
    json ack;    // null: not acknowledged
    json reply;  // null: not answered (yet)
    json error;  // null: no error frame
  };

  outcome send_and_read(ws_client& client, const std::string& text,
                        const std::string& id) {
    client.send_json({{"type", "message"}, {"text", text}, {"id", id}});
    outcome result;
    for (;;) {
      auto frame = client.read_json(frame_timeout);
      result.frames.push_back(frame);
      auto type = type_of(frame);
      if (type == "ack" && frame.value("id", json{}) == id)
        result.ack = frame;
      else if (type == "message" && !result.ack.is_null()
               && frame["reply_to"] == result.ack["message_id"]) {
        result.reply = frame;
        return result;
      } else if (type == "error") {
        result.error = frame;
        return result;
      }
    }
  }
};

// -- SQLite locked by another process -----------------------------------------

TEST_F(fault_e2e, sqlite_locked_by_another_connection) {
  start_server({}, no_rate_limits);
  const auto pid = server().pid();
  ws_client client;
  auto session = open_session(client);
  auto before = send_message(client, "hello before the lock", "lock-1");

  // Another connection takes the write lock and keeps it.
  soci::session lock{soci::sqlite3, "db=" + db_path() + " timeout=1"};
  lock << "BEGIN EXCLUSIVE";
  auto sent_at = clock_type::now();
  auto blocked = send_and_read(client, "hello while locked", "lock-2");
  auto waited = clock_type::now() - sent_at;
  EXPECT_TRUE(blocked.ack.is_null())
    << "acknowledged while the database was locked:\n" << dump(blocked.frames);
  ASSERT_FALSE(blocked.error.is_null()) << dump(blocked.frames);
  EXPECT_EQ(blocked.error.value("code", ""), "storage_unavailable")
    << blocked.error;
  EXPECT_EQ(blocked.error.value("client_id", ""), "lock-2")
    << "the error names the message to send again: " << blocked.error;
  EXPECT_TRUE(is_clear_storage_error(blocked.error)) << blocked.error;
  EXPECT_LT(waited, 8s) << "a short wait for the lock, then the error";

  // /health says that writes fail, and why.
  unsigned status = 0;
  auto health = health_of(host(), port(), status);
  EXPECT_EQ(status, 503u) << health;
  EXPECT_EQ(health.value("status", ""), "unhealthy") << health;
  EXPECT_NE(health.value("reason", "").find("locked"), std::string::npos)
    << health;

  lock << "ROLLBACK";
  health = health_of(host(), port(), status);
  EXPECT_EQ(status, 200u) << "the lock is gone: " << health;

  // The message sent again (same id) is stored once and answered.
  auto again = send_message(client, "hello while locked", "lock-2");
  EXPECT_EQ(again.reply.value("role", ""), "assistant") << again.reply;

  // A lock held only briefly is waited out: no error at all.
  lock << "BEGIN EXCLUSIVE";
  client.send_json(
    {{"type", "message"}, {"text", "hello, brief lock"}, {"id", "lock-3"}});
  std::this_thread::sleep_for(300ms); // the fault's duration
  lock << "ROLLBACK";
  auto frames = client.read_until_type("message", frame_timeout);
  for (const auto& frame : frames)
    EXPECT_NE(type_of(frame), "error") << dump(frames);
  EXPECT_EQ(type_of(frames.front()), "ack") << dump(frames);
  ASSERT_TRUE(server().running());
  EXPECT_EQ(server().pid(), pid);
  client.close();
  stop_server();

  db_probe db{db_path()};
  EXPECT_EQ(db.user_rows_in_session(session.session_id), 3);
  for (const auto* id : {"lock-1", "lock-2", "lock-3"}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(db.user_rows_with_client_id(session.session_id, id), 1);
  }
  EXPECT_EQ(db.replies_to(before.ack["message_id"].get<std::int64_t>()), 1);
  EXPECT_EQ(db.replies_to(again.ack["message_id"].get<std::int64_t>()), 1);
}

// -- Disk full ----------------------------------------------------------------

/// Sets the soft limit on the size of files `pid` writes; the hard limit
/// stays, so that raising the soft one back needs no privilege.
void set_file_size_limit(pid_t pid, rlim_t bytes) {
  rlimit limit{};
  if (::prlimit(pid, RLIMIT_FSIZE, nullptr, &limit) != 0)
    throw std::runtime_error("prlimit(RLIMIT_FSIZE) cannot be read: "
                             + std::string{std::strerror(errno)});
  limit.rlim_cur = std::min(bytes, limit.rlim_max);
  if (::prlimit(pid, RLIMIT_FSIZE, &limit, nullptr) != 0)
    throw std::runtime_error("prlimit(RLIMIT_FSIZE) failed: "
                             + std::string{std::strerror(errno)});
}

std::uintmax_t size_or_zero(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

TEST_F(fault_e2e, disk_full_on_sqlite) {
  // A short linger: a message stored but left unanswered by the fault is
  // answered when the session is rebuilt after a resume.
  start_server({"--session-linger", "1"}, no_rate_limits);
  const auto pid = server().pid();
  ws_client client;
  auto session = open_session(client);
  send_message(client, "hello before the disk fills", "full-0");

  // Room for a few more commits past today's files, then EFBIG. (SQLite
  // resets its WAL when a checkpoint gets through, which makes room again
  // for a while: the fault comes and goes as on a disk that is nearly full.)
  auto biggest = std::max({size_or_zero(db_path()),
                           size_or_zero(db_path() + "-wal")});
  set_file_size_limit(pid, static_cast<rlim_t>(biggest + 32 * 1024));

  std::map<std::string, std::int64_t> acked; // client id -> message_id
  std::set<std::int64_t> answered;            // message_ids
  std::vector<std::string> refused;           // not stored: send again
  std::vector<json> errors;
  std::size_t unhealthy = 0;
  // Long texts fill the files sooner.
  auto text_of = [](int n) {
    return "hello, filling the disk " + std::to_string(n) + " "
           + std::string(2000, 'x');
  };
  auto send_one = [&](int n) {
    auto id = "full-" + std::to_string(n);
    auto got = send_and_read(client, text_of(n), id);
    if (!got.ack.is_null())
      acked[id] = got.ack["message_id"].get<std::int64_t>();
    if (!got.reply.is_null())
      answered.insert(got.reply["reply_to"].get<std::int64_t>());
    if (!got.error.is_null()) {
      // Not stored (send it again), or stored and not answered yet.
      EXPECT_TRUE(is_clear_storage_error(got.error)) << dump(got.frames);
      EXPECT_EQ(got.error.value("code", ""),
                got.ack.is_null() ? "storage_unavailable" : "internal_error")
        << dump(got.frames);
      errors.push_back(got.error);
      if (got.ack.is_null())
        refused.push_back(id);
      // While writes fail, /health says so; a checkpoint may already have
      // made room again, and then it says healthy.
      unsigned status = 0;
      auto health = health_of(host(), port(), status);
      if (status != 200) {
        ++unhealthy;
        EXPECT_EQ(status, 503u) << health;
        EXPECT_EQ(health.value("status", ""), "unhealthy") << health;
        EXPECT_NE(health.value("reason", "").find("writes fail"),
                  std::string::npos)
          << health;
      }
    }
  };
  // Until the first write fails, then some more while the limit holds.
  int n = 1;
  for (; n <= 400 && errors.empty(); ++n)
    send_one(n);
  ASSERT_FALSE(errors.empty()) << "no write failed after " << n - 1
                               << " messages";
  auto first_error_after = n - 1;
  for (int more = 0; more < 20; ++more, ++n)
    send_one(n);
  ASSERT_TRUE(server().running()) << "the server died of the full disk";
  EXPECT_EQ(server().pid(), pid);

  // Room again: the same process writes again, without a restart.
  set_file_size_limit(pid, RLIM_INFINITY);
  unsigned status = 0;
  auto health = health_of(host(), port(), status);
  EXPECT_EQ(status, 200u) << health;
  for (const auto& id : refused) {
    auto got = send_message(client, text_of(std::stoi(id.substr(5))), id);
    acked[id] = got.ack["message_id"].get<std::int64_t>();
    answered.insert(acked[id]);
  }
  auto after = send_message(client, "hello after the disk emptied",
                            "full-after");
  acked["full-after"] = after.ack["message_id"].get<std::int64_t>();
  answered.insert(acked["full-after"]);
  ASSERT_TRUE(server().running());
  EXPECT_EQ(server().pid(), pid);

  // Messages stored but not answered during the fault: a resume of the
  // rebuilt session answers them.
  std::set<std::int64_t> waiting;
  for (const auto& [id, message_id] : acked)
    if (answered.count(message_id) == 0)
      waiting.insert(message_id);
  auto unanswered = waiting.size();
  auto last_seq = seq_of(after.reply);
  auto mark = server().line_count();
  client.close();
  if (!waiting.empty()) {
    ASSERT_TRUE(server().wait_for_line(
      "session=" + std::to_string(session.session_id) + " ends after lingering",
      10000ms, mark));
    ws_client again;
    auto first = resume_session(again, session, last_seq);
    ASSERT_EQ(type_of(first), "session") << first;
    while (!waiting.empty()) {
      auto frame = again.read_json(frame_timeout);
      ASSERT_NE(type_of(frame), "error") << frame;
      if (type_of(frame) == "message")
        waiting.erase(frame["reply_to"].get<std::int64_t>());
    }
    again.close();
  }
  stop_server();

  db_probe db{db_path()};
  for (const auto& [id, message_id] : acked) {
    SCOPED_TRACE(id);
    EXPECT_EQ(db.user_rows_with_client_id(session.session_id, id), 1);
    EXPECT_EQ(db.user_rows(message_id), 1);
    EXPECT_EQ(db.replies_to(message_id), 1);
  }
  EXPECT_EQ(db.user_rows_in_session(session.session_id),
            static_cast<std::int64_t>(acked.size()) + 1)
    << "full-0 and every acknowledged message, nothing else";
  std::cout << "[ disk     ] first failed write after " << first_error_after
            << " messages; " << errors.size() << " errors in "
            << n - 1 << " messages (" << refused.size()
            << " refused and sent again, " << unanswered
            << " answered after a resume), " << unhealthy
            << " unhealthy health checks" << std::endl;
}

// -- The LLM sends what cannot be read ----------------------------------------

struct llm_fault {
  const char* name;
  const char* protocol; // the mock's --protocol
  std::vector<std::string> flags;
};

std::string name_of(const llm_fault& fault) {
  return std::string{fault.protocol} + "_" + fault.name;
}

// For GoogleTest's messages, instead of the parameter's bytes.
void PrintTo(const llm_fault& fault, std::ostream* out) {
  *out << name_of(fault);
}

class llm_fault_e2e : public e2e_fixture,
                      public ::testing::WithParamInterface<llm_fault> {
protected:
  void TearDown() override {
    if (HasFailure()) {
      if (mock_)
        mock_logs_ += "---- mock pid " + std::to_string(mock_->pid())
                      + " ----\n" + mock_->log();
      ADD_FAILURE() << "mock logs:\n" << mock_logs_;
    }
    mock_.reset();
    e2e_fixture::TearDown();
  }

  /// The mock on `port` (0: any), with `flags`; returns its port.
  std::uint16_t start_mock(std::vector<std::string> flags,
                           std::uint16_t port = 0) {
    if (mock_)
      mock_logs_ += "---- mock pid " + std::to_string(mock_->pid())
                    + " ----\n" + mock_->log();
    mock_.reset(); // kills the one before
    flags.insert(flags.end(), {"--protocol", GetParam().protocol, "--verbose"});
    mock_ = std::make_unique<mock_llm_process>(std::move(flags), port);
    return mock_->port();
  }

  json llm_health() {
    return json::parse(admin_get(host(), port(), "/api/llm/health").body,
                       nullptr, false);
  }

  std::unique_ptr<mock_llm_process> mock_;
  std::string mock_logs_;
};

TEST_P(llm_fault_e2e, a_broken_reply_gets_a_clear_answer_and_the_llm_returns) {
  const auto& fault = GetParam();
  auto openai = std::string{fault.protocol} == "openai";
  auto llm_port = start_mock(fault.flags);
  std::vector<std::string> args{"--llm-url"};
  if (openai) {
    args.push_back("http://127.0.0.1:" + std::to_string(llm_port) + "/v1");
    args.insert(args.end(),
                {"--llm-provider", "openai", "--llm-model", "mock-model"});
  } else {
    args.push_back("ws://127.0.0.1:" + std::to_string(llm_port) + "/chat");
  }
  // The rules route, so each message is one LLM request; a short LLM
  // timeout bounds a request the LLM never answers, a short backoff the
  // reconnects.
  auto env = no_rate_limits;
  env.insert({{"AGENT_ROUTER", "rules"},
              {"LLM_TIMEOUT", "2"},
              {"LLM_BACKOFF_BASE", "0.05"},
              {"LLM_BACKOFF_CAP", "0.2"}});
  start_server(args, env);
  ASSERT_TRUE(server().wait_for_line("LLM connected", 10000ms))
    << "the LLM never connected";
  const auto pid = server().pid();
  ws_client client;
  auto session = open_session(client);
  std::map<std::string, std::int64_t> acked;  // client id -> message_id

  // The broken reply: the fallback answers instead, in words.
  auto broken = ask(client, "hello there", "llm-1");
  acked["llm-1"] = broken.ack["message_id"].get<std::int64_t>();
  for (const auto& frame : broken.frames)
    EXPECT_NE(type_of(frame), "error") << dump(broken.frames);
  EXPECT_EQ(broken.reply.value("source", ""), "fallback")
    << "nothing usable came from the LLM:\n" << dump(broken.frames);
  EXPECT_EQ(broken.reply.value("finish_reason", ""), "completed")
    << broken.reply;
  EXPECT_FALSE(broken.reply.value("text", "").empty())
    << "an empty answer is no answer:\n" << dump(broken.frames);
  ASSERT_TRUE(server().running());
  EXPECT_EQ(server().pid(), pid);

  // The LLM's health names what went wrong (bounded polling: the
  // supervisor may learn of a dropped connection just after the answer).
  auto health = llm_health();
  auto poll_until = clock_type::now() + 5s;
  while (health["llm_service"].value("last_error", "").empty()
         && clock_type::now() < poll_until) {
    std::this_thread::sleep_for(50ms);
    health = llm_health();
  }
  EXPECT_FALSE(health["llm_service"].value("last_error", "").empty())
    << health;

  // A well-behaved LLM on the same port: answers come from it again,
  // without a restart of the server.
  start_mock({}, llm_port);
  json back;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto mark = server().line_count();
    auto id = "llm-back-" + std::to_string(attempt);
    auto got = ask(client, "welcome back", id);
    acked[id] = got.ack["message_id"].get<std::int64_t>();
    EXPECT_FALSE(got.reply.value("text", "").empty()) << dump(got.frames);
    if (got.reply.value("source", "") == "llm") {
      back = got.reply;
      break;
    }
    // The fallback answered while the LLM reconnects.
    server().wait_for_line("LLM connected", 3000ms, mark);
  }
  ASSERT_FALSE(back.is_null()) << "the LLM never answered again";
  EXPECT_EQ(back.value("text", ""), "Echo: welcome back") << back;
  health = llm_health();
  EXPECT_EQ(health["llm_service"].value("connected", false), true) << health;
  ASSERT_TRUE(server().running());
  EXPECT_EQ(server().pid(), pid);
  client.close();
  stop_server();

  db_probe db{db_path()};
  EXPECT_EQ(db.user_rows_in_session(session.session_id),
            static_cast<std::int64_t>(acked.size()));
  for (const auto& [id, message_id] : acked) {
    SCOPED_TRACE(id);
    EXPECT_EQ(db.user_rows_with_client_id(session.session_id, id), 1);
    EXPECT_EQ(db.replies_to(message_id), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(
  faults, llm_fault_e2e,
  ::testing::Values(
    llm_fault{"garbage", "websocket", {"--garbage"}},
    llm_fault{"garbage", "openai", {"--garbage"}},
    // Over Parley's limits: 16 MiB per LLM WebSocket message, 1 MiB per
    // SSE event (transport/llm_ws_client.hpp, transport/sse_parser.hpp).
    llm_fault{"oversized", "websocket", {"--oversized", "17000000"}},
    llm_fault{"oversized", "openai", {"--oversized", "1100000"}},
    llm_fault{"truncated", "websocket", {"--truncate-frame"}},
    llm_fault{"truncated", "openai", {"--truncate-frame"}}),
  [](const auto& info) { return name_of(info.param); });

} // namespace
} // namespace parley::test
