#pragma once

#include <memory>
#include <string>
#include <vector>

#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/client_connection.hpp"
#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "config/database_url.hpp"
#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "tests/support/temp_dir.hpp"

namespace parley::test {

/// An actor system on CAF's deterministic test scheduler: nothing runs until
/// the test calls run(), and timeouts fire only when it advances the clock.
class actor_fixture : public ::testing::Test {
protected:
  actor_fixture();
  ~actor_fixture() override;

  /// Runs every pending job, including those that jobs create.
  void run() {
    sched->run();
  }

  /// Runs every job except the actor behind `hdl`.
  template <class Handle>
  void run_all_but(const Handle& hdl) {
    auto* ptr = dynamic_cast<caf::resumable*>(
      caf::actor_cast<caf::abstract_actor*>(hdl));
    sched->run_jobs_filtered([ptr](caf::resumable* job) { return job != ptr; });
  }

  /// Lets the actor behind `hdl` handle exactly one message.
  template <class Handle>
  void step(const Handle& hdl) {
    ASSERT_TRUE(sched->prioritize(hdl)) << "no message waiting";
    sched->run_once();
  }

  /// Moves the test clock forward, firing due timeouts, then runs.
  void advance(caf::timespan duration) {
    sched->advance_time(duration);
    run();
  }

  /// The answer to a request made with ask(): a value or an error, once the
  /// scheduler has run.
  template <class R>
  struct reply {
    std::optional<R> value;
    caf::error error;
    bool done() const {
      return value.has_value() || static_cast<bool>(error);
    }
  };

  /// Sends a request from a helper actor; run() delivers the answer.
  template <class R, class Handle, class... Ts>
  std::shared_ptr<reply<R>> ask(const Handle& dest, Ts... xs) {
    auto result = std::make_shared<reply<R>>();
    sys->spawn([=](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, xs...)
        .then([result](R& value) { result->value = std::move(value); },
              [result](caf::error& err) { result->error = std::move(err); });
    });
    return result;
  }

  /// A SQLite file database in this test's temporary folder, unless a test
  /// picks another backend.
  virtual database_url db_url() const;

  /// A second connection to the same database, to check what is committed.
  storage::database& probe();

  temp_dir tmp;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;

private:
  std::unique_ptr<storage::database> probe_;
};

/// A client socket that records what the session sends it.
class fake_connection : public client_connection {
public:
  explicit fake_connection(std::uint64_t id) : id_(id) {
    // nop
  }

  std::uint64_t id() const noexcept override {
    return id_;
  }

  void bind(session_actor session) override {
    bound = std::move(session);
  }

  void send(std::string frame) override {
    if (!closed)
      frames.push_back(nlohmann::json::parse(frame));
  }

  void frame_handled() override {
    ++handled;
  }

  void close(std::uint16_t code, std::string reason) override {
    if (closed)
      return;
    closed = true;
    close_code = code;
    close_reason = std::move(reason);
  }

  /// The frames of one type, in arrival order.
  std::vector<nlohmann::json> of_type(const std::string& type) const;

  /// Frame types in arrival order, e.g. {"session", "ack", "typing"}.
  std::vector<std::string> types() const;

  std::vector<nlohmann::json> frames;
  std::size_t handled = 0; // frame_handled() calls
  session_actor bound;
  bool closed = false;
  std::uint16_t close_code = 0;
  std::string close_reason;

private:
  std::uint64_t id_;
};

} // namespace parley::test
