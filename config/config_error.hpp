#pragma once

#include <stdexcept>
#include <string>

namespace parley {

/// Bad configuration: start-up stops with this one line.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace parley
