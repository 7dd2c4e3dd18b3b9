#pragma once

#include <nlohmann/json.hpp>

#include "actors/messages.hpp"

namespace parley::transport {

/// The nodes of a health report: this node first, then (on a gateway) its
/// workers with their state, load (requests in flight) and last error.
/// Worker addresses only `with_addresses` (the admin API; /health is
/// public).
nlohmann::json cluster_nodes_json(const health_report& report,
                                  bool with_addresses);

} // namespace parley::transport
