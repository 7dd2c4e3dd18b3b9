#include "actors/errors.hpp"

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace parley {

namespace {

constexpr caf::atom_value category = caf::atom("parley");

} // namespace

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::storage_unavailable:
      return "storage_unavailable";
    case errc::storage_constraint:
      return "storage_constraint";
    case errc::storage_internal:
      return "storage_internal";
    case errc::not_found:
      return "not_found";
    case errc::invalid_resume:
      return "invalid_resume";
    case errc::shutting_down:
      return "shutting_down";
    case errc::responder_failed:
      return "responder_failed";
    case errc::conflict:
      return "conflict";
    case errc::rate_limited:
      return "rate_limited";
    case errc::too_many_pending:
      return "too_many_pending";
    case errc::unauthorized:
      return "unauthorized";
  }
  return "unknown";
}

caf::error make_error(errc code) {
  return caf::error{static_cast<std::uint8_t>(code), category};
}

caf::error make_error(errc code, std::string context) {
  return caf::error{static_cast<std::uint8_t>(code), category,
                    caf::make_message(std::move(context))};
}

caf::error make_error(errc code, std::string context,
                      std::chrono::milliseconds retry_after) {
  return caf::error{static_cast<std::uint8_t>(code), category,
                    caf::make_message(std::move(context),
                                      static_cast<std::int64_t>(
                                        retry_after.count()))};
}

std::string context_text(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() > 0 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

std::chrono::milliseconds retry_after(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() > 1 && ctx.match_element<std::int64_t>(1))
    return std::chrono::milliseconds{ctx.get_as<std::int64_t>(1)};
  return std::chrono::milliseconds::zero();
}

caf::error to_error(const storage::storage_error& err) {
  switch (err.code()) {
    case storage::storage_errc::unavailable:
      return make_error(errc::storage_unavailable, err.what());
    case storage::storage_errc::constraint:
      return make_error(errc::storage_constraint, err.what());
    case storage::storage_errc::not_found:
      return make_error(errc::not_found, err.what());
    case storage::storage_errc::internal:
      break;
  }
  return make_error(errc::storage_internal, err.what());
}

bool is(const caf::error& err, errc code) noexcept {
  return err.category() == category
         && err.code() == static_cast<std::uint8_t>(code);
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  std::string result;
  if (err.category() == category)
    result = to_string(static_cast<errc>(err.code()));
  else if (err.category() == caf::atom("system"))
    result = caf::to_string(static_cast<caf::sec>(err.code()));
  else if (err.category() == caf::atom("exit"))
    result = caf::to_string(static_cast<caf::exit_reason>(err.code()));
  else
    result = caf::to_string(err.category()) + ":" + std::to_string(err.code());
  if (auto text = context_text(err); !text.empty())
    result += ": " + text;
  return result;
}

caf::atom_value error_category() noexcept {
  return category;
}

} // namespace parley
