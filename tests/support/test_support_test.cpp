// Tests of the end-to-end harness itself, with /bin/sh and bare sockets as
// counterparts: a harness that hides failures would make every e2e test
// worthless.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"

using namespace parley::test;
using namespace std::chrono_literals;

namespace {

TEST(server_process, captures_lines_port_and_exit_code) {
  server_process proc{"/bin/sh",
                      {"-c", "echo one; echo 'x listening on "
                             "http://127.0.0.1:4242' >&2; printf partial; "
                             "exit 3"}};
  ASSERT_TRUE(proc.wait_until_listening(5s)) << proc.log();
  EXPECT_EQ(proc.host(), "127.0.0.1");
  EXPECT_EQ(proc.port(), 4242);
  auto status = proc.wait_exit(5s);
  EXPECT_TRUE(status.is_exit(3)) << status.to_string();
  auto lines = proc.lines();
  ASSERT_EQ(lines.size(), 3u) << proc.log();
  EXPECT_EQ(lines[0], "one");
  EXPECT_EQ(lines[2], "partial");
}

TEST(server_process, wait_for_line_ends_with_the_output) {
  server_process proc{"/bin/sh", {"-c", "echo a"}};
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(proc.wait_for_line("never printed", 10s).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(proc.wait_for_line(std::regex{"^a$"}, 1s).has_value());
  EXPECT_TRUE(proc.wait_exit(5s).is_exit(0));
}

TEST(server_process, terminate_and_kill) {
  server_process graceful{
    "/bin/sh",
    {"-c", "trap 'echo got-term; exit 7' TERM; echo ready; "
           "while :; do sleep 0.05; done"}};
  ASSERT_TRUE(graceful.wait_for_line("ready", 5s));
  graceful.terminate();
  auto status = graceful.wait_exit(5s);
  EXPECT_TRUE(status.is_exit(7)) << status.to_string();
  EXPECT_TRUE(graceful.wait_for_line("got-term", 1s));
  server_process hard{"/bin/sh", {"-c", "echo ready; exec sleep 30"}};
  ASSERT_TRUE(hard.wait_for_line("ready", 5s));
  hard.kill();
  status = hard.wait_exit(5s);
  EXPECT_TRUE(status.signaled && status.signal == SIGKILL)
    << status.to_string();
}

TEST(server_process, wait_exit_fails_and_kills_after_the_timeout) {
  server_process proc{"/bin/sh", {"-c", "exec sleep 30"}};
  exit_status status;
  EXPECT_NONFATAL_FAILURE(status = proc.wait_exit(200ms),
                          "did not exit within 200 ms");
  EXPECT_TRUE(status.timed_out);
  EXPECT_TRUE(status.signaled && status.signal == SIGKILL)
    << status.to_string();
  EXPECT_FALSE(proc.running());
}

TEST(server_process, missing_program_throws) {
  EXPECT_THROW(server_process("/no/such/parley", {}), std::runtime_error);
}

TEST(server_process, environment_working_dir_and_no_inherited_fds) {
  temp_dir dir;
  // A descriptor without CLOEXEC, as a client socket would be.
  int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  server_process proc{"/bin/sh",
                      {"-c", "echo \"$PARLEY_X\"; pwd; ls /proc/self/fd"},
                      {{"PARLEY_X", "from-test"}},
                      dir.path().string()};
  EXPECT_TRUE(proc.wait_exit(5s).is_exit(0));
  ::close(leaky);
  auto lines = proc.lines();
  ASSERT_GE(lines.size(), 2u) << proc.log();
  EXPECT_EQ(lines[0], "from-test");
  EXPECT_EQ(std::filesystem::path{lines[1]},
            std::filesystem::canonical(dir.path()));
  // ls itself opens one descriptor (3) for the listing.
  for (std::size_t i = 2; i < lines.size(); ++i)
    EXPECT_LE(std::stoi(lines[i]), 3) << proc.log();
}

TEST(temp_dir, is_removed_with_its_content) {
  std::filesystem::path where;
  {
    temp_dir dir;
    where = dir.path();
    std::ofstream{dir / "file"} << "x";
    ASSERT_TRUE(std::filesystem::exists(where / "file"));
  }
  EXPECT_FALSE(std::filesystem::exists(where));
}

// A TCP port that accepts connections (the kernel does, via the backlog)
// but never answers: every client operation must time out, not hang.
class silent_listener {
public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0
        || ::listen(fd_, 8) != 0
        || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("silent_listener: cannot listen");
    port_ = ntohs(addr.sin_port);
  }

  ~silent_listener() {
    ::close(fd_);
  }

  std::uint16_t port() const {
    return port_;
  }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST(ws_client, operations_time_out_against_a_silent_server) {
  silent_listener silent;
  ws_client client;
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(client.connect("127.0.0.1", silent.port(), "/ws", 300ms),
               ws_error);
  EXPECT_THROW(http_get("127.0.0.1", silent.port(), "/health", 300ms),
               ws_error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(client.is_open());
  EXPECT_EQ(client.read_frame(100ms).status, read_status::error);
}

TEST(ws_client, connect_to_a_closed_port_throws) {
  std::uint16_t port;
  {
    silent_listener gone; // picks a free port, then releases it
    port = gone.port();
  }
  ws_client client;
  EXPECT_THROW(client.connect("127.0.0.1", port, "/ws", 2s), ws_error);
}

} // namespace
