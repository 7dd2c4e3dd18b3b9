#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/rest_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_databases.hpp"

// The fixture of the REST contract tests: the real server binary on a fresh
// scratch database of each backend that test_backends() offers. Starting a
// server (and, on PostgreSQL and MariaDB, creating its database) is the slow
// part, so the tests of one suite share one server per backend, started by the
// first test that needs it and stopped after the suite. Tests therefore never
// assume an empty table: they create their own rows under names from
// unique() and look at those.
namespace parley::test {

/// `parley` on a scratch database of one backend.
class rest_server {
public:
  static constexpr std::chrono::milliseconds start_timeout{30000};
  static constexpr std::chrono::milliseconds exit_timeout{15000};

  explicit rest_server(const std::string& backend);

  ~rest_server();

  rest_server(const rest_server&) = delete;
  rest_server& operator=(const rest_server&) = delete;

  server_process& process() {
    return *process_;
  }

  scratch_database& database() {
    return database_;
  }

  const std::string& host() const {
    return process_->host();
  }

  std::uint16_t port() const {
    return process_->port();
  }

  /// True when GET /health answers at all (200 or 503).
  bool answers();

  /// SIGTERM and the wait for a clean exit; a failure when it does not end
  /// with code 0 in time.
  void stop();

private:
  temp_dir dir_;
  scratch_database database_;
  std::unique_ptr<server_process> process_;
};

class rest_fixture : public ::testing::TestWithParam<std::string> {
protected:
  using json = nlohmann::json;

  static void TearDownTestSuite();

  void SetUp() override;

  void TearDown() override;

  const std::string& backend() const {
    return GetParam();
  }

  rest_server& server() {
    return *server_;
  }

  /// Sends the admin token the servers run with (test_admin_token).
  rest_client& api() {
    return *api_;
  }

  /// A token no other row of this run contains, and none contains it either
  /// ("r<pid>n<counter>q"), for names, emails and searches.
  static std::string unique(const std::string& prefix = "r");

  /// unique(prefix) + "@example.com".
  static std::string unique_email(const std::string& prefix = "r");

  // Helpers for setting the stage. Each checks the documented success answer
  // and throws std::runtime_error with the exchange when it did not come.

  /// POST /api/users; returns data.user.
  json create_user(const std::string& name, const std::string& email,
                   const json& extra = json::object());

  /// POST /api/sessions; returns data.
  json create_session(std::int64_t user_id, const std::string& title);

  /// POST `target` (/api/chat/send); returns data.
  json chat_send(const json& body,
                 const std::string& target = "/api/chat/send");

  /// GET `target`, expecting 200; returns the whole reply.
  rest_reply get_ok(const std::string& target);

  /// Every item of a list endpoint, page after page with limit 100.
  std::vector<json> get_all(const std::string& target_with_query);

private:
  static std::map<std::string, std::unique_ptr<rest_server>>& servers();

  rest_server* server_ = nullptr;
  std::unique_ptr<rest_client> api_;
  std::size_t first_line_ = 0;
};

/// GoogleTest's parameter name for a backend: the backend itself.
std::string backend_name(const ::testing::TestParamInfo<std::string>& info);

/// "ids" of a JSON array of objects, in order.
std::vector<std::int64_t> ids_of(const nlohmann::json& items,
                                 const char* key = "id");

} // namespace parley::test

/// Runs every test of `suite` (a rest_fixture) on every backend. The list is
/// fixed, not test_backends(): CTest lists the tests before its databases
/// fixture starts the servers, so test names must not depend on them. A
/// backend without a server fails in SetUp.
#define PARLEY_REST_SUITE(suite)                                               \
  INSTANTIATE_TEST_SUITE_P(backends, suite,                                    \
                           ::testing::Values("sqlite", "postgresql",          \
                                             "mariadb"),                      \
                           ::parley::test::backend_name)
