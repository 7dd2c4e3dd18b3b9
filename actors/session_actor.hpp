#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/container/deque.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/chat_state.hpp"
#include "actors/frame_outbox.hpp"
#include "actors/interfaces.hpp"
#include "actors/service_directory.hpp"
#include "actors/timed_request.hpp"
#include "actors/token_bucket.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace parley {

struct session_settings {
  std::size_t history_limit = 20;
  /// How long a session outlives its socket, waiting for a resume.
  caf::timespan linger = std::chrono::seconds{30};
  caf::timespan store_timeout = std::chrono::seconds{10};
  caf::timespan reply_timeout = std::chrono::seconds{60};
  /// Attempts to answer one message before giving up until the next resume.
  int max_reply_attempts = 3;
  caf::timespan retry_delay = std::chrono::milliseconds{500};
  /// Chat messages per second with bursts of `message_burst`; 0: no limit.
  double message_rate = 1;
  double message_burst = 10;
  /// Messages stored or being stored that wait for their answers; more are
  /// refused (not stored) until the answers catch up.
  std::size_t max_pending_replies = 8;
  /// Said when the support team hands the conversation back to the bot
  /// (the rules file's "released" reply).
  std::string released_text = "You're back with the assistant. How else can "
                              "I help?";
};

using chat_promise = caf::typed_response_promise<chat_exchange>;
using message_promise = caf::typed_response_promise<storage::message_record>;

/// Work that needs the session loaded first (REST calls to a session with
/// no live actor): run once it is, or failed with the load's error.
struct waiting_op {
  std::int64_t session_id = 0;
  std::function<void()> run;
  std::function<void(const caf::error&)> fail;
};

/// A user message waiting for its answer, and the REST callers waiting
/// with it.
struct queued_reply {
  storage::message_record message;
  std::chrono::steady_clock::time_point received;
  std::vector<chat_promise> waiters;
};

struct session_state {
  static inline const char* name = "session";

  /// Shared by every session of a registry: thousands of idle sessions
  /// need no copy each.
  std::shared_ptr<const session_settings> settings;
  std::shared_ptr<const service_directory> directory;
  session_registry_actor registry;
  std::shared_ptr<spdlog::logger> log;

  chat_state chat;
  std::string token_hash;
  bool loaded = false;        // the session row is known
  connection_ptr conn;        // the socket frames go to, if any
  bool attaching = false;     // an attach is waiting for the database
  /// The client resumed on another gateway: end when idle, not linger.
  bool claimed_elsewhere = false;
  // Boost's deques: nothing allocated while empty (see chat_state.hpp).
  boost::container::deque<std::pair<connection_ptr, attach_request>>
    waiting_attaches;
  /// REST calls that arrived before the session was loaded.
  boost::container::deque<waiting_op> waiting_ops;

  frame_outbox outbox;
  boost::container::deque<queued_reply> replies; // FIFO: one at a time
  /// Stored messages this actor gave up answering (the responder failed
  /// every attempt): answered on the next resume, or when sent again.
  std::vector<storage::message_record> given_up;
  std::optional<token_bucket> message_rate; // null: no rate limit
  bool replying = false;
  bool generating = false;        // waiting for the responder
  std::uint64_t request_id = 0;   // of the current responder request
  std::string partial;            // streamed so far for the current answer
  int reply_failures = 0;
  std::size_t pending_stores = 0;
  bool draining = false;
  std::uint64_t linger_generation = 0;
  request_deadlines deadlines; // of its requests (timed_request.hpp)

  ~session_state();
};

/// One conversation. It stores each user message through the persistence
/// actor, acknowledges it after the commit, asks the responder for an answer,
/// stores that, and only then sends it. Sockets come and go (attach/detach);
/// the session outlives them for `linger` so a client can resume, and a
/// fresh session actor can rebuild everything from the database.
session_actor::behavior_type
session_fun(session_actor::stateful_pointer<session_state> self,
            std::shared_ptr<const service_directory> directory,
            session_registry_actor registry,
            std::shared_ptr<const session_settings> settings);

} // namespace parley
