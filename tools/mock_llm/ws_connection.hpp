#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tools/mock_llm/mock_state.hpp"

namespace parley::mock_llm {

/// Accepts the WebSocket upgrade `req` read from `socket` and serves the
/// custom LLM protocol on it until the peer leaves. The websocket stream
/// stays in ws_connection.cpp: Beast's templates are slow to compile.
void start_ws_connection(
  boost::asio::ip::tcp::socket&& socket, mock_state& state,
  connection_slot slot,
  boost::beast::http::request<boost::beast::http::string_body>&& req);

} // namespace parley::mock_llm
