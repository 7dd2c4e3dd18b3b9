#include "tests/tools/raw_http.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::test {

namespace {

using clock_type = std::chrono::steady_clock;

bool same_name(std::string_view x, std::string_view y) {
  return x.size() == y.size()
         && std::equal(x.begin(), x.end(), y.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a))
                     == std::tolower(static_cast<unsigned char>(b));
            });
}

} // namespace

raw_http::raw_http(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0)
    throw std::runtime_error("raw_http: cannot resolve " + host);
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                   ai->ai_protocol);
    if (fd_ < 0)
      continue;
    if (::connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    ::close(fd_);
    fd_ = -1;
  }
  ::freeaddrinfo(found);
  if (fd_ < 0)
    throw std::runtime_error("raw_http: cannot connect to " + host + ":"
                             + service + ": " + std::strerror(errno));
}

raw_http::~raw_http() {
  close();
}

void raw_http::close() noexcept {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

void raw_http::send(
  const std::string& method, const std::string& target,
  const std::string& body,
  const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\n"
                    + "Host: parley-test\r\nUser-Agent: parley-raw-http\r\n";
  if (!body.empty())
    req += "Content-Type: application/json\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : headers)
    req += name + ": " + value + "\r\n";
  req += "\r\n" + body;
  std::size_t done = 0;
  while (done < req.size()) {
    auto n = ::send(fd_, req.data() + done, req.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw std::runtime_error(std::string{"raw_http: send failed: "}
                               + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

raw_http::fill_result raw_http::fill(clock_type::time_point deadline) {
  if (fd_ < 0)
    return fill_result::eof;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock_type::now());
    if (left.count() <= 0)
      return fill_result::timeout;
    pollfd pfd{fd_, POLLIN, 0};
    auto ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0)
      return fill_result::timeout;
    char buf[16384];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fill_result::eof;
    in_.append(buf, static_cast<std::size_t>(n));
    return fill_result::data;
  }
}

std::string raw_http::head::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (same_name(key, name))
      return value;
  return {};
}

raw_http::head raw_http::read_head(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  std::size_t end;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
    auto r = fill(deadline);
    if (r == fill_result::timeout)
      throw std::runtime_error("raw_http: no response head in time");
    if (r == fill_result::eof)
      throw std::runtime_error("raw_http: connection ended before a "
                               "response head");
  }
  auto text = in_.substr(0, end);
  in_.erase(0, end + 4);
  body_.clear();
  body_done_ = false;
  head h;
  auto line_end = text.find("\r\n");
  auto status_line = text.substr(0, line_end);
  auto space = status_line.find(' ');
  if (space == std::string::npos)
    throw std::runtime_error("raw_http: bad status line: " + status_line);
  h.status = static_cast<unsigned>(std::stoul(status_line.substr(space + 1)));
  while (line_end != std::string::npos) {
    auto start = line_end + 2;
    line_end = text.find("\r\n", start);
    auto line = text.substr(start, line_end == std::string::npos
                                     ? std::string::npos
                                     : line_end - start);
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    h.headers.emplace_back(line.substr(0, colon), value);
  }
  return h;
}

bool raw_http::decode_chunks() {
  while (!body_done_) {
    auto line_end = in_.find("\r\n");
    if (line_end == std::string::npos)
      return false;
    auto size = std::stoul(in_.substr(0, line_end), nullptr, 16);
    if (size == 0) {
      // No trailers expected: "0\r\n\r\n".
      if (in_.size() < line_end + 4)
        return false;
      in_.erase(0, line_end + 4);
      body_done_ = true;
      break;
    }
    if (in_.size() < line_end + 2 + size + 2)
      return false;
    body_.append(in_, line_end + 2, size);
    in_.erase(0, line_end + 2 + size + 2);
  }
  return true;
}

std::string raw_http::read_body(const head& h,
                                std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  auto length = h.header("Content-Length");
  auto chunked = same_name(h.header("Transfer-Encoding"), "chunked");
  for (;;) {
    if (chunked && decode_chunks()) {
      auto body = std::move(body_);
      body_.clear();
      return body;
    }
    if (!chunked && !length.empty()) {
      auto size = std::stoul(length);
      if (in_.size() >= size) {
        auto body = in_.substr(0, size);
        in_.erase(0, size);
        return body;
      }
    }
    auto r = fill(deadline);
    if (r == fill_result::timeout)
      throw std::runtime_error("raw_http: body incomplete in time");
    if (r == fill_result::eof) {
      if (!chunked && length.empty()) {
        auto body = std::move(in_);
        in_.clear();
        return body;
      }
      throw std::runtime_error("raw_http: connection ended inside the body");
    }
  }
}

raw_http::sse_result raw_http::next_event(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    decode_chunks();
    auto end = body_.find("\n\n");
    if (end != std::string::npos) {
      auto event = body_.substr(0, end);
      body_.erase(0, end + 2);
      sse_result result;
      result.status = sse_status::event;
      // Only `data:` lines matter here; several are joined by newlines.
      std::size_t pos = 0;
      while (pos <= event.size()) {
        auto nl = event.find('\n', pos);
        auto line = event.substr(pos, nl == std::string::npos ? std::string::npos
                                                              : nl - pos);
        if (line.rfind("data:", 0) == 0) {
          auto data = line.substr(5);
          if (!data.empty() && data.front() == ' ')
            data.erase(0, 1);
          if (!result.data.empty())
            result.data += '\n';
          result.data += data;
        }
        if (nl == std::string::npos)
          break;
        pos = nl + 1;
      }
      return result;
    }
    if (body_done_)
      return {sse_status::end, {}};
    auto r = fill(deadline);
    if (r == fill_result::timeout)
      return {sse_status::timeout, {}};
    if (r == fill_result::eof)
      return {sse_status::closed, {}};
  }
}

bool raw_http::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto r = fill(deadline);
    if (r == fill_result::eof)
      return true;
    if (r == fill_result::timeout)
      return false;
    in_.clear();
  }
}

} // namespace parley::test
