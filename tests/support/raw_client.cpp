#include "tests/support/raw_client.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::test {

namespace {

using clock_type = std::chrono::steady_clock;

int ms_left(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - clock_type::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

sockaddr_in ipv4(const std::string& host, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw std::runtime_error("raw_socket: not an IPv4 address: " + host);
  return addr;
}

std::string errno_text(const char* step) {
  return std::string{"raw_socket: "} + step + " failed: "
         + std::strerror(errno);
}

std::string lower(std::string text) {
  for (auto& ch : text)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

std::string trim(const std::string& text) {
  auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return {};
  auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

} // namespace

const char* to_string(raw_status status) noexcept {
  switch (status) {
    case raw_status::data:
      return "data";
    case raw_status::timeout:
      return "timeout";
    case raw_status::eof:
      return "eof";
    case raw_status::error:
      return "error";
  }
  return "?";
}

// -- raw_socket ---------------------------------------------------------------

raw_socket::raw_socket(const std::string& host, std::uint16_t port,
                       const raw_options& options,
                       std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  auto target = ipv4(host, port);
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error(errno_text("socket"));
  auto fail = [this](const char* step) {
    auto text = errno_text(step);
    close();
    throw std::runtime_error(text);
  };
  if (options.receive_buffer > 0) {
    int size = options.receive_buffer;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0)
      fail("setsockopt(SO_RCVBUF)");
  }
  if (!options.source_address.empty()) {
    // The port is chosen at connect time, for the whole 4-tuple: thousands
    // of connections from one address do not run out of ports.
    int one = 1;
    ::setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    auto local = ipv4(options.source_address, 0);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
      fail("bind");
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&target), sizeof target)
      != 0) {
    if (errno != EINPROGRESS)
      fail("connect");
    pollfd p{fd_, POLLOUT, 0};
    auto ready = ::poll(&p, 1, ms_left(deadline));
    if (ready == 0) {
      close();
      throw std::runtime_error("raw_socket: connect timed out");
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (ready < 0 || err != 0) {
      errno = err != 0 ? err : errno;
      fail("connect");
    }
  }
}

raw_socket::~raw_socket() {
  close();
}

raw_socket::raw_socket(raw_socket&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

raw_socket& raw_socket::operator=(raw_socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

bool raw_socket::send_all(std::string_view bytes,
                          std::chrono::milliseconds timeout) {
  if (fd_ < 0)
    return false;
  auto deadline = clock_type::now() + timeout;
  while (!bytes.empty()) {
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      auto left = ms_left(deadline);
      if (left == 0 || ::poll(&p, 1, left) <= 0)
        return false;
      if ((p.revents & (POLLERR | POLLHUP)) != 0 && (p.revents & POLLOUT) == 0)
        return false;
      continue;
    }
    return false;
  }
  return true;
}

raw_status raw_socket::receive(std::string& into,
                               std::chrono::milliseconds timeout) {
  if (fd_ < 0)
    return raw_status::error;
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    char buf[16384];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      return raw_status::data;
    }
    if (n == 0)
      return raw_status::eof;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return raw_status::error;
    pollfd p{fd_, POLLIN, 0};
    auto left = ms_left(deadline);
    if (left == 0)
      return raw_status::timeout;
    auto ready = ::poll(&p, 1, left);
    if (ready == 0)
      return raw_status::timeout;
    if (ready < 0 && errno != EINTR)
      return raw_status::error;
  }
}

raw_status raw_socket::wait_closed(std::chrono::milliseconds timeout,
                                   std::string* received) {
  auto deadline = clock_type::now() + timeout;
  std::string sink;
  for (;;) {
    auto& into = received != nullptr ? *received : sink;
    auto status = receive(into, std::chrono::milliseconds{ms_left(deadline)});
    sink.clear();
    if (status != raw_status::data)
      return status;
  }
}

void raw_socket::close() noexcept {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

void raw_socket::abort() noexcept {
  if (fd_ < 0)
    return;
  linger lin{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
  close();
}

std::size_t raise_open_file_limit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0)
    return 0;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    ::getrlimit(RLIMIT_NOFILE, &files);
  }
  return static_cast<std::size_t>(files.rlim_cur);
}

// -- HTTP ---------------------------------------------------------------------

std::string http_request_text(const std::string& method,
                              const std::string& target,
                              const std::string& host_header,
                              const std::string& body,
                              const http_headers& headers) {
  std::string text = method + " " + target + " HTTP/1.1\r\nHost: "
                     + host_header + "\r\nUser-Agent: parley-raw-test\r\n";
  if (!body.empty() || method == "POST")
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : headers)
    text += name + ": " + value + "\r\n";
  text += "\r\n";
  text += body;
  return text;
}

