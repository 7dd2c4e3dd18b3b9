#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

/// What one process does in a deployment (docs/deployment.md).
enum class node_role {
  /// Everything in one process: HTTP, sessions, agent, LLM, storage.
  all,
  /// Browser connections and session actors; answers come from workers.
  gateway,
  /// The agent, tools, knowledge and LLM actors, published to gateways.
  worker,
};

const char* role_name(node_role role) noexcept;

/// `all`, `gateway` or `worker` (any case); throws config_error.
node_role parse_node_role(std::string_view text);

/// Where a worker's node port is.
struct node_address {
  std::string host;
  std::uint16_t port = 0;

  /// host:port, with an IPv6 host in brackets.
  std::string text() const;

  friend bool operator==(const node_address& x, const node_address& y) {
    return x.host == y.host && x.port == y.port;
  }
};

/// `host:port[,host:port…]`; `[v6]:port` for IPv6. Spaces around entries
/// are ignored; an empty list, an empty entry, a missing or zero port and a
/// repeated address are errors (config_error, without the option's name).
std::vector<node_address> parse_node_addresses(std::string_view text);

/// The shortest node secret accepted, as for the admin token.
inline constexpr std::size_t min_node_secret_length = 16;

/// How this process takes part in a cluster.
struct cluster_config {
  node_role role = node_role::all;
  /// A worker's node port: where gateways reach its services (CAF's
  /// middleman). Loopback unless the operator opens it on purpose.
  std::string node_host = "127.0.0.1"; // PARLEY_NODE_HOST, --node-host
  std::uint16_t node_port = 4300;      // PARLEY_NODE_PORT, --node-port
  /// A gateway's workers.
  std::vector<node_address> workers;   // PARLEY_WORKERS, --workers
  /// Shared by every node; a gateway proves it before a worker serves it.
  std::string node_secret;             // PARLEY_NODE_SECRET
  /// TLS between nodes (CAF's OpenSSL module), all three or none: this
  /// node's PEM certificate and key, and the CA that signed every node's
  /// certificate. Both ends verify the other's certificate against it.
  std::string node_tls_cert;           // PARLEY_NODE_TLS_CERT
  std::string node_tls_key;            // PARLEY_NODE_TLS_KEY
  std::string node_tls_ca;             // PARLEY_NODE_TLS_CA

  bool node_tls() const noexcept {
    return !node_tls_cert.empty();
  }
};

} // namespace parley
