#pragma once

#include <string>

// Internal to parley_storage: turns SOCI's backend-specific exceptions into
// storage_error so that callers never see SOCI types.
namespace parley::storage::detail {

/// Must be called from inside a catch block. Rethrows the exception in flight
/// as storage_error with `context` as prefix: storage_error passes unchanged,
/// soci_error is classified by SQLSTATE / error number / result code, other
/// std::exception become `internal`. Anything else propagates unchanged.
[[noreturn]] void rethrow_as_storage_error(const std::string& context);

} // namespace parley::storage::detail
