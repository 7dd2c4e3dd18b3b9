// Parley's LLM clients over TLS, end to end: the real server talking wss://
// (the custom WebSocket protocol) or https:// (OpenAI-compatible, SSE) to
// the mock LLM serving a self-signed certificate made for this test.
//
// Parley has no setting of its own for a private CA: it verifies against
// OpenSSL's default store, whose file SSL_CERT_FILE names. Trusting the
// certificate is therefore only the environment variable, and the tests
// without it (or with a certificate for another name) prove that
// verification is really on: the same setup then never reaches the LLM.

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

/// One of Parley's two LLM protocols, as the mock and Parley spell it.
struct llm_protocol {
  std::string name;     // the mock's --protocol
  std::string variable; // Parley's setting of the LLM's URL
  std::string scheme;
  std::string path;
  std::string provider;      // in /api/llm/health
  std::string request_line;  // the mock's log line for a chat request
};

std::ostream& operator<<(std::ostream& out, const llm_protocol& p) {
  return out << p.name;
}

const llm_protocol websocket_protocol{
  "websocket", "LLM_WEBSOCKET_URL", "wss", "/chat", "websocket",
  "websocket request #"};

const llm_protocol openai_protocol{
  "openai", "OPENAI_BASE_URL", "https", "/v1", "openai", "chat request #"};

class llm_tls_e2e : public e2e_fixture,
                    public ::testing::WithParamInterface<llm_protocol> {
protected:
  void TearDown() override {
    if (HasFailure() && mock_)
      ADD_FAILURE() << "mock log:\n" << mock_->log();
    e2e_fixture::TearDown();
  }

  const llm_protocol& protocol() const {
    return GetParam();
  }

  /// The mock LLM serving TLS only, with `cert`.
  void start_tls_mock(const self_signed_cert& cert) {
    mock_ = std::make_unique<mock_llm_process>(std::vector<std::string>{
      "--protocol", protocol().name, "--tls-cert", cert.cert_file.string(),
      "--tls-key", cert.key_file.string(), "--chunks", "3", "--verbose"});
  }

  /// Parley with the LLM at `host` (a name or an address of the mock), and
  /// SSL_CERT_FILE set to `trusted` when given. Periodic health checks are
  /// pushed out of the test's way: the tests count TLS connections.
  void start_parley(const std::string& host,
                    const std::optional<self_signed_cert>& trusted) {
    std::map<std::string, std::string> env{
      {protocol().variable, protocol().scheme + "://" + host + ":"
                              + std::to_string(mock_->port())
                              + protocol().path},
      {"LLM_HEALTH_INTERVAL", "600"}};
    if (trusted)
      env["SSL_CERT_FILE"] = trusted->cert_file.string();
    start_server({}, env);
  }

  json llm_health() {
    auto res = admin_get(host(), port(), "/api/llm/health");
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body);
  }

  /// Stops the mock (once): after its exit, every line it wrote has been
  /// captured, so that lines can be counted.
  void stop_mock() {
    if (!mock_->running())
      return;
    mock_->terminate();
    EXPECT_TRUE(mock_->wait_exit(5000ms).is_exit(0)) << mock_->log();
  }

  /// The mock's log lines that contain `text`, all of them (stops it).
  std::size_t mock_lines_with(const std::string& text) {
    stop_mock();
    auto lines = mock_->lines();
    return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [&text](const auto& line) {
        return line.find(text) != std::string::npos;
      }));
  }

  /// Two chat messages answered by the LLM, streamed in deltas.
  void expect_llm_answers() {
    ASSERT_TRUE(server().wait_for_line("LLM connected", 20000ms))
      << "never connected to the LLM";
    ws_client client;
    open_session(client);
    for (std::string text : {"hello over tls", "and once more"}) {
      auto got = ask(client, text, text);
      EXPECT_EQ(got.reply["source"], "llm") << dump(got.frames);
      EXPECT_EQ(got.reply["text"], "Echo: " + text) << dump(got.frames);
      EXPECT_EQ(streamed_text(got.frames), "Echo: " + text)
        << "streamed through TLS: " << dump(got.frames);
    }
    auto health = llm_health();
    const auto& service = health["llm_service"];
    EXPECT_EQ(health["success"], true) << health.dump();
    EXPECT_EQ(service["provider"], protocol().provider) << health.dump();
    EXPECT_EQ(service["status"], "healthy") << health.dump();
    EXPECT_EQ(service["connected"], true) << health.dump();
    EXPECT_EQ(service["url"].get<std::string>().rfind(protocol().scheme + "://",
                                                      0),
              0u)
      << health.dump();
  }

  /// The LLM never answers: the first connection attempt fails, the
  /// fallback answers, and /api/llm/health says why, with `reason` (the
  /// certificate verification's own words).
  void expect_refused_certificate(const std::string& reason) {
    ASSERT_TRUE(server().wait_for_line("LLM connection lost", 20000ms))
      << "the TLS connection did not fail";
    ws_client client;
    open_session(client);
    auto got = ask(client, "is anybody there?", "f1");
    EXPECT_EQ(got.reply["source"], "fallback") << dump(got.frames);
    auto health = llm_health();
    const auto& service = health["llm_service"];
    EXPECT_EQ(health["success"], false) << health.dump();
    EXPECT_EQ(service["connected"], false) << health.dump();
    EXPECT_NE(service["status"], "healthy") << health.dump();
    auto last_error = service["last_error"].get<std::string>();
    EXPECT_NE(last_error.find("certificate verify failed"), std::string::npos)
      << health.dump();
    EXPECT_NE(last_error.find(reason), std::string::npos) << health.dump();
    // The mock saw the handshake fail (Parley's alert), and no request.
    EXPECT_FALSE(server().wait_for_line("LLM connected", 0ms));
    EXPECT_TRUE(mock_->wait_for_line("tls handshake failed", 10000ms))
      << mock_->log();
    EXPECT_EQ(mock_lines_with("tls handshake done"), 0u) << mock_->log();
    EXPECT_EQ(mock_lines_with(protocol().request_line), 0u) << mock_->log();
  }

  std::unique_ptr<mock_llm_process> mock_;
};

