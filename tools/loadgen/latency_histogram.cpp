#include "tools/loadgen/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace parley::loadgen {

namespace {

// 256 linear buckets below 256; above, each power of two [2^k, 2^(k+1))
// is split into 128 buckets, so a bucket is at most 1/128 of its values.
constexpr unsigned sub_bits = 8;
constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits; // 256
constexpr std::uint64_t half_count = sub_count / 2;               // 128
// Shifts 1..56 cover every std::uint64_t above 255.
constexpr std::size_t bucket_count = sub_count + (64 - sub_bits) * half_count;

unsigned bit_width(std::uint64_t value) noexcept {
  return value == 0 ? 0 : 64 - static_cast<unsigned>(__builtin_clzll(value));
}

} // namespace

latency_histogram::latency_histogram() : counts_(bucket_count, 0) {
  // nop
}

std::size_t latency_histogram::bucket_of(std::uint64_t value) noexcept {
  if (value < sub_count)
    return static_cast<std::size_t>(value);
  // The shift that brings `value` into [128, 256).
  auto shift = bit_width(value) - sub_bits;
  auto sub = value >> shift;
  return static_cast<std::size_t>(sub_count + (shift - 1) * half_count
                                  + (sub - half_count));
}

std::uint64_t latency_histogram::bucket_top(std::size_t bucket) noexcept {
  if (bucket < sub_count)
    return bucket;
  auto rest = bucket - sub_count;
  auto shift = static_cast<unsigned>(rest / half_count) + 1;
  auto sub = rest % half_count + half_count;
  return (sub << shift) + ((std::uint64_t{1} << shift) - 1);
}

void latency_histogram::record(std::uint64_t value) noexcept {
  ++counts_[bucket_of(value)];
  if (count_ == 0 || value < min_)
    min_ = value;
  if (value > max_)
    max_ = value;
  ++count_;
  sum_ += value;
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  if (other.count_ == 0)
    return;
  for (std::size_t i = 0; i < bucket_count; ++i)
    counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void latency_histogram::clear() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = min_ = max_ = sum_ = 0;
}

double latency_histogram::mean() const noexcept {
  return count_ == 0 ? 0.0
                     : static_cast<double>(sum_) / static_cast<double>(count_);
}

std::uint64_t
latency_histogram::value_at_percentile(double percentile) const noexcept {
  if (count_ == 0)
    return 0;
  if (!(percentile > 0.0)) // also NaN
    return min_;
  if (percentile >= 100.0)
    return max_;
  // The relative nudge keeps 99.9 % of 1000 at rank 999: in binary, 99.9
  // is a hair above itself.
  auto exact = percentile / 100.0 * static_cast<double>(count_);
  auto rank = static_cast<std::uint64_t>(std::ceil(exact * (1.0 - 1e-12)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank)
      return std::max(min_, std::min(bucket_top(i), max_));
  }
  return max_;
}

} // namespace parley::loadgen
