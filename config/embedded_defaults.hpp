#pragma once

#include <string_view>

namespace parley {

/// config/agent.json as it was when Parley was built: the rules used when
/// AGENT_RULES is not set, so the binary runs without files beside it.
std::string_view embedded_agent_rules() noexcept;

/// config/demo_orders.json as it was when Parley was built.
std::string_view embedded_demo_orders() noexcept;

/// config/web.json as it was when Parley was built: what GET
/// /api/chat/config serves when PARLEY_WEB_CONFIG is not set.
std::string_view embedded_web_config() noexcept;

} // namespace parley
