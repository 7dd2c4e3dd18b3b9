#include "transport/tls_client.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace parley::llm {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

std::shared_ptr<ssl::context> make_verifying_tls_context() {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ignored;
  ctx->set_default_verify_paths(ignored);
  ctx->set_verify_mode(ssl::verify_peer, ignored);
  return ctx;
}

error_code prepare_tls(ssl_st* handle, const std::string& host) {
  auto ssl_error = [] {
    return error_code{static_cast<int>(::ERR_get_error()),
                      boost::asio::error::get_ssl_category()};
  };
  error_code not_ip;
  boost::asio::ip::make_address(host, not_ip);
  if (not_ip) {
    if (SSL_set_tlsext_host_name(handle, host.c_str()) != 1)
      return ssl_error();
    if (SSL_set1_host(handle, host.c_str()) != 1)
      return ssl_error();
  } else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle),
                                           host.c_str())
             != 1) {
    return ssl_error();
  }
  SSL_set_verify(handle, SSL_VERIFY_PEER, SSL_get_verify_callback(handle));
  return {};
}

std::string describe_tls_error(ssl_st* handle, const error_code& ec) {
  auto text = ec.message();
  // X509_V_OK unless the handshake got as far as refusing the certificate.
  auto result = SSL_get_verify_result(handle);
  if (result != X509_V_OK)
    text += std::string{" ("} + X509_verify_cert_error_string(result) + ")";
  return text;
}

} // namespace parley::llm
