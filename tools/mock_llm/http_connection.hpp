#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "tools/mock_llm/mock_state.hpp"

namespace parley::mock_llm {

/// Serves one accepted connection: HTTP/1.1 with keep-alive (GET /stats in
/// both modes, the OpenAI-compatible API in openai mode), handing WebSocket
/// upgrades over to ws_connection in websocket mode. The same over plain
/// TCP and over TLS (after tls_connection's handshake).
void start_http_connection(boost::beast::tcp_stream&& stream,
                           mock_state& state);

void start_http_connection(
  boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream,
  mock_state& state);

} // namespace parley::mock_llm
