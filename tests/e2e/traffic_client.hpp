#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/countdown_latch.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {

/// One chat client of the traffic tests. On its own thread it keeps two
/// messages in flight (the next goes out when a reply comes back) and
/// records every frame; the test thread then compares what the client saw
/// with the database. Protocol violations seen on the way go to problems().
/// Results may be read only after join().
class traffic_client {
public:
  /// `index` makes the client ids unique across clients: "c<index>-<n>".
  explicit traffic_client(int index);

  ~traffic_client();

  traffic_client(const traffic_client&) = delete;
  traffic_client& operator=(const traffic_client&) = delete;

  /// Opens a new session, on the caller's thread. Throws on failure.
  void open(const std::string& host, std::uint16_t port);

  /// Starts the thread. It counts `progress` down once `replies_wanted`
  /// replies arrived (or when it ends without them), and runs until the
  /// connection ends, stop() or `deadline`.
  void start(countdown_latch& progress, std::size_t replies_wanted,
             std::chrono::steady_clock::time_point deadline);

  /// Asks the thread to finish; it does within a read interval.
  void stop() noexcept {
    stop_ = true;
  }

  void join();

  /// After the server crashed and came back: resumes the session after the
  /// highest seq seen, reads until every acknowledged message (including
  /// acks replayed now) has a reply, then sends a ping and reads up to the
  /// pong, so that a duplicate reply would show up (again while that brought
  /// new acks). Caller's thread.
  void resume(const std::string& host, std::uint16_t port,
              std::chrono::steady_clock::time_point deadline);

  /// Sends a close frame (bounded); for clients still connected.
  void close();

  int index() const noexcept {
    return index_;
  }

  const session_info& session() const noexcept {
    return session_;
  }

  /// Client id -> text, for every message sent.
  const std::map<std::string, std::string>& sent() const noexcept {
    return sent_;
  }

  /// Client id -> message_id, for every acknowledged message.
  const std::map<std::string, std::int64_t>& acked() const noexcept {
    return acked_;
  }

  /// message_id -> every reply frame received for it.
  const std::map<std::int64_t, std::vector<nlohmann::json>>&
  replies() const noexcept {
    return replies_;
  }

  const std::vector<std::string>& problems() const noexcept {
    return problems_;
  }

  /// How the live connection ended (closed, error, or timeout if it did
  /// not end).
  const ws_read_result& end() const noexcept {
    return end_;
  }

  bool reached_wanted_replies() const noexcept {
    return reached_;
  }

  std::int64_t last_seq() const noexcept {
    return last_seq_;
  }

  /// Counts for the test's summary: how much the run exercised.
  struct counters {
    std::size_t shutting_down = 0;   // `shutting_down` error frames
    std::size_t resumed_acks = 0;    // ack frames after resuming
    std::size_t resumed_replies = 0; // reply frames after resuming
  };

  const counters& stats() const noexcept {
    return stats_;
  }

private:
  void run(countdown_latch& progress, std::size_t replies_wanted,
           std::chrono::steady_clock::time_point deadline);
  void send_next();
  void on_frame(const nlohmann::json& frame);
  bool all_acked_answered() const;
  void problem(const std::string& what);

  int index_;
  ws_client client_;
  session_info session_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  std::map<std::string, std::string> sent_;
  std::map<std::string, std::int64_t> acked_;
  std::map<std::int64_t, std::vector<nlohmann::json>> replies_;
  std::vector<std::string> problems_;
  ws_read_result end_;
  std::int64_t last_seq_ = 0;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t live_replies_ = 0;
  bool draining_ = false;
  bool reached_ = false;
  bool resumed_ = false;       // frames now come from a resumed connection
  std::int64_t resume_after_ = 0; // the last_seq of that resume
  counters stats_;
};

} // namespace parley::test