// The certificate trusted through SSL_CERT_FILE: answers stream from the LLM
// over kept-alive TLS connections, which got SNI for the host name.
TEST_P(llm_tls_e2e, answers_from_the_llm_when_its_certificate_is_trusted) {
  auto cert = make_self_signed_cert(tmp_.path());
  start_tls_mock(cert);
  start_parley("localhost", cert);
  expect_llm_answers();
  auto handshakes = mock_lines_with("tls handshake done");
  auto requests = mock_lines_with(protocol().request_line);
  EXPECT_GE(requests, 2u) << mock_->log();
  if (protocol().name == "websocket")
    EXPECT_EQ(handshakes, 1u) << "one persistent connection:\n"
                              << mock_->log();
  else // the health check (GET /models) and the answers share connections
    EXPECT_TRUE(handshakes >= 1 && handshakes <= requests)
      << handshakes << " TLS connections for " << requests
      << " chat requests and a health check:\n"
      << mock_->log();
  EXPECT_EQ(mock_lines_with("sni localhost"), handshakes) << mock_->log();
  EXPECT_EQ(mock_lines_with("tls handshake failed"), 0u) << mock_->log();
}

// An IP address is checked against the certificate's IP entries, and gets
// no SNI (RFC 6066 allows only host names there).
TEST_P(llm_tls_e2e, verifies_an_ip_address_against_the_certificate) {
  auto cert = make_self_signed_cert(tmp_.path());
  start_tls_mock(cert);
  start_parley("127.0.0.1", cert);
  expect_llm_answers();
  auto handshakes = mock_lines_with("tls handshake done");
  EXPECT_GE(handshakes, 1u) << mock_->log();
  EXPECT_EQ(mock_lines_with("sni none"), handshakes) << mock_->log();
}

// The same setup without SSL_CERT_FILE: the self-signed certificate is in
// no trusted store, so the LLM is never reached.
TEST_P(llm_tls_e2e, refuses_an_untrusted_certificate) {
  auto cert = make_self_signed_cert(tmp_.path());
  start_tls_mock(cert);
  start_parley("localhost", std::nullopt);
  expect_refused_certificate("self-signed certificate");
}

// A trusted certificate made for another name: the host name check fails.
TEST_P(llm_tls_e2e, refuses_a_certificate_for_another_host_name) {
  auto cert = make_self_signed_cert(tmp_.path(), {"example.test"}, "other");
  start_tls_mock(cert);
  start_parley("localhost", cert);
  expect_refused_certificate("hostname mismatch");
}

INSTANTIATE_TEST_SUITE_P(llm, llm_tls_e2e,
                         ::testing::Values(websocket_protocol,
                                           openai_protocol),
                         [](const auto& info) { return info.param.name; });

} // namespace
} // namespace parley::test
