// Parley serving HTTPS and WSS (--tls-cert, --tls-key) on the same port as
// plain HTTP and WebSocket, told apart per connection, with a self-signed
// certificate made for each test. The clients trust only that certificate
// and verify it (and the host name): a server that did not present it would
// fail their handshake.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A bare TCP connection that sends what it is told and can wait for the
/// server to close it: for clients that stop half-way through a handshake.
class raw_connection {
public:
  raw_connection(const std::string& host, std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    if (fd_ < 0
        || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr)
             != 0)
      throw std::runtime_error("raw_connection: cannot connect");
  }

  ~raw_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  void send(const std::string& bytes) {
    if (::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL)
        != static_cast<ssize_t>(bytes.size()))
      throw std::runtime_error("raw_connection: send failed");
  }

  /// True when the server closed the connection (EOF or reset) within
  /// `timeout`; whatever it sent before is skipped.
  bool wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char buf[512];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        return true;
    }
  }

private:
  int fd_ = -1;
};

class tls_serve_e2e : public e2e_fixture {
protected:
  tls_serve_e2e() : cert_(make_self_signed_cert(tmp_.path())) {
    // nop
  }

  std::vector<std::string> tls_args() const {
    return {"--tls-cert", cert_.cert_file.string(), "--tls-key",
            cert_.key_file.string()};
  }

  std::string trusted() const {
    return cert_.cert_file.string();
  }

  /// The server with `args` (and the test's database), expected to refuse
  /// to start; returns its output.
  std::string failed_start(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env
                           = {}) {
    std::vector<std::string> all{"--host", "127.0.0.1", "--port", "0",
                                 "--database-url", database_url(),
                                 "--knowledge-dir",
                                 (tmp_ / "knowledge").string()};
    all.insert(all.end(), args.begin(), args.end());
    auto full_env = env;
    full_env.emplace("PARLEY_ADMIN_TOKEN", test_admin_token);
    server_process failing{server_process::default_executable(), all,
                           full_env, tmp_.str()};
    auto status = failing.wait_exit(exit_timeout);
    auto log = failing.log();
    EXPECT_TRUE(status.exited && status.code != 0)
      << status.to_string() << "\n" << log;
    EXPECT_FALSE(contains(log, "listening on")) << log;
    EXPECT_FALSE(contains(log, "PRIVATE KEY")) << "key material shown: "
                                               << log;
    return log;
  }

  self_signed_cert cert_;
};

TEST_F(tls_serve_e2e, https_and_plain_http_share_the_port) {
  start_server(tls_args());
  EXPECT_TRUE(server().wait_for_line("https://", 1s)) << "the log says so";

  auto secure = https_get(trusted(), host(), port(), "/health");
  EXPECT_EQ(secure.status, 200u) << secure.body;
  EXPECT_TRUE(contains(secure.body, "\"healthy\"")) << secure.body;

  auto plain = http_get(host(), port(), "/health");
  EXPECT_EQ(plain.status, 200u) << plain.body;
  EXPECT_TRUE(contains(plain.body, "\"healthy\"")) << plain.body;

  // The admin API over TLS, with the token.
  auto sessions = https_request(trusted(), host(), port(), "GET",
                                "/api/sessions", {}, bearer());
  EXPECT_EQ(sessions.status, 200u) << sessions.body;
  auto refused = https_request(trusted(), host(), port(), "GET",
                               "/api/sessions");
  EXPECT_EQ(refused.status, 401u) << refused.body;
}

TEST_F(tls_serve_e2e, chat_over_wss_and_ws_on_the_same_port) {
  start_server(tls_args());

  ws_client secure;
  secure.use_tls(trusted());
  auto secure_session = open_session(secure); // the session frame, over TLS
  auto secure_answer = send_message(secure, "hello", "tls-1");
  EXPECT_EQ(secure_answer.ack["id"], "tls-1") << dump(secure_answer.frames);
  EXPECT_FALSE(secure_answer.reply.value("text", "").empty())
    << dump(secure_answer.frames);

  ws_client plain;
  auto plain_session = open_session(plain);
  EXPECT_NE(plain_session.session_id, secure_session.session_id);
  auto plain_answer = send_message(plain, "hello", "plain-1");
  EXPECT_EQ(plain_answer.ack["id"], "plain-1") << dump(plain_answer.frames);

  // A resume over TLS finds the session and its history.
  secure.close();
  ws_client again;
  again.use_tls(trusted());
  auto first = resume_session(again, secure_session, 0);
  EXPECT_EQ(type_of(first), "session") << first.dump();
  plain.close();
  again.close();
  stop_server();
}

