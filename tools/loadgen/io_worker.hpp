#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tools/loadgen/net_setup.hpp"
#include "tools/loadgen/options.hpp"
#include "tools/loadgen/run_stats.hpp"

namespace parley::loadgen {

/// One client thread: its own io_context (run by that thread alone, so
/// connections need no strand and statistics no lock), its share of the
/// connections and its run_stats. It starts the connections at the ramp's
/// pace (connection i at start + i / --ramp-per-sec), and a sweep timer
/// checks their deadlines: one timer per thread instead of one per
/// message. run() returns once every connection said it finished.
class io_worker {
public:
  using clock = std::chrono::steady_clock;

  /// `indexes`: the global numbers of this worker's connections, rising.
  io_worker(const options& opts, const net_setup& setup,
            clock::time_point start, std::vector<std::uint64_t> indexes);

  virtual ~io_worker();

  io_worker(const io_worker&) = delete;
  io_worker& operator=(const io_worker&) = delete;

  /// The thread's body.
  void run();

  /// Deals connections 0..total-1 out to min(threads, total) workers in
  /// turn: worker w gets w, w + threads, ...
  static std::vector<std::vector<std::uint64_t>>
  deal(std::uint64_t total, unsigned threads);

  boost::asio::io_context& ioc() noexcept {
    return ioc_;
  }

  run_stats& stats() noexcept {
    return stats_;
  }

  const options& opts() const noexcept {
    return opts_;
  }

  const net_setup& setup() const noexcept {
    return setup_;
  }

  /// False once --duration has passed: send nothing new.
  bool may_send(clock::time_point now) const noexcept {
    return now < end_;
  }

  /// Each connection calls this exactly once, when it is done for good.
  void connection_finished();

protected:
  std::size_t connection_count() const noexcept {
    return indexes_.size();
  }

  std::uint64_t global_index(std::size_t slot) const noexcept {
    return indexes_[slot];
  }

  /// Starts the connection at `slot` (0 .. connection_count()-1).
  virtual void start_connection(std::size_t slot) = 0;

  /// Checks every connection's deadline.
  virtual void sweep(clock::time_point now) = 0;

private:
  void start_due();
  void arm_sweep();

  const options& opts_;
  const net_setup& setup_;
  // Declared before anything holding its sockets and timers.
  boost::asio::io_context ioc_{1};
  run_stats stats_;
  clock::time_point start_;
  clock::time_point end_;
  std::vector<std::uint64_t> indexes_;
  std::size_t next_to_start_ = 0;
  std::size_t live_ = 0;
  boost::asio::steady_timer ramp_timer_;
  boost::asio::steady_timer sweep_timer_;
  clock::duration sweep_interval_;
};

} // namespace parley::loadgen
