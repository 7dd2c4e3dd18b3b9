#include "actors/supervisor.hpp"

#include "tests/actors/session_test_base.hpp"

namespace parley::test {
namespace {

class supervisor_test : public session_test_base {
protected:
  supervisor_test() {
    start();
  }

  health_report health() {
    auto report = ask<health_report>(supervisor, health_atom_v);
    run();
    EXPECT_TRUE(report->value) << describe(report->error);
    return report->value.value_or(health_report{});
  }

  static const service_status& status_of(const health_report& report,
                                         const std::string& name) {
    for (const auto& s : report.services)
      if (s.name == name)
        return s;
    throw std::runtime_error("no service " + name);
  }
};

TEST_F(supervisor_test, reports_the_database_and_its_children) {
  auto report = health();
  EXPECT_TRUE(report.database_ok);
  EXPECT_EQ(report.database_backend, "sqlite");
  ASSERT_EQ(report.services.size(), 3u);
  for (const auto& s : report.services) {
    EXPECT_EQ(s.state, "running") << s.name;
    EXPECT_EQ(s.restarts, 0) << s.name;
  }
}

TEST_F(supervisor_test, restarts_a_dead_child_after_a_growing_delay) {
  auto old = directory->get()->persistence;
  caf::anon_send_exit(old, caf::exit_reason::kill);
  run();
  auto report = health();
  EXPECT_EQ(status_of(report, "persistence").state, "restarting");
  EXPECT_FALSE(report.database_ok);
  advance(std::chrono::milliseconds{99});
  EXPECT_EQ(directory->get()->persistence, old) << "not before 100 ms";
  advance(std::chrono::milliseconds{1});
  auto restarted = directory->get()->persistence;
  EXPECT_NE(restarted, old);
  report = health();
  EXPECT_EQ(status_of(report, "persistence").state, "running");
  EXPECT_EQ(status_of(report, "persistence").restarts, 1);
  EXPECT_TRUE(report.database_ok);
  // Dying again at once doubles the delay.
  caf::anon_send_exit(restarted, caf::exit_reason::kill);
  run();
  advance(std::chrono::milliseconds{199});
  EXPECT_EQ(directory->get()->persistence, restarted);
  advance(std::chrono::milliseconds{1});
  EXPECT_NE(directory->get()->persistence, restarted);
  EXPECT_EQ(status_of(health(), "persistence").restarts, 2);
}

TEST_F(supervisor_test, sessions_keep_working_across_a_restart) {
  auto conn = connect();
  say(conn, "hello", "a");
  caf::anon_send_exit(directory->get()->responder, caf::exit_reason::kill);
  run();
  advance(std::chrono::milliseconds{100});
  say(conn, "thanks", "b");
  auto replies = conn->of_type("message");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(status_of(health(), "responder").restarts, 1);
}

} // namespace
} // namespace parley::test
