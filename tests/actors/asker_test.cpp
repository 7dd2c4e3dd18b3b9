#include "actors/asker.hpp"

#include <gtest/gtest.h>

#include <caf/send.hpp>

#include "tests/actors/actor_fixture.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;

class asker_test : public actor_fixture {
protected:
  asker_test() {
    // Stands for whatever the asker's owner is (the supervisor).
    owner = sys->spawn([] {
      return caf::behavior{[](int) {}};
    });
    asker = sys->spawn(asker_fun, owner);
    run();
  }

  ~asker_test() override {
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  }

  /// Runs a job on the asker that asks `dest` for `x` within `timeout`.
  void ask(caf::actor dest, int x, caf::timespan timeout) {
    caf::anon_send(asker, asker_job{[=](asker_pointer self) {
      deadlines = &self->state.deadlines;
      timed_request(self, timeout, dest, x)
        .then([this](int result) { answer = result; },
              [this](caf::error& err) { error = err; });
    }});
  }

  caf::actor owner;
  caf::actor asker;
  std::optional<int> answer;
  caf::error error;
  const request_deadlines* deadlines = nullptr;
};

TEST_F(asker_test, runs_jobs_that_ask_and_forgets_answered_deadlines) {
  auto doubler = sys->spawn([] {
    return caf::behavior{[](int x) { return x * 2; }};
  });
  ask(doubler, 21, 5s);
  run();
  EXPECT_EQ(answer, 42);
  EXPECT_FALSE(error);
  ASSERT_NE(deadlines, nullptr);
  EXPECT_TRUE(deadlines->empty());
  caf::anon_send_exit(doubler, caf::exit_reason::user_shutdown);
}

TEST_F(asker_test, a_request_without_an_answer_times_out_on_time) {
  // Takes the request and never answers it.
  auto silent = sys->spawn([](caf::event_based_actor* self) {
    return caf::behavior{[self](int) {
      return self->make_response_promise();
    }};
  });
  ask(silent, 1, 5s);
  run();
  sched->advance_time(5s - 1ms);
  run();
  EXPECT_FALSE(error);
  sched->advance_time(1ms);
  run();
  EXPECT_EQ(error, caf::sec::request_timeout);
  EXPECT_FALSE(answer);
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
}

TEST_F(asker_test, ends_when_its_owner_does) {
  bool ended = false;
  asker->attach_functor([&ended] { ended = true; });
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  run();
  EXPECT_TRUE(ended);
}

} // namespace
} // namespace parley::test
