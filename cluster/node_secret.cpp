#include "cluster/node_secret.hpp"

#include <algorithm>

namespace parley::cluster {

bool secret_matches(std::string_view secret, std::string_view given) noexcept {
  if (secret.empty())
    return true;
  // Every byte of the longer one is looked at, whatever differs first.
  unsigned diff = secret.size() == given.size() ? 0u : 1u;
  auto n = std::max(secret.size(), given.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto a = i < secret.size() ? static_cast<unsigned char>(secret[i]) : 0u;
    auto b = i < given.size() ? static_cast<unsigned char>(given[i]) : 0u;
    diff |= a ^ b;
  }
  return diff == 0;
}

} // namespace parley::cluster
