#include "cluster/worker_table.hpp"

#include <algorithm>
#include <stdexcept>

namespace parley::cluster {

const char* to_string(worker_state state) noexcept {
  switch (state) {
    case worker_state::up:
      return "up";
    case worker_state::suspect:
      return "suspect";
    case worker_state::down:
      return "down";
    case worker_state::connecting:
      break;
  }
  return "connecting";
}

worker_table::worker_table(std::vector<std::string> addresses,
                           std::size_t max_sessions)
  : max_sessions_(std::max<std::size_t>(max_sessions, 1)) {
  workers_.reserve(addresses.size());
  for (auto& address : addresses) {
    worker_info info;
    info.address = std::move(address);
    workers_.push_back(std::move(info));
  }
}

std::size_t worker_table::up_count() const noexcept {
  return static_cast<std::size_t>(
    std::count_if(workers_.begin(), workers_.end(), [](const auto& w) {
      return w.state == worker_state::up;
    }));
}

std::optional<std::size_t>
worker_table::pick(std::int64_t session,
                   const std::vector<std::size_t>& exclude) {
  auto allowed = [&](std::size_t i) {
    return workers_[i].state == worker_state::up
           && std::find(exclude.begin(), exclude.end(), i) == exclude.end();
  };
  if (auto i = by_session_.find(session); i != by_session_.end()) {
    auto index = i->second->second;
    if (allowed(index)) {
      lru_.splice(lru_.begin(), lru_, i->second);
      return index;
    }
  }
  std::optional<std::size_t> best;
  const auto n = workers_.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto i = (next_ + k) % n;
    if (allowed(i) && (!best || workers_[i].outstanding
                                  < workers_[*best].outstanding))
      best = i;
  }
  if (!best)
    return std::nullopt;
  next_ = (*best + 1) % n;
  bind(session, *best);
  return best;
}

std::optional<std::size_t> worker_table::bound(std::int64_t session) const {
  if (auto i = by_session_.find(session); i != by_session_.end())
    return i->second->second;
  return std::nullopt;
}

void worker_table::bind(std::int64_t session, std::size_t index) {
  if (auto i = by_session_.find(session); i != by_session_.end()) {
    i->second->second = index;
    lru_.splice(lru_.begin(), lru_, i->second);
    return;
  }
  lru_.emplace_front(session, index);
  by_session_[session] = lru_.begin();
  if (lru_.size() > max_sessions_) {
    by_session_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void worker_table::started(std::size_t index) {
  ++workers_.at(index).outstanding;
}

void worker_table::answered(std::size_t index) {
  auto& w = workers_.at(index);
  if (w.outstanding > 0)
    --w.outstanding;
  ++w.answered;
}

void worker_table::failed(std::size_t index, std::string error) {
  auto& w = workers_.at(index);
  if (w.outstanding > 0)
    --w.outstanding;
  ++w.failed;
  w.last_error = std::move(error);
}

void worker_table::up(std::size_t index) {
  auto& w = workers_.at(index);
  if (w.state != worker_state::up && w.state != worker_state::suspect)
    ++w.connections;
  w.state = worker_state::up;
}

void worker_table::suspect(std::size_t index, std::string error) {
  auto& w = workers_.at(index);
  if (w.state == worker_state::up)
    w.state = worker_state::suspect;
  w.last_error = std::move(error);
}

void worker_table::down(std::size_t index, std::string error) {
  auto& w = workers_.at(index);
  w.state = worker_state::down;
  w.outstanding = 0; // what was in flight failed with the connection
  w.last_error = std::move(error);
}

void worker_table::connecting(std::size_t index) {
  workers_.at(index).state = worker_state::connecting;
}

} // namespace parley::cluster
