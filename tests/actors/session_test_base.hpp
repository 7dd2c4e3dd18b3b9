#pragma once

#include <memory>

#include <caf/send.hpp>

#include "actors/service_directory.hpp"
#include "actors/supervisor.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace parley::test {

/// The whole actor stack (supervisor, registry, persistence on a SQLite
/// file, fallback responder) on the test scheduler, with fake sockets.
class session_test_base : public actor_fixture {
protected:
  session_test_base();
  ~session_test_base() override;

  void start(session_settings settings = {});

  /// Opens a fake socket and attaches it (new session when `request` has
  /// session_id 0).
  std::shared_ptr<fake_connection> connect(attach_request request = {});

  /// Resumes the session `conn` was greeted into, after `last_seq`.
  std::shared_ptr<fake_connection>
  resume(const std::shared_ptr<fake_connection>& conn, std::int64_t last_seq);

  /// Sends a chat message on a bound socket and runs everything.
  void say(const std::shared_ptr<fake_connection>& conn,
           const std::string& text, const std::string& client_id = "");

  /// Tells the session the socket went away.
  void drop(const std::shared_ptr<fake_connection>& conn);

  std::int64_t count(const std::string& sql);

  session_settings settings_;
  std::shared_ptr<service_directory> directory;
  supervisor_actor supervisor;
  std::uint64_t next_conn_id = 1;
};

} // namespace parley::test
