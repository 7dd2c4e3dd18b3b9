#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "tools/loadgen/options.hpp"

namespace parley::loadgen {

/// The connections' socket: bound to its io_context's executor type rather
/// than the type-erased any_io_executor, whose copies showed in profiles.
using client_socket =
  boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                   boost::asio::io_context::executor_type>;

/// Where the connections go and where they come from, resolved once.
class net_setup {
public:
  /// Resolves opts.host; throws std::runtime_error when it cannot.
  explicit net_setup(const options& opts);

  const boost::asio::ip::tcp::endpoint& server() const noexcept {
    return server_;
  }

  /// HOST:PORT, for the Host header.
  const std::string& host_header() const noexcept {
    return host_header_;
  }

  /// Whether connections bind to loopback source addresses: only when the
  /// server itself is on 127.0.0.0/8 (other addresses cannot reach it).
  bool binds_sources() const noexcept {
    return bind_sources_;
  }

  /// Opens `socket` for the server and, with binds_sources(), binds it to
  /// connection `index`'s source address before it connects.
  boost::system::error_code open(client_socket& socket,
                                 std::uint64_t index) const;

  /// Raises the soft limit of open files to the hard one: tens of
  /// thousands of connections need it. Returns the limit now in force.
  static std::uint64_t raise_fd_limit();

private:
  boost::asio::ip::tcp::endpoint server_;
  std::string host_header_;
  bool bind_sources_ = false;
  std::uint32_t source_count_ = 1;
};

} // namespace parley::loadgen
