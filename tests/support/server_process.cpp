#include "tests/support/server_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

extern char** environ;

namespace parley::test {

namespace {

using clock_type = std::chrono::steady_clock;

std::string errno_text(const char* what) {
  return std::string{what} + ": " + std::strerror(errno);
}

int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - clock_type::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(
    0, std::min<std::chrono::milliseconds::rep>(left.count(), 1 << 30)));
}

// Closes every descriptor >= `from` except `keep`, so that the server does
// not inherit the sockets and pipes of other clients and servers of this
// test process (an inherited client socket would keep a connection alive).
// Runs between fork and exec: system calls only.
void close_fds_except(int from, int keep) {
#ifdef SYS_close_range
  if (keep >= from) {
    if (keep > from)
      ::syscall(SYS_close_range, static_cast<unsigned>(from),
                static_cast<unsigned>(keep - 1), 0u);
    if (::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u)
        == 0)
      return;
  } else if (::syscall(SYS_close_range, static_cast<unsigned>(from), ~0u, 0u)
             == 0) {
    return;
  }
#endif
  for (int fd = from; fd < 4096; ++fd)
    if (fd != keep)
      ::close(fd);
}

} // namespace

std::string exit_status::to_string() const {
  std::ostringstream out;
  if (timed_out)
    out << "did not exit in time (killed by the harness); ";
  if (exited)
    out << "exited with code " << code;
  else if (signaled)
    out << "killed by signal " << signal << " (" << ::strsignal(signal) << ")";
  else
    out << "unknown status";
  return out.str();
}

server_process::server_process(std::string executable,
                               std::vector<std::string> args,
                               std::map<std::string, std::string> env,
                               std::string working_dir)
  : executable_(std::move(executable)) {
  // Everything the child needs is built before fork: between fork and exec
  // only async-signal-safe calls are allowed (this process has threads).
  std::vector<std::string> argv_store;
  argv_store.push_back(executable_);
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_store)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** var = environ; var != nullptr && *var != nullptr; ++var) {
    std::string entry{*var};
    auto key = entry.substr(0, entry.find('='));
    if (env.count(key) == 0)
      env_store.push_back(std::move(entry));
  }
  for (auto& [key, value] : env)
    env_store.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_store)
    envp.push_back(entry.data());
  envp.push_back(nullptr);

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(errno_text("pipe2"));
  // exec failures travel back through this pipe; a successful exec closes it.
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error(errno_text("pipe2"));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto parent = ::getpid();
  const char* dir = working_dir.empty() ? nullptr : working_dir.c_str();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The server must not outlive a test process that crashed.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT})
      ::signal(sig, SIG_DFL);
    if (null_fd >= 0)
      ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(out_pipe[1], STDERR_FILENO);
    int err = 0;
    if (dir != nullptr && ::chdir(dir) != 0) {
      err = errno;
    } else {
      close_fds_except(3, err_pipe[1]);
      ::execve(argv[0], argv.data(), envp.data());
      err = errno;
    }
    [[maybe_unused]] auto n = ::write(err_pipe[1], &err, sizeof(err));
    ::_exit(127);
  }
  auto fork_errno = errno;
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (null_fd >= 0)
    ::close(null_fd);
  if (pid_ < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw std::runtime_error(std::string{"fork: "} + std::strerror(fork_errno));
  }
  int child_errno = 0;
  ssize_t got;
  do {
    got = ::read(err_pipe[0], &child_errno, sizeof(child_errno));
  } while (got < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (got > 0) {
    int st = 0;
    ::waitpid(pid_, &st, 0);
    ::close(out_pipe[0]);
    pid_ = -1;
    throw std::runtime_error("cannot start " + executable_ + ": "
                             + std::strerror(child_errno));
  }
  out_fd_ = out_pipe[0];
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  reader_ = std::thread{[this] { read_loop(); }};
}

server_process::~server_process() {
  if (running() && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap_blocking();
  }
  if (reader_.joinable()) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof(one));
    reader_.join();
  }
  check_sanitizer_report();
  if (out_fd_ >= 0)
    ::close(out_fd_);
  if (stop_fd_ >= 0)
    ::close(stop_fd_);
}

std::string server_process::default_executable() {
  if (const char* dir = std::getenv("PARLEY_BUILD_DIR"); dir != nullptr && *dir)
    return std::string{dir} + "/parley";
#ifdef PARLEY_DEFAULT_BUILD_DIR
  return std::string{PARLEY_DEFAULT_BUILD_DIR} + "/parley";
#else
  return "./parley";
#endif
}

void server_process::read_loop() {
  bool echo = std::getenv("PARLEY_E2E_ECHO") != nullptr;
  char buf[4096];
  for (;;) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[1].revents != 0)
      break;
    auto n = ::read(out_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    std::lock_guard<std::mutex> guard{mtx_};
    partial_.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto pos = partial_.find('\n'); pos != std::string::npos;
         pos = partial_.find('\n', start)) {
      lines_.emplace_back(partial_, start, pos - start);
      if (echo)
        std::cerr << "[parley " << pid_ << "] " << lines_.back() << '\n';
      start = pos + 1;
    }
    partial_.erase(0, start);
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> guard{mtx_};
  if (!partial_.empty()) {
    lines_.push_back(std::move(partial_));
    partial_.clear();
  }
  eof_ = true;
  cv_.notify_all();
}

std::optional<std::string> server_process::wait_for_line_if(
  const std::function<bool(const std::string&)>& pred,
  std::chrono::milliseconds timeout, std::size_t from_line) {
  auto deadline = clock_type::now() + timeout;
  std::unique_lock<std::mutex> guard{mtx_};
  auto next = from_line;
  for (;;) {
    for (; next < lines_.size(); ++next)
      if (pred(lines_[next]))
        return lines_[next];
    if (eof_)
      return std::nullopt;
    if (cv_.wait_until(guard, deadline) == std::cv_status::timeout
        && next == lines_.size() && !eof_)
      return std::nullopt;
  }
}

