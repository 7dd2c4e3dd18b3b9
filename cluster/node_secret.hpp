#pragma once

#include <string_view>

namespace parley::cluster {

/// Whether `given` is the cluster's `secret`, in time that depends only on
/// the lengths: a node guessing it learns nothing from how long a refusal
/// takes. An empty secret means the cluster has none: everything matches.
bool secret_matches(std::string_view secret, std::string_view given) noexcept;

} // namespace parley::cluster
