#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::cluster {

/// Where a gateway stands with one worker.
enum class worker_state {
  /// Not connected yet, or reconnecting after a loss.
  connecting,
  /// Serving: in rotation.
  up,
  /// Connected but not answering in time (a health probe or a request timed
  /// out): out of rotation until a probe answers again.
  suspect,
  /// The connection is gone (the node died or was cut off).
  down,
};

const char* to_string(worker_state state) noexcept;

/// What a gateway knows about one worker.
struct worker_info {
  std::string address;
  worker_state state = worker_state::connecting;
  /// Requests sent to it and not answered yet.
  std::size_t outstanding = 0;
  std::uint64_t answered = 0;
  std::uint64_t failed = 0;
  /// How often it came up (1 after the first connection).
  std::uint32_t connections = 0;
  std::string last_error;
};

/// A gateway's view of its workers, and which one gets a request: pure
/// bookkeeping, no actors (the worker pool actor is the shell around it).
///
/// A session's requests go to one worker while that worker is up, so its
/// turns are answered in order by one node; a session without a worker (or
/// whose worker left the rotation) gets the up worker with the fewest
/// outstanding requests. The table remembers at most `max_sessions`
/// sessions, forgetting the least recently used.
class worker_table {
public:
  explicit worker_table(std::vector<std::string> addresses,
                        std::size_t max_sessions = 100000);

  std::size_t size() const noexcept {
    return workers_.size();
  }

  const worker_info& at(std::size_t index) const {
    return workers_.at(index);
  }

  /// How many workers are in rotation.
  std::size_t up_count() const noexcept;

  /// The worker for a request of `session`, other than those in `exclude`
  /// (workers this request already failed on); nullopt when none is up.
  std::optional<std::size_t> pick(std::int64_t session,
                                  const std::vector<std::size_t>& exclude = {});

  /// The worker `session` is bound to, if any (whatever its state).
  std::optional<std::size_t> bound(std::int64_t session) const;

  /// Bookkeeping of one request on worker `index`.
  void started(std::size_t index);
  void answered(std::size_t index);
  void failed(std::size_t index, std::string error);

  /// State changes. up() also clears the error; the others record it.
  void up(std::size_t index);
  void suspect(std::size_t index, std::string error);
  void down(std::size_t index, std::string error);
  void connecting(std::size_t index);

  std::size_t sessions() const noexcept {
    return lru_.size();
  }

private:
  void bind(std::int64_t session, std::size_t index);

  std::vector<worker_info> workers_;
  std::size_t max_sessions_;
  // Most recently used session first.
  std::list<std::pair<std::int64_t, std::size_t>> lru_;
  std::unordered_map<std::int64_t, decltype(lru_)::iterator> by_session_;
  // Where the next tie among equally loaded workers starts, so that they
  // share new sessions instead of the first one taking all.
  std::size_t next_ = 0;
};

} // namespace parley::cluster