std::optional<std::string>
server_process::wait_for_line(const std::regex& pattern,
                              std::chrono::milliseconds timeout,
                              std::size_t from_line) {
  return wait_for_line_if(
    [&pattern](const std::string& line) {
      return std::regex_search(line, pattern);
    },
    timeout, from_line);
}

std::optional<std::string>
server_process::wait_for_line(std::string_view substring,
                              std::chrono::milliseconds timeout,
                              std::size_t from_line) {
  return wait_for_line_if(
    [substring](const std::string& line) {
      return line.find(substring) != std::string::npos;
    },
    timeout, from_line);
}

bool server_process::wait_until_listening(std::chrono::milliseconds timeout) {
  static const std::regex pattern{
    R"(listening on http://(\[[^\]]+\]|[^\s:/\[\]]+):([0-9]+))"};
  return wait_for_address(pattern, timeout);
}

bool server_process::wait_for_address(const std::regex& pattern,
                                      std::chrono::milliseconds timeout) {
  auto line = wait_for_line(pattern, timeout);
  if (!line)
    return false;
  std::smatch match;
  std::regex_search(*line, match, pattern);
  host_ = match[1].str();
  if (host_.size() > 2 && host_.front() == '[')
    host_ = host_.substr(1, host_.size() - 2);
  auto port = std::stoul(match[2].str());
  if (port == 0 || port > 65535)
    return false;
  port_ = static_cast<std::uint16_t>(port);
  return true;
}

std::size_t server_process::line_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lines_.size();
}

std::vector<std::string> server_process::lines() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lines_;
}

std::string server_process::log() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string result;
  for (const auto& line : lines_) {
    result += line;
    result += '\n';
  }
  if (!partial_.empty())
    result += partial_;
  return result;
}

std::string server_process::sanitizer_report() const {
  // The first line of every report (UBSan's: "file:line:col: runtime
  // error: ..."); the lines after it are the stacks and the summary.
  static constexpr std::string_view markers[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
    "WARNING: ThreadSanitizer", ": runtime error: "};
  auto all = lines();
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (auto marker : markers) {
      if (all[i].find(marker) == std::string::npos)
        continue;
      std::string report;
      for (auto j = i; j < all.size() && j < i + 200; ++j)
        report += all[j] + "\n";
      return report;
    }
  }
  return {};
}

// A finding of a sanitizer in the child fails the test that started it,
// whatever the test expected of the child (a server that is killed at the
// end, or is expected to fail, could otherwise hide it).
void server_process::check_sanitizer_report() {
  if (sanitizer_checked_)
    return;
  sanitizer_checked_ = true;
  if (auto report = sanitizer_report(); !report.empty())
    ADD_FAILURE() << executable_ << " (pid " << pid_
                  << ") reported a sanitizer finding:\n"
                  << report;
}

void server_process::send_signal(int sig) {
  if (running() && pid_ > 0)
    ::kill(pid_, sig);
}

void server_process::terminate() {
  send_signal(SIGTERM);
}

void server_process::interrupt() {
  send_signal(SIGINT);
}

void server_process::kill() {
  send_signal(SIGKILL);
}

bool server_process::wait_exit_event(clock_type::time_point deadline) {
  // A pidfd becomes readable when the child ends: a wait for the event
  // itself, with the deadline as poll's timeout.
#ifdef SYS_pidfd_open
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd fds{pidfd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&fds, 1, remaining_ms(deadline));
    } while (rc < 0 && errno == EINTR && clock_type::now() < deadline);
    ::close(pidfd);
    return rc > 0;
  }
#endif
  // Kernels without pidfd: ask waitpid in short intervals until the
  // deadline.
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info,
                 WEXITED | WNOHANG | WNOWAIT)
          == 0
        && info.si_pid == pid_)
      return true;
    if (clock_type::now() >= deadline)
      return false;
    ::poll(nullptr, 0, std::min(10, remaining_ms(deadline)));
  }
}

exit_status server_process::reap_blocking() {
  int st = 0;
  pid_t rc;
  do {
    rc = ::waitpid(pid_, &st, 0);
  } while (rc < 0 && errno == EINTR);
  exit_status result;
  if (rc == pid_) {
    if (WIFEXITED(st)) {
      result.exited = true;
      result.code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
      result.signaled = true;
      result.signal = WTERMSIG(st);
    }
  }
  status_ = result;
  return result;
}

exit_status server_process::wait_exit(std::chrono::milliseconds timeout) {
  if (status_)
    return *status_;
  auto deadline = clock_type::now() + timeout;
  exit_status result;
  if (wait_exit_event(deadline)) {
    result = reap_blocking();
  } else {
    ::kill(pid_, SIGKILL);
    result = reap_blocking();
    result.timed_out = true;
    status_ = result;
  }
  // The child is gone; its last words are still in the pipe. Wait (briefly,
  // a grandchild could hold the pipe open) until the reader has them all.
  {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_for(guard, std::chrono::seconds{2}, [this] { return eof_; });
  }
  check_sanitizer_report();
  if (result.timed_out) {
    // The last lines say where it hung; the whole log is the caller's.
    auto all = lines();
    std::string last;
    for (auto i = all.size() > 40 ? all.size() - 40 : 0; i < all.size(); ++i)
      last += all[i] + "\n";
    ADD_FAILURE() << executable_ << " (pid " << pid_ << ") did not exit within "
                  << timeout.count() << " ms; killed it. Its last lines:\n"
                  << last;
  }
  return result;
}

} // namespace parley::test
