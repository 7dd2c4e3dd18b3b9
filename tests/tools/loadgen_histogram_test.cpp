// The load generator's latency histogram (tools/loadgen/latency_histogram):
// percentiles against a sorted reference within the stated relative error,
// merging, and the exact count, min, max and mean.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tools/loadgen/latency_histogram.hpp"

using parley::loadgen::latency_histogram;

namespace {

constexpr double tested_percentiles[] = {0,  0.1, 1,  10,   25,    50,  75,
                                         90, 99,  99.9, 99.99, 99.999, 100};

/// The nearest-rank percentile of sorted samples, as the histogram defines
/// it: the value of rank ceil(p/100 * n), at least rank 1.
std::uint64_t reference(const std::vector<std::uint64_t>& sorted, double p) {
  if (p <= 0)
    return sorted.front();
  auto rank = static_cast<std::size_t>(
    std::ceil(p / 100.0 * static_cast<double>(sorted.size()) * (1 - 1e-12)));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

/// Checks every tested percentile of `h` against the samples.
void expect_within_error(const latency_histogram& h,
                         std::vector<std::uint64_t> samples) {
  std::sort(samples.begin(), samples.end());
  for (auto p : tested_percentiles) {
    auto exact = reference(samples, p);
    auto got = h.value_at_percentile(p);
    EXPECT_GE(got, exact) << "p" << p;
    EXPECT_LE(static_cast<double>(got - exact),
              static_cast<double>(exact) * latency_histogram::relative_error)
      << "p" << p << ": " << got << " vs " << exact;
  }
}

std::vector<std::uint64_t> log_uniform(std::size_t n, std::uint64_t max,
                                       unsigned seed) {
  std::mt19937_64 rng{seed};
  std::uniform_real_distribution<double> exponent{
    0.0, std::log(static_cast<double>(max))};
  std::vector<std::uint64_t> values(n);
  for (auto& v : values)
    v = static_cast<std::uint64_t>(std::exp(exponent(rng)));
  return values;
}

TEST(loadgen_histogram, empty_reports_zeros) {
  latency_histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  for (auto p : tested_percentiles)
    EXPECT_EQ(h.value_at_percentile(p), 0u) << p;
}

TEST(loadgen_histogram, one_value_is_every_percentile) {
  latency_histogram h;
  h.record(123457);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.min(), 123457u);
  EXPECT_EQ(h.max(), 123457u);
  EXPECT_EQ(h.mean(), 123457.0);
  for (auto p : tested_percentiles)
    EXPECT_EQ(h.value_at_percentile(p), 123457u) << p;
}

TEST(loadgen_histogram, small_values_are_exact) {
  latency_histogram h;
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v < 256; ++v)
    for (std::uint64_t k = 0; k <= v % 3; ++k) {
      h.record(v);
      values.push_back(v);
    }
  std::sort(values.begin(), values.end());
  for (auto p : tested_percentiles)
    EXPECT_EQ(h.value_at_percentile(p), reference(values, p)) << p;
}

TEST(loadgen_histogram, percentiles_stay_within_the_relative_error) {
  for (unsigned seed : {1u, 2u, 3u}) {
    auto values = log_uniform(20000, 60'000'000, seed); // up to a minute
    latency_histogram h;
    for (auto v : values)
      h.record(v);
    SCOPED_TRACE(seed);
    expect_within_error(h, values);
    EXPECT_EQ(h.count(), values.size());
    EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
    EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
  }
}

TEST(loadgen_histogram, a_tight_cluster_keeps_two_significant_digits) {
  // Latencies that differ by under 1 % must still come out apart.
  latency_histogram h;
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 100000; v < 102000; ++v) {
    h.record(v);
    values.push_back(v);
  }
  expect_within_error(h, values);
  EXPECT_LT(h.value_at_percentile(10), h.value_at_percentile(90));
}

TEST(loadgen_histogram, mean_is_exact) {
  latency_histogram h;
  h.record(1000);
  h.record(2000);
  h.record(4000);
  EXPECT_DOUBLE_EQ(h.mean(), 7000.0 / 3);
}

TEST(loadgen_histogram, merging_equals_recording_everything_in_one) {
  auto values = log_uniform(30000, 10'000'000, 7);
  latency_histogram all;
  latency_histogram parts[3];
  for (std::size_t i = 0; i < values.size(); ++i) {
    all.record(values[i]);
    parts[i % 3].record(values[i]);
  }
  latency_histogram merged;
  for (const auto& part : parts)
    merged.merge(part);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (auto p : tested_percentiles)
    EXPECT_EQ(merged.value_at_percentile(p), all.value_at_percentile(p)) << p;
  expect_within_error(merged, values);
}

TEST(loadgen_histogram, merging_an_empty_one_changes_nothing) {
  latency_histogram h;
  h.record(500);
  h.record(9000);
  latency_histogram empty;
  h.merge(empty);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 500u);
  EXPECT_EQ(h.max(), 9000u);
  empty.merge(h);
  EXPECT_EQ(empty.count(), 2u);
  EXPECT_EQ(empty.min(), 500u); // not the empty one's 0
  EXPECT_EQ(empty.max(), 9000u);
}

TEST(loadgen_histogram, clear_empties_it) {
  latency_histogram h;
  h.record(42);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 0u);
}

TEST(loadgen_histogram, buckets_cover_all_of_uint64) {
  latency_histogram h;
  constexpr auto top = std::numeric_limits<std::uint64_t>::max();
  h.record(top);
  h.record(0);
  EXPECT_EQ(h.max(), top);
  EXPECT_EQ(h.value_at_percentile(100), top);
  EXPECT_EQ(h.value_at_percentile(1), 0u);
  EXPECT_EQ(latency_histogram::bucket_top(latency_histogram::bucket_of(top)),
            top);
}

TEST(loadgen_histogram, a_bucket_is_at_most_1_128th_of_its_values) {
  std::mt19937_64 rng{11};
  for (int i = 0; i < 100000; ++i) {
    auto shift = rng() % 64;
    auto v = rng() >> shift;
    auto bucket = latency_histogram::bucket_of(v);
    auto top = latency_histogram::bucket_top(bucket);
    ASSERT_GE(top, v);
    ASSERT_LE(static_cast<double>(top - v),
              static_cast<double>(v) * latency_histogram::relative_error)
      << v;
    ASSERT_EQ(latency_histogram::bucket_of(top), bucket) << v;
    if (bucket > 0) {
      ASSERT_LT(latency_histogram::bucket_top(bucket - 1), v) << v;
    }
  }
}

} // namespace
