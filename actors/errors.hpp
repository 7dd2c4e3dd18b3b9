#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "storage/storage_error.hpp"

namespace parley {

/// Errors that actors answer requests with. They travel as caf::error in the
/// category "parley", with a human-readable context string.
enum class errc : std::uint8_t {
  storage_unavailable = 1,
  storage_constraint,
  storage_internal,
  not_found,
  invalid_resume,
  shutting_down,
  responder_failed,
  conflict, // the request does not fit the current state
  rate_limited,     // too many messages in too short a time
  too_many_pending, // too many messages still waiting for their answers
  unauthorized,     // a node that did not prove the cluster's secret
};

const char* to_string(errc code) noexcept;

caf::error make_error(errc code);

caf::error make_error(errc code, std::string context);

/// An error that says when to try again (rate limits).
caf::error make_error(errc code, std::string context,
                      std::chrono::milliseconds retry_after);

/// The human-readable text an error carries; empty if none.
std::string context_text(const caf::error& err);

/// When to try again, for errors made with a retry time; zero otherwise.
std::chrono::milliseconds retry_after(const caf::error& err);

/// Maps the storage layer's exception to the actor-level error.
caf::error to_error(const storage::storage_error& err);

/// True when `err` is in Parley's category and has `code`.
bool is(const caf::error& err, errc code) noexcept;

/// A one-line description of any caf::error, Parley's or CAF's own.
std::string describe(const caf::error& err);

/// The error category atom, for actor_system_config::add_error_category.
caf::atom_value error_category() noexcept;

} // namespace parley
