#include "actors/frame_outbox.hpp"

namespace parley {

void frame_outbox::advance_to(std::int64_t seq) {
  if (seq > next_)
    next_ = seq;
}

std::int64_t frame_outbox::reserve() {
  slots_.push_back(slot{next_, false, {}});
  return next_++;
}

frame_outbox::slot* frame_outbox::find(std::int64_t seq) {
  // Seqs in slots_ rise but may have gaps after advance_to().
  for (auto& s : slots_)
    if (s.seq == seq)
      return &s;
  return nullptr;
}

void frame_outbox::fill(std::int64_t seq, std::string frame) {
  if (auto* s = find(seq)) {
    s->done = true;
    s->frame = std::move(frame);
  }
}

void frame_outbox::cancel(std::int64_t seq) {
  if (auto* s = find(seq)) {
    s->done = true;
    s->frame.clear();
  }
}

std::vector<std::string> frame_outbox::take_ready() {
  std::vector<std::string> result;
  while (!slots_.empty() && slots_.front().done) {
    if (!slots_.front().frame.empty())
      result.push_back(std::move(slots_.front().frame));
    slots_.pop_front();
  }
  if (slots_.empty())
    slots_.shrink_to_fit(); // an idle session keeps no 512-byte block
  return result;
}

std::int64_t frame_outbox::first_held_seq() const noexcept {
  return slots_.empty() ? next_ : slots_.front().seq;
}

} // namespace parley
