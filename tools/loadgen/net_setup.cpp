#include "tools/loadgen/net_setup.hpp"

#include <stdexcept>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace parley::loadgen {

net_setup::net_setup(const options& opts)
  : source_count_(opts.source_addresses == 0 ? 1 : opts.source_addresses) {
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  boost::system::error_code ec;
  auto results = resolver.resolve(opts.host, std::to_string(opts.port), ec);
  if (ec || results.empty())
    throw std::runtime_error("cannot resolve " + opts.host + ": "
                             + (ec ? ec.message() : "no address"));
  server_ = results.begin()->endpoint();
  auto host = opts.host.find(':') == std::string::npos ? opts.host
                                                       : "[" + opts.host + "]";
  host_header_ = host + ":" + std::to_string(opts.port);
  auto address = server_.address();
  bind_sources_ = address.is_v4() && address.to_v4().to_bytes()[0] == 127;
}

boost::system::error_code net_setup::open(client_socket& socket,
                                          std::uint64_t index) const {
  boost::system::error_code ec;
  socket.open(server_.protocol(), ec);
  if (ec || !bind_sources_)
    return ec;
#ifdef IP_BIND_ADDRESS_NO_PORT
  // The port is picked at connect time, for the whole 4-tuple: without
  // this, bind() would reserve one of the address's ports for good.
  int on = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
               &on, sizeof on);
#endif
  net::ip::address_v4 source{source_address_v4(index, source_count_)};
  socket.bind(tcp::endpoint{source, 0}, ec);
  return ec;
}

std::uint64_t net_setup::raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    auto wanted = limit;
    wanted.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &wanted) == 0)
      limit = wanted;
  }
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

} // namespace parley::loadgen
