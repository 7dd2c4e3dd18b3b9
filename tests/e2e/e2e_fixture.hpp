#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/admin_api.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {

/// The environment of tests that drive traffic faster than any person
/// types: the message-rate limits off (limits_e2e_test holds them).
inline const std::map<std::string, std::string> machine_speed_env{
  {"PARLEY_SESSION_RATE", "0"}, {"PARLEY_ADDRESS_RATE", "0"}};

/// A session as the server announced it in its `session` frame.
struct session_info {
  std::int64_t session_id = 0;
  std::string resume_token;
  std::int64_t seq = 0;
};

/// The frames that answer one user message: ack, typing, reply.
struct exchange {
  nlohmann::json ack;
  nlohmann::json reply;
  std::vector<nlohmann::json> frames; // everything read, the reply last
};

/// Base of the end-to-end tests: one temporary folder with the database and
/// an (empty) knowledge folder, and the real server running on it. When a
/// test fails, the logs of every server it started are added to the failure
/// message. Helpers that cannot continue throw std::runtime_error, which
/// GoogleTest reports as a failure of the test.
class e2e_fixture : public ::testing::Test {
protected:
  static constexpr std::chrono::milliseconds start_timeout{15000};
  static constexpr std::chrono::milliseconds frame_timeout{10000};
  static constexpr std::chrono::milliseconds exit_timeout{10000};

  e2e_fixture();

  void TearDown() override;

  /// Starts the server with the standard flags plus `extra_args` (and `env`
  /// added to the test's environment, PARLEY_ADMIN_TOKEN=test_admin_token
  /// unless `env` sets it) and waits until it listens. A server from before
  /// must have been stopped.
  server_process& start_server(const std::vector<std::string>& extra_args = {},
                               const std::map<std::string, std::string>& env
                               = {});

  /// SIGTERM, then waits for the exit; expects exit code 0.
  exit_status stop_server();

  server_process& server();

  const std::string& host() {
    return server().host();
  }

  std::uint16_t port() {
    return server().port();
  }

  /// Absolute path of this test's SQLite file.
  std::string db_path() const;

  /// `sqlite:///` + db_path(): an absolute path gives four slashes.
  std::string database_url() const;

  /// Connects `client` to a new session and checks the session frame.
  session_info open_session(ws_client& client);

  /// Connects `client` to resume `session` after `last_seq`; returns the
  /// first frame (the `session` frame, if the server accepts the resume).
  nlohmann::json resume_session(ws_client& client, const session_info& session,
                                std::int64_t last_seq);

  /// Sends a message frame (`id` omitted when empty) and reads until the
  /// reply, checking that ack and typing came first and the reply answers
  /// the acknowledged message.
  exchange send_message(ws_client& client, const std::string& text,
                        const std::string& id = {});

  /// Sends a message frame with `id` and reads through its answer, streamed
  /// deltas included (which send_message does not expect); checks only that
  /// the reply answers the acknowledged message.
  exchange ask(ws_client& client, const std::string& text,
               const std::string& id);

  /// Sends a ping and returns every frame up to and including the pong: a
  /// barrier that shows nothing else was pending for this connection.
  std::vector<nlohmann::json> ping_barrier(ws_client& client);

  temp_dir tmp_;

private:
  void keep_log();

  std::unique_ptr<server_process> server_;
  std::string old_logs_; // logs of the servers this test already stopped
};

/// "/ws?session_id=..&resume_token=..&last_seq=.."
std::string resume_target(std::int64_t session_id, const std::string& token,
                          std::int64_t last_seq);

/// The frames as one JSON line each, for failure messages.
std::string dump(const std::vector<nlohmann::json>& frames);

/// The texts of the `delta` frames among `frames`, joined.
std::string streamed_text(const std::vector<nlohmann::json>& frames);

/// The frame's `type`, or "" when it has none.
std::string type_of(const nlohmann::json& frame);

/// The frame's `seq`; throws when it is missing or not an integer.
std::int64_t seq_of(const nlohmann::json& frame);

} // namespace parley::test
