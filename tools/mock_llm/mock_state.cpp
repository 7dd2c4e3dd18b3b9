#include "tools/mock_llm/mock_state.hpp"

#include <algorithm>
#include <iostream>
#include <utility>

#include "tools/mock_llm/wire.hpp"

namespace parley::mock_llm {

using json = nlohmann::json;

mock_state::mock_state(options opts) : opts_(std::move(opts)) {
  // nop
}

bool mock_state::authorize(const std::optional<std::string>& authorization) {
  have_auth_ = true;
  last_auth_ = authorization;
  ++(authorization ? with_key_ : without_key_);
  if (!opts_.require_key || authorization == "Bearer " + *opts_.require_key)
    return true;
  ++unauthorized_;
  return false;
}

request_plan mock_state::plan_request(const json& body) {
  request_plan plan;
  plan.number = ++requests_;
  last_request_ = body;
  auto within = [](std::uint64_t used, std::uint64_t limit) {
    return limit == 0 || used < limit;
  };
  if (opts_.status != 0 && within(status_sent_, opts_.status_count)) {
    ++status_sent_;
    plan.status = opts_.status;
  } else if (std::find(opts_.fail_nth.begin(), opts_.fail_nth.end(),
                       plan.number)
             != opts_.fail_nth.end()) {
    plan.fail = true;
  } else if (opts_.close_mid_stream && within(close_sent_, opts_.close_count)) {
    ++close_sent_;
    plan.drop = true;
  } else if (opts_.garbage) {
    plan.garbage = true;
  } else if (opts_.oversized != 0) {
    plan.oversized = opts_.oversized;
  } else if (opts_.truncate_frame) {
    plan.truncate = true;
  }
  return plan;
}

std::string mock_state::stats_json() const {
  json authorized{{"present", have_auth_ && last_auth_.has_value()},
                  {"value", last_auth_ ? json(*last_auth_) : json(nullptr)},
                  {"with", with_key_},
                  {"without", without_key_}};
  json stats{{"protocol", to_string(opts_.protocol)},
             {"tls", opts_.tls()},
             {"accepted", accepted_},
             {"tls_handshakes", tls_handshakes_},
             {"tls_failures", tls_failures_},
             {"connections", connections_},
             {"open_connections", open_connections_},
             {"requests", requests_},
             {"health_checks", health_checks_},
             {"cancelled", cancelled_},
             {"max_in_flight", max_in_flight_},
             {"dropped", dropped_},
             {"tool_calls_emitted", tool_calls_emitted_},
             {"route_calls", route_calls_},
             {"unauthorized", unauthorized_},
             {"authorized", std::move(authorized)},
             {"last_request", last_request_}};
  return dump(stats);
}

void mock_state::log(const std::string& line) const {
  if (opts_.verbose)
    std::cerr << "parley-mock-llm: " << line << std::endl;
}

connection_slot::connection_slot(mock_state& state) noexcept : state_(&state) {
  ++state_->connections_;
  ++state_->open_connections_;
}

connection_slot::connection_slot(connection_slot&& other) noexcept
  : state_(std::exchange(other.state_, nullptr)) {
  // nop
}

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

connection_slot::~connection_slot() {
  release();
}

void connection_slot::release() noexcept {
  if (state_ != nullptr)
    --state_->open_connections_;
  state_ = nullptr;
}

} // namespace parley::mock_llm