std::optional<http_response> parse_http_response(const std::string& buffer) {
  auto header_end = buffer.find("\r\n\r\n");
  if (header_end == std::string::npos)
    return std::nullopt;
  std::istringstream head{buffer.substr(0, header_end)};
  std::string status_line;
  std::getline(head, status_line);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
    throw std::runtime_error("not an HTTP response: "
                             + buffer.substr(0, std::min<std::size_t>(
                                                  200, buffer.size())));
  http_response res;
  res.status = static_cast<unsigned>(std::stoul(status_line.substr(9, 3)));
  std::size_t length = 0;
  std::string line;
  while (std::getline(head, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (lower(name) == "content-length")
      length = std::stoul(value);
    res.headers.emplace_back(std::move(name), std::move(value));
  }
  auto body_start = header_end + 4;
  if (buffer.size() < body_start + length)
    return std::nullopt;
  res.body = buffer.substr(body_start, length);
  return res;
}

std::optional<http_response> read_http_response(
  raw_socket& socket, std::chrono::milliseconds timeout, raw_status* how,
  std::string* received) {
  auto deadline = clock_type::now() + timeout;
  std::string local;
  auto& buffer = received != nullptr ? *received : local;
  for (;;) {
    if (auto res = parse_http_response(buffer))
      return res;
    auto status = socket.receive(buffer,
                                 std::chrono::milliseconds{ms_left(deadline)});
    if (status != raw_status::data) {
      if (how != nullptr)
        *how = status;
      return std::nullopt;
    }
  }
}

http_response raw_http_request(const std::string& host, std::uint16_t port,
                               const raw_options& options,
                               const std::string& method,
                               const std::string& target,
                               const std::string& body,
                               const http_headers& headers,
                               std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  raw_socket sock{host, port, options, timeout};
  auto text = http_request_text(method, target,
                                host + ":" + std::to_string(port), body,
                                headers);
  // A server may answer (413, 503) and close before it read everything.
  sock.send_all(text, std::chrono::milliseconds{ms_left(deadline)});
  raw_status how = raw_status::timeout;
  std::string received;
  auto res = read_http_response(sock, std::chrono::milliseconds{ms_left(deadline)},
                                &how, &received);
  if (!res)
    throw std::runtime_error(method + " " + target + " from "
                             + (options.source_address.empty()
                                  ? std::string{"default address"}
                                  : options.source_address)
                             + ": no complete response (" + to_string(how)
                             + ", " + std::to_string(received.size())
                             + " bytes received)");
  return *res;
}

// -- WebSocket ----------------------------------------------------------------

std::uint16_t raw_frame::close_code() const {
  if (opcode != ws_opcode::close || payload.size() < 2)
    return 0;
  return static_cast<std::uint16_t>(
    (static_cast<unsigned char>(payload[0]) << 8)
    | static_cast<unsigned char>(payload[1]));
}

std::string raw_frame::close_reason() const {
  if (opcode != ws_opcode::close || payload.size() < 2)
    return {};
  return payload.substr(2);
}

std::string ws_client_frame(std::uint8_t opcode, std::string_view payload,
                            bool fin) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::string frame;
  frame.reserve(payload.size() + 14);
  frame += static_cast<char>((fin ? 0x80 : 0x00) | (opcode & 0x0F));
  auto size = payload.size();
  if (size < 126) {
    frame += static_cast<char>(0x80 | size);
  } else if (size <= 0xFFFF) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>((size >> 8) & 0xFF);
    frame += static_cast<char>(size & 0xFF);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      frame += static_cast<char>((static_cast<std::uint64_t>(size) >> shift)
                                 & 0xFF);
  }
  char mask[4];
  auto key = rng();
  std::memcpy(mask, &key, 4);
  frame.append(mask, 4);
  auto start = frame.size();
  frame.append(payload.data(), payload.size());
  for (std::size_t i = 0; i < size; ++i)
    frame[start + i] = static_cast<char>(frame[start + i] ^ mask[i % 4]);
  return frame;
}

std::string raw_ws::event::describe() const {
  switch (kind) {
    case frame:
      if (data.opcode == ws_opcode::close)
        return "close frame " + std::to_string(data.close_code()) + " \""
               + data.close_reason() + "\"";
      return "frame opcode " + std::to_string(data.opcode) + ": "
             + data.payload.substr(0, 300);
    case timeout:
      return "timeout";
    case ended:
      return std::string{"connection ended without a close frame ("}
             + to_string(how) + ")";
  }
  return "?";
}

