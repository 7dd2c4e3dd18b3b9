#include "config/cluster_config.hpp"

#include <algorithm>

#include "config/config_error.hpp"
#include "config/option_values.hpp"

namespace parley {

namespace {

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

node_address parse_one(std::string_view entry) {
  std::string_view host;
  std::string_view port;
  if (!entry.empty() && entry.front() == '[') {
    auto close = entry.find(']');
    if (close == std::string_view::npos || close + 1 >= entry.size()
        || entry[close + 1] != ':')
      throw config_error(detail::shown(entry)
                         + " is not [IPv6 address]:port");
    host = entry.substr(1, close - 1);
    port = entry.substr(close + 2);
  } else {
    auto colon = entry.rfind(':');
    if (colon == std::string_view::npos)
      throw config_error(detail::shown(entry) + " has no port (host:port)");
    host = entry.substr(0, colon);
    port = entry.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      throw config_error(detail::shown(entry)
                         + ": write an IPv6 address in brackets, [::1]:4300");
  }
  if (host.empty())
    throw config_error(detail::shown(entry) + " has no host");
  auto number = detail::parse_whole(port);
  if (!number || *number == 0 || *number > 65535)
    throw config_error(detail::shown(entry)
                       + " has no valid port (1..65535)");
  return node_address{std::string{host}, static_cast<std::uint16_t>(*number)};
}

} // namespace

const char* role_name(node_role role) noexcept {
  switch (role) {
    case node_role::gateway:
      return "gateway";
    case node_role::worker:
      return "worker";
    case node_role::all:
      break;
  }
  return "all";
}

node_role parse_node_role(std::string_view text) {
  auto lower = detail::to_lower(std::string{trim(text)});
  if (lower == "all")
    return node_role::all;
  if (lower == "gateway")
    return node_role::gateway;
  if (lower == "worker")
    return node_role::worker;
  throw config_error(detail::shown(text)
                     + " is not a role (all, gateway or worker)");
}

std::string node_address::text() const {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::vector<node_address> parse_node_addresses(std::string_view text) {
  std::vector<node_address> result;
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto entry = trim(text.substr(start, comma == std::string_view::npos
                                           ? std::string_view::npos
                                           : comma - start));
    if (entry.empty())
      throw config_error(result.empty() && comma == std::string_view::npos
                           ? "lists no worker (host:port[,host:port…])"
                           : "has an empty entry");
    auto address = parse_one(entry);
    if (std::find(result.begin(), result.end(), address) != result.end())
      throw config_error("names " + address.text() + " twice");
    result.push_back(std::move(address));
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return result;
}

} // namespace parley
