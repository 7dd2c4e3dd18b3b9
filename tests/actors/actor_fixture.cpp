#include "tests/actors/actor_fixture.hpp"

#include <caf/atom.hpp>

#include "actors/errors.hpp"

namespace parley::test {

actor_fixture::actor_fixture() {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.add_message_types<caf::id_block::parley>();
  sys = std::make_unique<caf::actor_system>(cfg);
  sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
}

actor_fixture::~actor_fixture() {
  // Let actors see their exit messages before the system goes away.
  run();
}

database_url actor_fixture::db_url() const {
  database_url url;
  url.backend = db_backend::sqlite;
  url.path = (tmp.path() / "parley.db").string();
  return url;
}

storage::database& actor_fixture::probe() {
  if (!probe_) {
    probe_ = std::make_unique<storage::database>(db_url());
    storage::migrate(*probe_);
  }
  return *probe_;
}

std::vector<nlohmann::json>
fake_connection::of_type(const std::string& type) const {
  std::vector<nlohmann::json> result;
  for (const auto& frame : frames)
    if (frame.value("type", "") == type)
      result.push_back(frame);
  return result;
}

std::vector<std::string> fake_connection::types() const {
  std::vector<std::string> result;
  for (const auto& frame : frames)
    result.push_back(frame.value("type", ""));
  return result;
}

} // namespace parley::test
