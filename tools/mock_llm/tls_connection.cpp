#include "tools/mock_llm/tls_connection.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <utility>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tools/mock_llm/http_connection.hpp"

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = net::ssl;

namespace parley::mock_llm {

namespace {

constexpr std::chrono::seconds handshake_timeout{10};

/// One accepted TCP connection until its TLS handshake is done.
class tls_connection : public std::enable_shared_from_this<tls_connection> {
public:
  tls_connection(net::ip::tcp::socket&& socket, ssl::context& ctx,
                 mock_state& state)
    : stream_(std::move(socket), ctx), state_(state) {
    // nop
  }

  void run() {
    // A client that connects and says nothing must not hold the slot.
    beast::get_lowest_layer(stream_).expires_after(handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              self->on_handshake(ec);
                            });
  }

private:
  void on_handshake(beast::error_code ec) {
    state_.tls_handshake(!ec);
    if (ec) {
      // Typically the client refusing the certificate: OpenSSL reports the
      // alert it sent ("tlsv1 alert unknown ca", "... bad certificate").
      state_.log("tls handshake failed: " + ec.message());
      return;
    }
    // SNI as received: tests check that a client sends it for a host name
    // and not for an IP address.
    const char* sni = SSL_get_servername(stream_.native_handle(),
                                         TLSEXT_NAMETYPE_host_name);
    state_.log(std::string{"tls handshake done ("}
               + SSL_get_version(stream_.native_handle()) + ", sni "
               + (sni != nullptr ? sni : "none") + ")");
    beast::get_lowest_layer(stream_).expires_never();
    // The handshake's operation is complete: the stream may move on (it
    // holds the OpenSSL state by pointer, so nothing refers to it here).
    start_http_connection(std::move(stream_), state_);
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  mock_state& state_;
};

std::string ssl_errors() {
  std::string result;
  while (auto code = ::ERR_get_error()) {
    std::array<char, 256> buf{};
    ::ERR_error_string_n(code, buf.data(), buf.size());
    result += result.empty() ? "" : "; ";
    result += buf.data();
  }
  return result;
}

} // namespace

std::shared_ptr<ssl::context> load_tls_context(const options& opts,
                                               std::string& error) {
  // Checked first: for a missing file, OpenSSL 3 gives Asio no reason text.
  for (const auto* file : {&opts.tls_cert, &opts.tls_key}) {
    if (!std::ifstream{*file}) {
      error = "cannot read " + *file + ": " + std::strerror(errno);
      return nullptr;
    }
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                     | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                     | ssl::context::no_tlsv1_1,
                   ec);
  if (!ec)
    ctx->use_certificate_chain_file(opts.tls_cert, ec);
  if (ec) {
    error = "cannot load --tls-cert " + opts.tls_cert + ": " + ec.message();
    return nullptr;
  }
  ctx->use_private_key_file(opts.tls_key, ssl::context::pem, ec);
  if (ec) {
    error = "cannot load --tls-key " + opts.tls_key + ": " + ec.message();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    error = "--tls-key does not belong to --tls-cert: " + ssl_errors();
    return nullptr;
  }
  return ctx;
}

void start_tls_connection(net::ip::tcp::socket&& socket, ssl::context& ctx,
                          mock_state& state) {
  std::make_shared<tls_connection>(std::move(socket), ctx, state)->run();
}

} // namespace parley::mock_llm
