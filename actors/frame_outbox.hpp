#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/container/deque.hpp>

namespace parley {

/// Keeps a session's outgoing frames in seq order. A frame whose content
/// depends on a commit (an ack, a reply) reserves its seq first; frames
/// behind it wait until it is filled or cancelled, so a client that tracks
/// the highest seq it saw never skips one that is still to come.
class frame_outbox {
public:
  explicit frame_outbox(std::int64_t first_seq = 1) : next_(first_seq) {
    // nop
  }

  /// Moves the next seq forward to at least `seq`.
  void advance_to(std::int64_t seq);

  /// Takes the next seq for a frame that will be filled in later.
  std::int64_t reserve();

  /// Provides the frame for a reserved seq.
  void fill(std::int64_t seq, std::string frame);

  /// Gives up a reserved seq: no frame will carry it.
  void cancel(std::int64_t seq);

  /// Reserves and fills at once; `make` gets the seq.
  template <class F>
  std::int64_t emit(F&& make) {
    auto seq = reserve();
    fill(seq, make(seq));
    return seq;
  }

  /// Removes and returns the frames that are ready, in seq order, up to the
  /// first reservation still open.
  std::vector<std::string> take_ready();

  /// The lowest seq not yet taken out (next_seq() when nothing is held).
  std::int64_t first_held_seq() const noexcept;

  std::int64_t next_seq() const noexcept {
    return next_;
  }

  std::size_t held() const noexcept {
    return slots_.size();
  }

private:
  struct slot {
    std::int64_t seq;
    bool done;
    std::string frame; // empty when cancelled
  };

  slot* find(std::int64_t seq);

  // Nothing allocated while empty, unlike std::deque (an idle session
  // holds one).
  boost::container::deque<slot> slots_;
  std::int64_t next_;
};

} // namespace parley
