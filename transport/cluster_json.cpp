#include "transport/cluster_json.hpp"

namespace parley::transport {

nlohmann::json cluster_nodes_json(const health_report& report,
                                  bool with_addresses) {
  auto nodes = nlohmann::json::array();
  nodes.push_back({{"name", "self"},
                   {"role", report.role},
                   {"state", report.database_ok ? "up" : "degraded"},
                   {"load", report.live_sessions},
                   {"last_error", report.database_ok ? ""
                                                     : report.database_error}});
  for (const auto& node : report.nodes) {
    nlohmann::json entry{{"name", node.name},
                         {"role", node.role},
                         {"state", node.state},
                         {"load", node.outstanding},
                         {"answered", node.answered},
                         {"failed", node.failed},
                         {"connections", node.connections},
                         {"llm", node.llm_state},
                         {"database", node.database_ok},
                         {"last_error", node.last_error}};
    if (with_addresses)
      entry["address"] = node.address;
    nodes.push_back(std::move(entry));
  }
  return nodes;
}

} // namespace parley::transport
