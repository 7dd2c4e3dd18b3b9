#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tools/loadgen/frame_scanner.hpp"
#include "tools/loadgen/options.hpp"

namespace parley::loadgen {

/// The messages one WebSocket connection has sent and not yet seen
/// answered, and the matching of server frames to them: the `ack` names
/// the message by its client id (`id`) and gives its `message_id`; the
/// `typing`, `delta` and final `message` frames name that `message_id` in
/// `reply_to`; an `error` names a refused message by `client_id`. A
/// message's client id is its number on the connection, in decimal. Holds
/// at most `capacity` messages (--outstanding) in a fixed array: a linear
/// search over a handful of slots beats any map. Pure (the caller passes
/// the time). With expect_mode::echo, the server sends our own frame back:
/// a `message` frame whose `id` is a waiting message's client id is its
/// answer (one frame, no ack).
class exchange_tracker {
public:
  using clock = std::chrono::steady_clock;

  /// What a frame meant for the connection.
  enum class event {
    session,          // the greeting
    ack,              // a message of ours was stored
    progress,         // typing or delta of one of ours
    answer,           // the final message answering one of ours
    refused,          // an error frame naming one of ours (client_id)
    connection_error, // an error frame about the connection (no client_id)
    other,            // pong, a message answering nothing of ours, ...
    unmatched,        // ack, typing, delta or error naming an unknown id
  };

  struct outcome {
    event what = event::other;
    bool warmup = false;          // answer, refused: a warm-up message
    clock::duration latency{};    // answer: from send to the final message
    std::uint32_t frames = 0;     // answer: frames for it, the final one too
    std::string_view code;        // refused, connection_error
  };

  explicit exchange_tracker(std::size_t capacity,
                            expect_mode expect = expect_mode::parley);

  /// Starts tracking message `number`, sent at `when`; false when all
  /// slots are taken (the caller sent more than it may have outstanding).
  bool sent(std::uint64_t number, clock::time_point when, bool warmup);

  outcome on_frame(const server_frame& frame, clock::time_point now);

  std::size_t outstanding() const noexcept {
    return outstanding_;
  }

  /// When the oldest message still waiting was sent; nullopt when none is.
  std::optional<clock::time_point> oldest() const noexcept;

  /// Forgets every waiting message (a timeout, a closed connection) and
  /// returns how many were not warm-up messages.
  std::size_t abandon() noexcept;

private:
  struct slot {
    bool used = false;
    bool warmup = false;
    std::uint64_t number = 0;
    std::int64_t message_id = 0; // 0 until acknowledged (ids start at 1)
    std::uint32_t frames = 0;
    clock::time_point sent;
  };

  slot* by_client_id(std::string_view id) noexcept;
  slot* by_message_id(std::optional<std::int64_t> id) noexcept;
  void release(slot& s) noexcept;

  outcome answer(slot& s, clock::time_point now) noexcept;

  std::vector<slot> slots_;
  std::size_t outstanding_ = 0;
  expect_mode expect_;
};

} // namespace parley::loadgen
