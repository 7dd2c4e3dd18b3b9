#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace parley::transport {

/// Counts open connections, in all and per client address, and decides
/// whether a new one may in. Connections over a limit are not simply cut:
/// a few at a time are told why (503, or a close frame with a reason), so
/// the count of those is bounded too. Thread-safe: connections are accepted
/// on one strand and end on any io thread. Pure (no sockets).
class connection_limiter {
public:
  enum class verdict {
    admitted,       // within the limits
    server_full,    // max_total open: refuse, with a reason
    address_full,   // max_per_address open from this address: refuse
    drop,           // over a limit, and already refusing max_refusing
  };

  /// `max_per_address` 0: no limit per address (behind a reverse proxy,
  /// every client has the proxy's address).
  connection_limiter(std::size_t max_total, std::size_t max_per_address,
                     std::size_t max_refusing);

  /// Counts a new connection from `address` as open (admitted) or as being
  /// refused (server_full, address_full); `drop` counts nothing. Each
  /// counted connection must be released once with the same verdict.
  verdict admit(const std::string& address);

  void release(const std::string& address, verdict counted);

  std::size_t open() const;

  std::size_t open_from(const std::string& address) const;

  std::size_t refusing() const;

private:
  std::size_t max_total_;
  std::size_t max_per_address_;
  std::size_t max_refusing_;
  mutable std::mutex mtx_;
  std::size_t open_ = 0;
  std::size_t refusing_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

/// One connection's place in a connection_limiter, handed along with the
/// socket (listener, TLS detection, HTTP, WebSocket) and given back when
/// the last holder is destroyed. Move-only.
class connection_slot {
public:
  connection_slot() = default;

  connection_slot(connection_limiter& limiter, std::string address,
                  connection_limiter::verdict counted)
    : limiter_(&limiter), address_(std::move(address)), counted_(counted) {
    // nop
  }

  connection_slot(connection_slot&& other) noexcept
    : limiter_(other.limiter_),
      address_(std::move(other.address_)),
      counted_(other.counted_) {
    other.limiter_ = nullptr;
  }

  connection_slot& operator=(connection_slot&& other) noexcept {
    if (this != &other) {
      give_back();
      limiter_ = other.limiter_;
      address_ = std::move(other.address_);
      counted_ = other.counted_;
      other.limiter_ = nullptr;
    }
    return *this;
  }

  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;

  ~connection_slot() {
    give_back();
  }

  /// The client's address, as a rate-limit key and for log lines.
  const std::string& address() const noexcept {
    return address_;
  }

  /// The limiter's verdict: anything but `admitted` means this connection
  /// is only told that the server is busy, then closed.
  connection_limiter::verdict verdict() const noexcept {
    return counted_;
  }

  bool refused() const noexcept {
    return counted_ != connection_limiter::verdict::admitted;
  }

private:
  void give_back() noexcept {
    if (limiter_ != nullptr)
      limiter_->release(address_, counted_);
    limiter_ = nullptr;
  }

  connection_limiter* limiter_ = nullptr;
  std::string address_;
  connection_limiter::verdict counted_ = connection_limiter::verdict::admitted;
};

/// What a refused client is told, for each verdict.
const char* refusal_reason(connection_limiter::verdict v) noexcept;

} // namespace parley::transport
