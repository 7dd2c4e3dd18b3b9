#pragma once

#include <cstdint>
#include <string>

#include "actors/interfaces.hpp"

namespace parley {

/// WebSocket close codes Parley uses (RFC 6455, 4000+ are Parley's own).
namespace close_codes {
constexpr std::uint16_t normal = 1000;
constexpr std::uint16_t going_away = 1001;
constexpr std::uint16_t policy_violation = 1008;
constexpr std::uint16_t internal_error = 1011;
constexpr std::uint16_t try_again_later = 1013;
constexpr std::uint16_t replaced = 4000; // the session moved to a newer socket
} // namespace close_codes

/// A client socket as a session actor sees it. The transport implements it;
/// tests use a recording fake. Every member is safe to call from any thread
/// and never blocks.
class client_connection {
public:
  virtual ~client_connection() = default;

  /// Unique per process, for logs and to ignore stale detach messages.
  virtual std::uint64_t id() const noexcept = 0;

  /// Starts delivering the client's frames to `session`. Until then the
  /// transport does not read from the socket.
  virtual void bind(session_actor session) = 0;

  /// Queues one text frame.
  virtual void send(std::string frame) = 0;

  /// Sends the queued frames, then a close frame, then drops the socket.
  virtual void close(std::uint16_t code, std::string reason) = 0;

  /// The session has handled one frame the client sent. The transport
  /// forwards only a bounded number of frames it has not heard this of and
  /// stops reading meanwhile, so a client that sends faster than its
  /// session works waits in TCP instead of in the session's mailbox.
  virtual void frame_handled() = 0;
};

} // namespace parley
