#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"
#include "transport/admin_auth.hpp"
#include "transport/origin_policy.hpp"

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace parley::transport {

/// Limits of the HTTP and WebSocket transport.
struct transport_limits {
  std::size_t max_message_bytes = 16 * 1024;  // chat text, in bytes
  std::size_t max_body_bytes = 1024 * 1024;   // HTTP request bodies
  std::size_t max_queued_frames = 1024;       // per socket, unsent
  std::chrono::seconds http_timeout{30};      // reading one request
  std::chrono::seconds handshake_timeout{10}; // WebSocket upgrade
  std::chrono::milliseconds tls_handshake_timeout{10000}; // detect + TLS
  std::chrono::seconds idle_timeout{60};      // WebSocket, with pings
  std::chrono::seconds bind_timeout{10};      // waiting for a session actor
  std::chrono::seconds actor_timeout{5};      // an HTTP request to an actor
};

/// Counts open WebSockets so that shutdown can wait for their close
/// handshakes without polling.
class connection_count {
public:
  void opened() {
    std::lock_guard<std::mutex> guard{mtx_};
    ++count_;
  }

  void closed() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (--count_ == 0)
      zero_.notify_all();
  }

  std::size_t current() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return count_;
  }

  /// Waits until no connection is open or `limit` has passed.
  bool wait_for_none(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> guard{mtx_};
    return zero_.wait_for(guard, limit, [this] { return count_ == 0; });
  }

private:
  mutable std::mutex mtx_;
  std::condition_variable zero_;
  std::size_t count_ = 0;
};

/// Who may do what: the admin token for the admin API, and the web pages
/// (origins) that may use the chat socket and the API from a browser.
struct access_rules {
  admin_credential admin;
  origin_policy origins;
};

/// What every connection needs from the rest of the server. Outlives all
/// connections.
struct server_context {
  caf::actor_system& system;
  std::shared_ptr<const service_directory> directory;
  supervisor_actor supervisor;
  transport_limits limits;
  const access_rules access;
  connection_count open_connections;
  std::atomic<std::uint64_t> next_connection_id{1};
  /// The server's certificate and key (--tls-cert, --tls-key); null: plain
  /// HTTP only, and connections skip the TLS detection step. Set before the
  /// listener runs, never changed afterwards.
  std::shared_ptr<boost::asio::ssl::context> tls;

  server_context(caf::actor_system& sys,
                 std::shared_ptr<const service_directory> dir,
                 supervisor_actor sup, transport_limits lim,
                 access_rules rules)
    : system(sys),
      directory(std::move(dir)),
      supervisor(std::move(sup)),
      limits(lim),
      access(std::move(rules)) {
    // nop
  }
};

} // namespace parley::transport