TEST_F(tls_serve_e2e, a_stalled_handshake_is_dropped_while_others_are_served) {
  start_server([&] {
    auto args = tls_args();
    args.insert(args.end(), {"--tls-handshake-timeout", "1"});
    return args;
  }());

  // The first 9 bytes of a ClientHello (record header, handshake type and
  // length), and then nothing: the server has seen TLS and waits for the
  // rest of the handshake.
  raw_connection stalled{host(), port()};
  stalled.send(std::string{"\x16\x03\x01\x00\xf0\x01\x00\x00\xec", 9});
  // A client that connects and never says anything at all.
  raw_connection silent{host(), port()};

  // Both wait for the server; everyone else is served meanwhile.
  auto secure = https_get(trusted(), host(), port(), "/health");
  EXPECT_EQ(secure.status, 200u) << secure.body;
  auto plain = http_get(host(), port(), "/health");
  EXPECT_EQ(plain.status, 200u) << plain.body;

  EXPECT_TRUE(stalled.wait_closed(5s)) << "the handshake timeout ends it";
  EXPECT_TRUE(silent.wait_closed(5s)) << "so does the detection's";
  EXPECT_TRUE(server().wait_for_line("TLS handshake failed", 5s))
    << "one debug line for the dropped handshake";

  // And the server still serves.
  auto after = https_get(trusted(), host(), port(), "/health");
  EXPECT_EQ(after.status, 200u) << after.body;
}

TEST_F(tls_serve_e2e, a_client_that_does_not_trust_the_certificate_fails) {
  start_server(tls_args());
  auto other = make_self_signed_cert(tmp_.path(), {"localhost", "127.0.0.1"},
                                     "other");
  EXPECT_THROW(https_get(other.cert_file.string(), host(), port(), "/health"),
               ws_error);
  // The failed handshake cost the server nothing.
  EXPECT_EQ(https_get(trusted(), host(), port(), "/health").status, 200u);
}

TEST_F(tls_serve_e2e, a_key_of_another_certificate_stops_the_start) {
  auto other = make_self_signed_cert(tmp_.path(), {"localhost"}, "other");
  auto log = failed_start({"--tls-cert", cert_.cert_file.string(),
                           "--tls-key", other.key_file.string()});
  EXPECT_TRUE(contains(log, "is not the private key of the certificate"))
    << log;
}

TEST_F(tls_serve_e2e, a_missing_key_file_stops_the_start) {
  auto missing = (tmp_ / "nowhere.key").string();
  auto log = failed_start({"--tls-cert", cert_.cert_file.string(),
                           "--tls-key", missing});
  EXPECT_TRUE(contains(log, "--tls-key / PARLEY_TLS_KEY: '" + missing
                              + "' does not exist"))
    << log;
}

TEST_F(tls_serve_e2e, a_file_that_is_no_certificate_stops_the_start) {
  auto log = failed_start({"--tls-cert", cert_.key_file.string(),
                           "--tls-key", cert_.key_file.string()});
  EXPECT_TRUE(contains(log, "--tls-cert / PARLEY_TLS_CERT: cannot load"))
    << log;
}

TEST_F(tls_serve_e2e, one_of_the_two_alone_stops_the_start) {
  auto log = failed_start({"--tls-cert", cert_.cert_file.string()});
  EXPECT_TRUE(contains(log, "--tls-key / PARLEY_TLS_KEY: is required with "
                            "--tls-cert"))
    << log;
  log = failed_start({}, {{"PARLEY_TLS_KEY", cert_.key_file.string()}});
  EXPECT_TRUE(contains(log, "--tls-cert / PARLEY_TLS_CERT: is required with "
                            "--tls-key"))
    << log;
}

} // namespace
} // namespace parley::test
