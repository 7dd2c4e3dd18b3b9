#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/container/deque.hpp>

namespace parley {

/// One line of a conversation, as responders see it.
struct chat_turn {
  std::string role; // "user", "assistant", "agent"
  std::string text;
};

/// What a session actor knows about its conversation. Plain data: the session
/// actor owns one; responders get a copy of the parts they need.
struct chat_state {
  std::int64_t session_id = 0;
  std::int64_t user_id = 0;
  std::string intent;        // current intent (the router fills it in)
  std::string pending_slot;  // slot the agent asked for, e.g. "order_id"
  std::int32_t low_confidence_streak = 0; // routes in a row the agent doubted
  bool handoff = false;      // a human agent has the conversation
  // Boost's deque allocates nothing until used, the standard one 512 bytes
  // at once: thousands of idle sessions hold several (docs/performance.md).
  boost::container::deque<chat_turn> history;
  std::size_t history_limit = 20;

  /// Appends a turn and forgets the oldest beyond history_limit.
  void remember(std::string role, std::string text) {
    history.push_back(chat_turn{std::move(role), std::move(text)});
    while (history.size() > history_limit)
      history.pop_front();
  }

  std::vector<chat_turn> history_vector() const {
    return {history.begin(), history.end()};
  }
};

} // namespace parley
