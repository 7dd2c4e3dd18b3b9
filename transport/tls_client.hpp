#pragma once

#include <memory>
#include <string>

#include <boost/system/error_code.hpp>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

struct ssl_st;

// TLS for Parley's outgoing connections (the LLM clients): shared so that
// every client verifies servers the same way.
namespace parley::llm {

/// A client context that verifies servers against the system CA store (or
/// the file OpenSSL's SSL_CERT_FILE names). A missing store shows up as a
/// failed verification at connect time, reported like any other failure.
std::shared_ptr<boost::asio::ssl::context> make_verifying_tls_context();

/// Prepares one connection to `host` before its handshake: a host name gets
/// SNI and a certificate name check; an IP address is checked against the
/// certificate's addresses and gets no SNI (RFC 6066 forbids it).
boost::system::error_code prepare_tls(ssl_st* handle, const std::string& host);

/// The text of a failed handshake on `handle`: `ec`'s message and, when the
/// server's certificate was refused, why ("certificate verify failed
/// (hostname mismatch)"), which the error code alone does not say.
std::string describe_tls_error(ssl_st* handle,
                               const boost::system::error_code& ec);

} // namespace parley::llm
