#include "tools/loadgen/io_worker.hpp"

#include <algorithm>

namespace parley::loadgen {

io_worker::io_worker(const options& opts, const net_setup& setup,
                     clock::time_point start,
                     std::vector<std::uint64_t> indexes)
  : opts_(opts),
    setup_(setup),
    start_(start),
    end_(clock::time_point::max()),
    indexes_(std::move(indexes)),
    live_(indexes_.size()),
    ramp_timer_(ioc_),
    sweep_timer_(ioc_) {
  if (opts.duration_s > 0)
    end_ = start + std::chrono::duration_cast<clock::duration>(
                     std::chrono::duration<double>(opts.duration_s));
  // A tenth of the timeout: deadlines are seen at most 10 % late.
  sweep_interval_ = std::clamp<clock::duration>(
    std::chrono::milliseconds{opts.timeout_ms} / 10,
    std::chrono::milliseconds{5}, std::chrono::milliseconds{250});
}

io_worker::~io_worker() = default;

std::vector<std::vector<std::uint64_t>> io_worker::deal(std::uint64_t total,
                                                        unsigned threads) {
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>(
    std::max(threads, 1u), std::max<std::uint64_t>(total, 1)));
  std::vector<std::vector<std::uint64_t>> result(n);
  for (std::uint64_t i = 0; i < total; ++i)
    result[static_cast<std::size_t>(i % n)].push_back(i);
  return result;
}

void io_worker::run() {
  if (live_ == 0) {
    ioc_.run();
    return;
  }
  // Posted: the subclass is fully built once the io_context runs.
  boost::asio::post(ioc_, [this] {
    start_due();
    arm_sweep();
  });
  ioc_.run();
}

void io_worker::start_due() {
  auto now = clock::now();
  auto due = [this](std::size_t slot) {
    if (opts_.ramp_per_sec <= 0)
      return start_;
    return start_
           + std::chrono::duration_cast<clock::duration>(
             std::chrono::duration<double>(
               static_cast<double>(indexes_[slot]) / opts_.ramp_per_sec));
  };
  while (next_to_start_ < indexes_.size() && due(next_to_start_) <= now)
    start_connection(next_to_start_++);
  if (next_to_start_ < indexes_.size() && live_ > 0) {
    ramp_timer_.expires_at(due(next_to_start_));
    ramp_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec)
        start_due();
    });
  }
}

void io_worker::arm_sweep() {
  sweep_timer_.expires_after(sweep_interval_);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || live_ == 0)
      return;
    sweep(clock::now());
    if (live_ > 0)
      arm_sweep();
  });
}

void io_worker::connection_finished() {
  if (live_ > 0 && --live_ == 0) {
    // Nothing left to wait for: let run() return.
    ramp_timer_.cancel();
    sweep_timer_.cancel();
  }
}

} // namespace parley::loadgen
