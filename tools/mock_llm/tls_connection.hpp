#pragma once

#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "tools/mock_llm/mock_state.hpp"

namespace parley::mock_llm {

/// The server context for --tls-cert and --tls-key, or null with the reason
/// in `error` when they cannot be loaded (or do not belong together).
std::shared_ptr<boost::asio::ssl::context>
load_tls_context(const options& opts, std::string& error);

/// Runs the server side of the TLS handshake on an accepted socket (bounded
/// by a timeout), then hands the stream over to http_connection; a failed
/// handshake is logged and counted in /stats, and the connection ends.
void start_tls_connection(boost::asio::ip::tcp::socket&& socket,
                          boost::asio::ssl::context& ctx, mock_state& state);

} // namespace parley::mock_llm
