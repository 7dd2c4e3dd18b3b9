#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley::loadgen {

/// Counts values (latencies in microseconds) in HdrHistogram-style
/// log-linear buckets: values below 256 each have their own bucket, larger
/// ones share buckets 1/128 of their magnitude wide. Any percentile is
/// therefore within 1/128 (< 1 %, two significant digits) above the exact
/// value of the sorted samples, with a fixed 58 KiB whatever the range (the
/// whole of std::uint64_t). count, min, max and the sum are exact. Each
/// thread records into its own and the histograms are merged at the end:
/// no locks on the hot path. Pure (no clock, no I/O).
class latency_histogram {
public:
  /// Upper bound of the relative error of value_at_percentile.
  static constexpr double relative_error = 1.0 / 128;

  latency_histogram();

  void record(std::uint64_t value) noexcept;

  /// Adds every value `other` recorded.
  void merge(const latency_histogram& other) noexcept;

  void clear() noexcept;

  std::uint64_t count() const noexcept {
    return count_;
  }

  /// 0 when empty.
  std::uint64_t min() const noexcept {
    return count_ == 0 ? 0 : min_;
  }

  std::uint64_t max() const noexcept {
    return max_;
  }

  /// 0 when empty.
  double mean() const noexcept;

  /// The value below or at which `percentile` percent of the recorded
  /// values lie (nearest rank: the value of rank ceil(p/100 * count) of the
  /// sorted samples), reported as the top of its bucket but never above
  /// max(): exact for values below 256 and within relative_error above the
  /// true one otherwise. 0 gives min(), 100 max(); 0 when empty.
  std::uint64_t value_at_percentile(double percentile) const noexcept;

  /// The bucket a value falls in, and the largest value of a bucket;
  /// public for the tests.
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t bucket_top(std::size_t bucket) noexcept;

private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  // Microseconds: 2^64 of them are over half a million years.
  std::uint64_t sum_ = 0;
};

} // namespace parley::loadgen
