#pragma once

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

namespace parley {

/// The deadlines of an actor's pending requests, kept by the actor itself
/// (see timed_request.hpp for why). Pure: no CAF; keys are message ids in
/// actors, strings in tests. A handful pend at a time, so a vector scanned
/// in full is the right size; it frees its memory when it empties, as an
/// idle session holds none.
///
/// The owner wakes itself once per tick: add() and after_tick() say when
/// the next wake-up must come, and only when it is earlier than the one
/// already asked for, so that equal timeouts cost one wake-up per round of
/// requests rather than one per request.
template <class Key, class TimePoint>
class deadline_table {
public:
  /// Records `key` due at `due`. Returns when to wake up for it, unless a
  /// wake-up already asked for comes no later.
  std::optional<TimePoint> add(Key key, TimePoint due) {
    entries_.emplace_back(std::move(key), due);
    return earlier_wake_up(due);
  }

  /// Forgets `key` (answered). Returns whether it was pending.
  bool settle(const Key& key) {
    auto i = std::find_if(entries_.begin(), entries_.end(),
                          [&](const auto& e) { return e.first == key; });
    if (i == entries_.end())
      return false;
    *i = std::move(entries_.back());
    entries_.pop_back();
    if (entries_.empty())
      std::vector<std::pair<Key, TimePoint>>{}.swap(entries_);
    return true;
  }

  /// At a wake-up: removes and returns the keys due by `now`, earliest
  /// first.
  std::vector<Key> take_due(TimePoint now) {
    if (wake_up_ && *wake_up_ <= now)
      wake_up_.reset();
    std::vector<std::pair<Key, TimePoint>> due;
    auto keep = std::partition(entries_.begin(), entries_.end(),
                               [&](const auto& e) { return e.second > now; });
    std::move(keep, entries_.end(), std::back_inserter(due));
    entries_.erase(keep, entries_.end());
    if (entries_.empty())
      std::vector<std::pair<Key, TimePoint>>{}.swap(entries_);
    std::sort(due.begin(), due.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    std::vector<Key> keys;
    keys.reserve(due.size());
    for (auto& e : due)
      keys.push_back(std::move(e.first));
    return keys;
  }

  /// After take_due(): when to wake up next, unless nothing pends or a
  /// wake-up already asked for comes no later.
  std::optional<TimePoint> after_tick() {
    if (entries_.empty())
      return std::nullopt;
    auto first = std::min_element(entries_.begin(), entries_.end(),
                                  [](const auto& a, const auto& b) {
                                    return a.second < b.second;
                                  });
    return earlier_wake_up(first->second);
  }

  std::size_t size() const noexcept {
    return entries_.size();
  }

  bool empty() const noexcept {
    return entries_.empty();
  }

private:
  std::optional<TimePoint> earlier_wake_up(TimePoint at) {
    if (wake_up_ && *wake_up_ <= at)
      return std::nullopt;
    wake_up_ = at;
    return at;
  }

  std::vector<std::pair<Key, TimePoint>> entries_;
  /// The earliest wake-up asked for and not yet come.
  std::optional<TimePoint> wake_up_;
};

} // namespace parley
