#include <boost/asio/io_context.hpp>
#include <caf/send.hpp>

#include "actors/supervisor.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace parley::test {
namespace {

/// The supervisor with a custom WebSocket LLM configured, on the test
/// scheduler. The LLM's network client gets an io_context that never runs:
/// its connection never opens unless the test says so (llm_open_atom), so
/// every step of the supervision is the test's to take.
class supervisor_llm_test : public actor_fixture {
protected:
  static constexpr std::uint64_t seed = 42;

  supervisor_llm_test() {
    supervisor_settings settings;
    settings.persistence.url = db_url();
    settings.detach_persistence = false;
    settings.llm.provider = llm_provider::websocket;
    settings.llm.endpoint = parse_llm_endpoint("ws://127.0.0.1:9/chat",
                                               "LLM_WEBSOCKET_URL");
    settings.llm.backoff_base = std::chrono::milliseconds{500};
    settings.llm.backoff_cap = std::chrono::seconds{30};
    settings.io = io().get_executor();
    settings.backoff_seed = seed;
    backoff_ = settings_backoff(settings);
    directory = std::make_shared<service_directory>();
    supervisor = sys->spawn(supervisor_fun, directory, settings);
    run();
  }

  ~supervisor_llm_test() override {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    run();
  }

  /// Outlives every actor of every test (clients post onto it when they
  /// close).
  static boost::asio::io_context& io() {
    static boost::asio::io_context instance;
    return instance;
  }

  /// The same policy the supervisor builds, to know its delays.
  static backoff_policy settings_backoff(const supervisor_settings& s) {
    backoff_settings b;
    b.base = s.llm.backoff_base;
    b.cap = s.llm.backoff_cap;
    return backoff_policy{b, seed};
  }

  llm_status llm() {
    auto report = ask<health_report>(supervisor, health_atom_v);
    run();
    EXPECT_TRUE(report->value) << describe(report->error);
    return report->value ? report->value->llm : llm_status{};
  }

  /// The LLM connects: it becomes the responder.
  responder_actor connect_llm() {
    caf::anon_send(supervisor, llm_open_atom_v);
    run();
    return directory->get()->responder;
  }

  std::shared_ptr<service_directory> directory;
  supervisor_actor supervisor;
  backoff_policy backoff_{backoff_settings{}, seed};
};

TEST_F(supervisor_llm_test, the_fallback_answers_until_the_llm_connects) {
  auto before = directory->get()->responder;
  EXPECT_EQ(llm().state, "connecting");
  EXPECT_EQ(llm().circuit, "half_open");
  auto llm_handle = connect_llm();
  EXPECT_NE(llm_handle, before) << "the LLM took the responder slot";
  EXPECT_EQ(llm().state, "healthy");
  EXPECT_TRUE(llm().connected);
}

TEST_F(supervisor_llm_test, a_lost_llm_comes_back_after_jittered_backoff) {
  auto fallback = directory->get()->responder;
  auto first = connect_llm();
  ASSERT_NE(first, fallback);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  run();
  EXPECT_EQ(directory->get()->responder, fallback)
    << "the fallback answers at once";
  EXPECT_EQ(llm().state, "down");
  EXPECT_EQ(llm().circuit, "open");
  // The delays are the seeded policy's: equal jitter around 0.5 s, 1 s, ...
  auto d1 = *backoff_.next_delay();
  EXPECT_GE(d1, std::chrono::milliseconds{250});
  EXPECT_LE(d1, std::chrono::milliseconds{500});
  advance(d1 - std::chrono::nanoseconds{1});
  EXPECT_EQ(llm().state, "down") << "not a moment early";
  advance(std::chrono::nanoseconds{1});
  EXPECT_EQ(llm().state, "connecting");
  EXPECT_EQ(llm().restarts, 1);
  EXPECT_EQ(directory->get()->responder, fallback)
    << "still the fallback until the new connection opens";
  auto second = connect_llm();
  ASSERT_NE(second, fallback);
  ASSERT_NE(second, first);
  EXPECT_EQ(llm().state, "healthy");
  // Connected again: the backoff started over.
  caf::anon_send_exit(second, caf::exit_reason::kill);
  run();
  backoff_.reset();
  auto again = *backoff_.next_delay();
  advance(again - std::chrono::nanoseconds{1});
  EXPECT_EQ(llm().state, "down");
  advance(std::chrono::nanoseconds{1});
  EXPECT_EQ(llm().state, "connecting");
  EXPECT_EQ(llm().restarts, 2);
}

} // namespace
} // namespace parley::test
