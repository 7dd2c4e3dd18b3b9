#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace parley::test {

/// How a child process ended.
struct exit_status {
  bool exited = false;   // returned from main or called exit(): `code` valid
  int code = -1;
  bool signaled = false; // killed by `signal`
  int signal = 0;
  bool timed_out = false; // did not end in time and was killed by the harness

  /// True for a normal exit with `expected` as the exit code.
  bool is_exit(int expected) const noexcept {
    return exited && !timed_out && code == expected;
  }

  std::string to_string() const;
};

/// The real server binary, running as a child process. Its stdout and stderr
/// share one pipe that a background thread drains all the time (a server
/// blocked on a full pipe would look like a hung server) and splits into
/// lines that tests can wait for. The destructor kills and reaps the child,
/// so no test ever leaves a server behind, even when it fails half-way.
class server_process {
public:
  /// Starts `executable` with `args`. `env` adds to (or overrides) the test's
  /// own environment; `working_dir` (empty: the test's) is where the server
  /// runs, which keeps it away from a developer's `.env`. Throws
  /// std::runtime_error when the program cannot be started.
  server_process(std::string executable, std::vector<std::string> args,
                 std::map<std::string, std::string> env = {},
                 std::string working_dir = {});

  ~server_process();

  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// `$PARLEY_BUILD_DIR/parley`, falling back to the build folder this
  /// harness was configured in (for running a test binary by hand).
  static std::string default_executable();

  pid_t pid() const noexcept {
    return pid_;
  }

  /// Waits for the line `listening on http://HOST:PORT` and remembers HOST
  /// and PORT. Returns false when the line does not come in time or the
  /// server exits first.
  bool wait_until_listening(std::chrono::milliseconds timeout);

  /// The same for a program that announces its address in another line:
  /// `pattern`'s first group is HOST (brackets around an IPv6 address are
  /// dropped) and its second PORT.
  bool wait_for_address(const std::regex& pattern,
                        std::chrono::milliseconds timeout);

  /// Valid after wait_until_listening (or wait_for_address) returned true.
  const std::string& host() const noexcept {
    return host_;
  }

  std::uint16_t port() const noexcept {
    return port_;
  }

  /// Waits until a line at index >= `from_line` matches `pattern` (searched,
  /// not fully matched) and returns that line; nullopt on timeout or when
  /// the output ended (the server exited) without such a line.
  std::optional<std::string> wait_for_line(const std::regex& pattern,
                                           std::chrono::milliseconds timeout,
                                           std::size_t from_line = 0);

  /// As above, for a plain substring.
  std::optional<std::string> wait_for_line(std::string_view substring,
                                           std::chrono::milliseconds timeout,
                                           std::size_t from_line = 0);

  /// Number of complete lines captured so far (a mark for `from_line`).
  std::size_t line_count() const;

  std::vector<std::string> lines() const;

  /// Everything captured so far, one line per line.
  std::string log() const;

  /// Sends SIGTERM (graceful shutdown).
  void terminate();

  /// Sends SIGINT (graceful shutdown, as Ctrl-C).
  void interrupt();

  /// Sends SIGKILL (a crash, as far as the server can tell).
  void kill();

  /// Waits for the child to end and reaps it. When it does not end within
  /// `timeout`, records a test failure (with the captured log), kills it and
  /// returns a status with `timed_out` set. Calling it again returns the
  /// same status.
  exit_status wait_exit(std::chrono::milliseconds timeout);

  /// True while the child has not been reaped.
  bool running() const noexcept {
    return !status_.has_value();
  }

  /// The first sanitizer report in the output (AddressSanitizer,
  /// LeakSanitizer, UndefinedBehaviorSanitizer or ThreadSanitizer, in the
  /// sanitizer builds of tools/test), from its first line on; empty when
  /// there is none.
  std::string sanitizer_report() const;

private:
  void check_sanitizer_report();
  void send_signal(int sig);
  void read_loop();
  std::optional<std::string>
  wait_for_line_if(const std::function<bool(const std::string&)>& pred,
                   std::chrono::milliseconds timeout, std::size_t from_line);
  bool wait_exit_event(std::chrono::steady_clock::time_point deadline);
  exit_status reap_blocking();

  std::string executable_;
  pid_t pid_ = -1;
  int out_fd_ = -1;   // read end of the child's stdout/stderr pipe
  int stop_fd_ = -1;  // eventfd that tells the reader thread to quit
  std::thread reader_;

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::string partial_;
  bool eof_ = false;

  std::optional<exit_status> status_;
  bool sanitizer_checked_ = false;
  std::string host_;
  std::uint16_t port_ = 0;
};

} // namespace parley::test
