#include "transport/connection_limiter.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace parley::transport {
namespace {

using verdict = connection_limiter::verdict;

TEST(connection_limiter, admits_up_to_the_total_then_refuses) {
  connection_limiter limiter{3, 0, 10};
  EXPECT_EQ(limiter.admit("a"), verdict::admitted);
  EXPECT_EQ(limiter.admit("b"), verdict::admitted);
  EXPECT_EQ(limiter.admit("c"), verdict::admitted);
  EXPECT_EQ(limiter.admit("d"), verdict::server_full);
  EXPECT_EQ(limiter.open(), 3u);
  EXPECT_EQ(limiter.refusing(), 1u);
  // A connection that ends makes room for the next.
  limiter.release("b", verdict::admitted);
  EXPECT_EQ(limiter.admit("d"), verdict::admitted);
  limiter.release("d", verdict::server_full);
  EXPECT_EQ(limiter.refusing(), 0u);
}

TEST(connection_limiter, each_address_has_its_own_limit) {
  connection_limiter limiter{100, 2, 10};
  EXPECT_EQ(limiter.admit("10.0.0.1"), verdict::admitted);
  EXPECT_EQ(limiter.admit("10.0.0.1"), verdict::admitted);
  EXPECT_EQ(limiter.admit("10.0.0.1"), verdict::address_full);
  // Others are not concerned.
  EXPECT_EQ(limiter.admit("10.0.0.2"), verdict::admitted);
  EXPECT_EQ(limiter.open_from("10.0.0.1"), 2u);
  limiter.release("10.0.0.1", verdict::admitted);
  EXPECT_EQ(limiter.admit("10.0.0.1"), verdict::admitted);
}

TEST(connection_limiter, zero_per_address_means_no_limit_per_address) {
  connection_limiter limiter{5, 0, 10};
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(limiter.admit("proxy"), verdict::admitted);
  EXPECT_EQ(limiter.admit("proxy"), verdict::server_full);
}

TEST(connection_limiter, refusals_are_bounded_too) {
  connection_limiter limiter{1, 0, 2};
  EXPECT_EQ(limiter.admit("a"), verdict::admitted);
  EXPECT_EQ(limiter.admit("b"), verdict::server_full);
  EXPECT_EQ(limiter.admit("c"), verdict::server_full);
  // Two are being told; the next is cut without a word.
  EXPECT_EQ(limiter.admit("d"), verdict::drop);
  EXPECT_EQ(limiter.refusing(), 2u);
  limiter.release("b", verdict::server_full);
  EXPECT_EQ(limiter.admit("d"), verdict::server_full);
}

TEST(connection_limiter, addresses_without_connections_are_forgotten) {
  connection_limiter limiter{10, 1, 10};
  EXPECT_EQ(limiter.admit("x"), verdict::admitted);
  limiter.release("x", verdict::admitted);
  EXPECT_EQ(limiter.open_from("x"), 0u);
  EXPECT_EQ(limiter.open(), 0u);
  EXPECT_EQ(limiter.admit("x"), verdict::admitted);
}

TEST(connection_slot, gives_its_place_back_once_after_moves) {
  connection_limiter limiter{1, 1, 1};
  {
    connection_slot first{limiter, "a", limiter.admit("a")};
    EXPECT_FALSE(first.refused());
    connection_slot second{std::move(first)};
    connection_slot third;
    third = std::move(second);
    EXPECT_EQ(third.address(), "a");
    EXPECT_EQ(limiter.open(), 1u);
    connection_slot busy{limiter, "b", limiter.admit("b")};
    EXPECT_TRUE(busy.refused());
    EXPECT_EQ(busy.verdict(), verdict::server_full);
  }
  EXPECT_EQ(limiter.open(), 0u);
  EXPECT_EQ(limiter.refusing(), 0u);
}

TEST(connection_limiter, refusal_reasons_fit_a_close_frame) {
  for (auto v : {verdict::server_full, verdict::address_full, verdict::drop}) {
    std::string reason = refusal_reason(v);
    EXPECT_FALSE(reason.empty());
    EXPECT_LE(reason.size(), 123u); // RFC 6455: a close reason's room
  }
}

} // namespace
} // namespace parley::transport
