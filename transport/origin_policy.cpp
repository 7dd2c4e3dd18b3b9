#include "transport/origin_policy.hpp"

#include <algorithm>

#include "config/web_origin.hpp"

namespace parley::transport {

origin_policy::origin_policy(std::vector<std::string> allowed, bool any)
  : allowed_(std::move(allowed)), any_(any) {
  // nop
}

bool origin_policy::allows(std::string_view origin,
                           std::string_view host) const {
  if (any_)
    return true;
  auto parsed = parse_web_origin(origin);
  if (!parsed)
    return false;
  if (std::find(allowed_.begin(), allowed_.end(), parsed->str())
      != allowed_.end())
    return true;
  // The Host header is the browser's too: a page can only match it when it
  // comes from where the server is reached.
  auto target = parse_host_port(host, parsed->scheme);
  return target && target->host == parsed->host
         && target->port == parsed->port;
}

} // namespace parley::transport
