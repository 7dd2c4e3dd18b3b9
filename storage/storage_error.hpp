#pragma once

#include <stdexcept>
#include <string>

namespace parley::storage {

/// What went wrong, in terms a caller can act on.
enum class storage_errc {
  unavailable = 1, // cannot reach or open the database; retry later
  constraint,      // the data broke a rule of the schema (unique, foreign key,
                   // column length)
  not_found,       // the row asked for does not exist
  internal,        // anything else: a bug or an unexpected database answer
};

const char* to_string(storage_errc code) noexcept;

/// The one exception type the storage layer throws. SOCI's errors are
/// translated into it at the repository boundary.
class storage_error : public std::runtime_error {
public:
  storage_error(storage_errc code, const std::string& what)
    : std::runtime_error(what), code_(code) {
    // nop
  }

  storage_errc code() const noexcept {
    return code_;
  }

private:
  storage_errc code_;
};

} // namespace parley::storage
