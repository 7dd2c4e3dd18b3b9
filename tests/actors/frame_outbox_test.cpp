#include "actors/frame_outbox.hpp"

#include <gtest/gtest.h>

namespace parley {
namespace {

TEST(frame_outbox, frames_leave_in_seq_order_behind_open_reservations) {
  frame_outbox box;
  auto ack = box.reserve(); // waits for a commit
  box.emit([](std::int64_t seq) { return "pong" + std::to_string(seq); });
  EXPECT_TRUE(box.take_ready().empty()) << "pong must wait for seq 1";
  EXPECT_EQ(box.first_held_seq(), 1);
  box.fill(ack, "ack1");
  EXPECT_EQ(box.take_ready(), (std::vector<std::string>{"ack1", "pong2"}));
  EXPECT_EQ(box.first_held_seq(), 3);
  EXPECT_EQ(box.next_seq(), 3);
}

TEST(frame_outbox, cancelled_reservation_leaves_a_gap) {
  frame_outbox box;
  auto a = box.reserve();
  auto b = box.reserve();
  box.fill(b, "b");
  box.cancel(a);
  EXPECT_EQ(box.take_ready(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(box.held(), 0u);
}

TEST(frame_outbox, advance_moves_seqs_forward_only) {
  frame_outbox box;
  box.advance_to(10);
  EXPECT_EQ(box.reserve(), 10);
  box.advance_to(5);
  EXPECT_EQ(box.next_seq(), 11);
  box.fill(10, "x");
  box.fill(99, "ignored: never reserved");
  EXPECT_EQ(box.take_ready(), (std::vector<std::string>{"x"}));
}

} // namespace
} // namespace parley
