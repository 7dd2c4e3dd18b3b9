#include "transport/connection_limiter.hpp"

namespace parley::transport {

connection_limiter::connection_limiter(std::size_t max_total,
                                       std::size_t max_per_address,
                                       std::size_t max_refusing)
  : max_total_(max_total),
    max_per_address_(max_per_address),
    max_refusing_(max_refusing) {
  // nop
}

connection_limiter::verdict
connection_limiter::admit(const std::string& address) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto result = verdict::admitted;
  if (open_ >= max_total_) {
    result = verdict::server_full;
  } else if (max_per_address_ > 0) {
    auto it = per_address_.find(address);
    if (it != per_address_.end() && it->second >= max_per_address_)
      result = verdict::address_full;
  }
  switch (result) {
    case verdict::admitted:
      ++open_;
      if (max_per_address_ > 0)
        ++per_address_[address];
      return result;
    case verdict::server_full:
    case verdict::address_full:
      if (refusing_ >= max_refusing_)
        return verdict::drop;
      ++refusing_;
      return result;
    case verdict::drop:
      break;
  }
  return verdict::drop;
}

void connection_limiter::release(const std::string& address,
                                 verdict counted) {
  std::lock_guard<std::mutex> guard{mtx_};
  switch (counted) {
    case verdict::admitted:
      --open_;
      if (max_per_address_ > 0) {
        // Addresses without connections are forgotten: the map holds at
        // most max_total entries.
        auto it = per_address_.find(address);
        if (it != per_address_.end() && --it->second == 0)
          per_address_.erase(it);
      }
      break;
    case verdict::server_full:
    case verdict::address_full:
      --refusing_;
      break;
    case verdict::drop:
      break;
  }
}

std::size_t connection_limiter::open() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return open_;
}

std::size_t connection_limiter::open_from(const std::string& address) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

std::size_t connection_limiter::refusing() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return refusing_;
}

const char* refusal_reason(connection_limiter::verdict v) noexcept {
  switch (v) {
    case connection_limiter::verdict::address_full:
      return "too many connections from your address; close some and try "
             "again";
    case connection_limiter::verdict::server_full:
    case connection_limiter::verdict::drop:
      return "the server is busy; try again shortly";
    case connection_limiter::verdict::admitted:
      break;
  }
  return "";
}

} // namespace parley::transport
