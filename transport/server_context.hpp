#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/send.hpp>

#include "actors/asker.hpp"
#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"
#include "actors/token_bucket.hpp"
#include "config/web_config.hpp"
#include "transport/admin_auth.hpp"
#include "transport/connection_limiter.hpp"
#include "transport/origin_policy.hpp"
#include "transport/static_site.hpp"

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace parley::transport {

/// Limits of the HTTP and WebSocket transport (server_config's
/// limit_config, plus a few that are not for operators to tune).
struct transport_limits {
  using ms = std::chrono::milliseconds;
  std::size_t max_message_bytes = 16 * 1024;  // chat text, in bytes
  std::size_t max_header_bytes = 8 * 1024;    // HTTP request header
  std::size_t max_body_bytes = 1024 * 1024;   // HTTP request bodies
  std::size_t max_queued_frames = 1024;       // per socket, unsent
  std::size_t max_queued_bytes = 4 * 1024 * 1024;
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_address = 100; // 0: none
  /// Connections over a limit that are being told so at once; more are
  /// closed without a word.
  std::size_t max_refusing = 64;
  double address_rate = 10;                   // messages/s per address; 0: none
  double address_burst = 60;
  ms request_timeout{30000};      // reading one request, writing its answer
  ms refusal_timeout{2000};       // the same for a refused connection
  ms handshake_timeout{10000};    // WebSocket opening and closing handshake
  ms tls_handshake_timeout{10000}; // detect + TLS
  ms idle_timeout{60000};         // WebSocket, with pings
  ms send_timeout{30000};         // one frame to a client that reads
  ms bind_timeout{10000};         // waiting for a session actor
  ms actor_timeout{5000};         // an HTTP request to an actor
};

/// Chat messages per client address, over REST and WebSocket together: a
/// token bucket per address, bounded in number. Thread-safe.
class address_rate_limit {
public:
  address_rate_limit(double per_second, double burst)
    : enabled_(per_second > 0), buckets_(per_second, burst, max_addresses) {
    // nop
  }

  /// Zero if a message from `address` may go ahead now (and counts it);
  /// otherwise how long until the next one may.
  std::chrono::milliseconds take(const std::string& address) {
    if (!enabled_)
      return std::chrono::milliseconds::zero();
    auto now = keyed_buckets::clock_type::now();
    std::lock_guard<std::mutex> guard{mtx_};
    if (buckets_.try_take(address, now))
      return std::chrono::milliseconds::zero();
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(
      buckets_.wait_time(address, now));
    return std::max(wait, std::chrono::milliseconds{1});
  }

private:
  static constexpr std::size_t max_addresses = 100000;

  bool enabled_;
  std::mutex mtx_;
  keyed_buckets buckets_;
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
  /// Open WebSockets, for shutdown to wait on.
  connection_count open_connections;
  /// Every accepted connection, in all and per address, for the limits.
  connection_limiter connections;
  address_rate_limit address_rate;
  std::atomic<std::uint64_t> next_connection_id{1};
  /// The server's certificate and key (--tls-cert, --tls-key); null: plain
  /// HTTP only, and connections skip the TLS detection step. Set before the
  /// listener runs, never changed afterwards.
  std::shared_ptr<boost::asio::ssl::context> tls;
  /// The built web UI (or static_site::unbuilt()), loaded once at start-up
  /// and only read afterwards; responses point into it, which is why it
  /// lives as long as the connections. Null: no static files at all.
  std::shared_ptr<const static_site> site;
  /// What GET /api/chat/config tells the browser UI (config/web.json).
  std::shared_ptr<const web_config> web;
  /// A worker node (--role worker): only /health is served here; chat, the
  /// API and the UI are on the gateways.
  bool worker_only = false;
  /// The actors that ask on the REST handlers' behalf (actors/asker.hpp),
  /// taken in turn by ask_with(). Set before the listener runs; they end
  /// with the supervisor.
  std::vector<caf::actor> askers;
  std::atomic<std::size_t> next_asker{0};

  server_context(caf::actor_system& sys,
                 std::shared_ptr<const service_directory> dir,
                 supervisor_actor sup, transport_limits lim,
                 access_rules rules)
    : system(sys),
      directory(std::move(dir)),
      supervisor(std::move(sup)),
      limits(lim),
      access(std::move(rules)),
      connections(lim.max_connections, lim.max_connections_per_address,
                  lim.max_refusing),
      address_rate(lim.address_rate, lim.address_burst) {
    // nop
  }
};

/// Runs `job` on the next of ctx.askers, which asks with
/// timed_request(self, ...); the job answers through its own callbacks.
/// run_server() fills ctx.askers before the listener takes connections.
inline void ask_with(server_context& ctx,
                     std::function<void(asker_pointer)> job) {
  auto i = ctx.next_asker.fetch_add(1, std::memory_order_relaxed)
           % ctx.askers.size();
  caf::anon_send(ctx.askers[i], asker_job{std::move(job)});
}

} // namespace parley::transport