raw_ws::raw_ws(const std::string& host, std::uint16_t port,
               const std::string& target, const raw_options& options,
               std::chrono::milliseconds timeout)
  : socket_(host, port, options, timeout) {
  auto deadline = clock_type::now() + timeout;
  auto request = http_request_text(
    "GET", target, host + ":" + std::to_string(port), {},
    {{"Upgrade", "websocket"},
     {"Connection", "Upgrade"},
     {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
     {"Sec-WebSocket-Version", "13"}});
  if (!socket_.send_all(request, timeout))
    throw std::runtime_error("raw_ws: cannot send the upgrade request");
  for (;;) {
    auto end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      if (buffer_.rfind("HTTP/1.1 101", 0) != 0)
        throw std::runtime_error("raw_ws: upgrade refused: "
                                 + buffer_.substr(0, 400));
      buffer_.erase(0, end + 4);
      return;
    }
    auto status = socket_.receive(buffer_,
                                  std::chrono::milliseconds{ms_left(deadline)});
    if (status != raw_status::data)
      throw std::runtime_error(std::string{"raw_ws: no upgrade response ("}
                               + to_string(status) + "): "
                               + buffer_.substr(0, 400));
  }
}

bool raw_ws::send_frame(std::uint8_t opcode, std::string_view payload,
                        std::chrono::milliseconds timeout) {
  return socket_.send_all(ws_client_frame(opcode, payload), timeout);
}

std::optional<raw_frame> raw_ws::take_frame() {
  if (buffer_.size() < 2)
    return std::nullopt;
  auto b0 = static_cast<unsigned char>(buffer_[0]);
  auto b1 = static_cast<unsigned char>(buffer_[1]);
  std::size_t header = 2;
  std::uint64_t size = b1 & 0x7F;
  if (size == 126) {
    if (buffer_.size() < 4)
      return std::nullopt;
    size = (static_cast<std::uint64_t>(static_cast<unsigned char>(buffer_[2])) << 8)
           | static_cast<unsigned char>(buffer_[3]);
    header = 4;
  } else if (size == 127) {
    if (buffer_.size() < 10)
      return std::nullopt;
    size = 0;
    for (int i = 2; i < 10; ++i)
      size = (size << 8) | static_cast<unsigned char>(buffer_[i]);
    header = 10;
  }
  if ((b1 & 0x80) != 0)
    header += 4; // servers do not mask, but be lenient
  if (buffer_.size() < header + size)
    return std::nullopt;
  raw_frame frame;
  frame.fin = (b0 & 0x80) != 0;
  frame.opcode = b0 & 0x0F;
  frame.payload = buffer_.substr(header, static_cast<std::size_t>(size));
  buffer_.erase(0, header + static_cast<std::size_t>(size));
  return frame;
}

raw_ws::event raw_ws::next(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (auto frame = take_frame()) {
      if (answer_pings && frame->opcode == ws_opcode::ping)
        send_frame(ws_opcode::pong, frame->payload);
      event result;
      result.kind = event::frame;
      result.data = std::move(*frame);
      return result;
    }
    auto status = socket_.receive(buffer_,
                                  std::chrono::milliseconds{ms_left(deadline)});
    if (status == raw_status::data)
      continue;
    event result;
    result.kind = status == raw_status::timeout ? event::timeout : event::ended;
    result.how = status;
    return result;
  }
}

nlohmann::json raw_ws::read_json(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto ev = next(std::chrono::milliseconds{ms_left(deadline)});
    if (ev.kind != event::frame || ev.data.opcode == ws_opcode::close)
      throw std::runtime_error("raw_ws::read_json: " + ev.describe());
    if (ev.data.opcode == ws_opcode::ping || ev.data.opcode == ws_opcode::pong)
      continue;
    auto json = nlohmann::json::parse(ev.data.payload, nullptr, false);
    if (json.is_discarded())
      throw std::runtime_error("raw_ws::read_json: not JSON: "
                               + ev.data.payload.substr(0, 300));
    return json;
  }
}

std::vector<nlohmann::json>
raw_ws::read_until_type(std::string_view type,
                        std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  std::vector<nlohmann::json> frames;
  for (;;) {
    try {
      frames.push_back(read_json(std::chrono::milliseconds{ms_left(deadline)}));
    } catch (const std::runtime_error& e) {
      std::string seen;
      for (const auto& f : frames)
        seen += "\n  " + f.dump().substr(0, 300);
      throw std::runtime_error("raw_ws::read_until_type(\"" + std::string{type}
                               + "\"): " + e.what() + "; frames before:"
                               + (seen.empty() ? " none" : seen));
    }
    const auto& last = frames.back();
    if (last.is_object() && last.contains("type") && last["type"] == type)
      return frames;
  }
}

raw_ws::event raw_ws::until_close(std::chrono::milliseconds timeout,
                                  std::vector<nlohmann::json>* frames) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto ev = next(std::chrono::milliseconds{ms_left(deadline)});
    if (ev.kind != event::frame || ev.data.opcode == ws_opcode::close)
      return ev;
    if (frames != nullptr && ev.data.opcode == ws_opcode::text) {
      auto json = nlohmann::json::parse(ev.data.payload, nullptr, false);
      frames->push_back(json.is_discarded() ? nlohmann::json(ev.data.payload)
                                            : std::move(json));
    }
  }
}

std::size_t resident_bytes(int pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024; // "VmRSS:   1234 kB"
  return 0;
}

} // namespace parley::test
