#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "tools/mock_llm/mock_state.hpp"

namespace parley::mock_llm {

/// Serves one accepted TCP connection: HTTP/1.1 with keep-alive (GET /stats
/// in both modes, the OpenAI-compatible API in openai mode), handing
/// WebSocket upgrades over to ws_connection in websocket mode.
void start_http_connection(boost::asio::ip::tcp::socket&& socket,
                           mock_state& state);

} // namespace parley::mock_llm
