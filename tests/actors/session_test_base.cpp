#include "tests/actors/session_test_base.hpp"

#include <soci/soci.h>

namespace parley::test {

session_test_base::session_test_base() = default;

session_test_base::~session_test_base() {
  if (supervisor)
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  run();
}

void session_test_base::start(session_settings settings) {
  settings_ = settings;
  supervisor_settings sup;
  sup.persistence.url = db_url();
  sup.detach_persistence = false;
  sup.session = settings;
  directory = std::make_shared<service_directory>();
  supervisor = sys->spawn(supervisor_fun, directory, sup);
  run();
}

std::shared_ptr<fake_connection>
session_test_base::connect(attach_request request) {
  auto conn = std::make_shared<fake_connection>(next_conn_id++);
  caf::anon_send(directory->get()->registry, attach_atom_v,
                 connection_ptr{conn}, std::move(request));
  run();
  return conn;
}

std::shared_ptr<fake_connection>
session_test_base::resume(const std::shared_ptr<fake_connection>& conn,
                          std::int64_t last_seq) {
  const auto& greeting = conn->frames.at(0);
  return connect(attach_request{greeting.at("session_id").get<std::int64_t>(),
                                greeting.at("resume_token").get<std::string>(),
                                last_seq});
}

void session_test_base::say(const std::shared_ptr<fake_connection>& conn,
                            const std::string& text,
                            const std::string& client_id) {
  caf::anon_send(conn->bound, client_message{text, client_id});
  run();
}

void session_test_base::drop(const std::shared_ptr<fake_connection>& conn) {
  caf::anon_send(conn->bound, detach_atom_v, conn->id());
  run();
}

std::int64_t session_test_base::count(const std::string& sql) {
  std::int64_t result = -1;
  probe().sql() << sql, soci::into(result);
  return result;
}

} // namespace parley::test
