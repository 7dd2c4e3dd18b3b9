#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "tools/mock_llm/mock_state.hpp"

namespace parley::mock_llm {

/// Accepts the WebSocket upgrade `req` read from `stream` and serves the
/// custom LLM protocol on it until the peer leaves, over plain TCP or TLS.
/// The websocket stream stays in ws_connection.cpp: Beast's templates are
/// slow to compile.
void start_ws_connection(
  boost::beast::tcp_stream&& stream, mock_state& state, connection_slot slot,
  boost::beast::http::request<boost::beast::http::string_body>&& req);

void start_ws_connection(
  boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream,
  mock_state& state, connection_slot slot,
  boost::beast::http::request<boost::beast::http::string_body>&& req);

} // namespace parley::mock_llm
