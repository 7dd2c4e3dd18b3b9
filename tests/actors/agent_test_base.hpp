#pragma once

#include <fstream>
#include <memory>
#include <string>

#include <soci/soci.h>

#include "actors/agent_actor.hpp"
#include "actors/knowledge_actor.hpp"
#include "actors/persistence_actor.hpp"
#include "actors/service_directory.hpp"
#include "actors/tool_actor.hpp"
#include "storage/order_repository.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace parley::test {

/// The agent's own actors on the test scheduler: a real persistence actor
/// on a SQLite file with the demo orders, a knowledge actor over a small
/// folder, the tool actor and (in agent tests) the agent. The LLM, when a
/// test needs one, is the only stand-in: it is outside the project.
class agent_test_base : public actor_fixture {
protected:
  agent_test_base() {
    std::filesystem::create_directories(tmp.path() / "kb");
    std::ofstream{tmp.path() / "kb" / "returns.md"}
      << "# Returns and refunds\n\nHow returns work.\n\n## Return policy\n"
         "You can return items within 30 days of delivery.\n\n"
         "## Refund timing\nRefunds reach your card in 5 to 10 days.\n";
    std::ofstream{tmp.path() / "kb" / "shipping.md"}
      << "# Shipping\n\n## Delivery times\nStandard shipping takes 3 to 5 "
         "business days.\n";
    storage::load_demo_orders(probe(),
                              PARLEY_SOURCE_DIR "/config/demo_orders.json");
    session_id = storage::chat_repository{probe()}
                   .create_session(storage::new_session{0, "t", "websocket",
                                                        std::string(64, 'a')})
                   .id;
    persistence_settings store;
    store.url = db_url();
    services svc;
    svc.persistence = sys->spawn(persistence_fun, store);
    knowledge_settings kb;
    kb.dir = (tmp.path() / "kb").string();
    kb.poll_interval = caf::timespan{0};
    svc.knowledge = sys->spawn(knowledge_fun, kb);
    directory->set(svc);
    tools = sys->spawn(tool_fun, directory, tool_options);
    svc.tools = tools;
    directory->set(svc);
    run();
  }

  ~agent_test_base() override {
    auto svc = directory->get();
    for (auto hdl : {caf::actor_cast<caf::actor>(svc->persistence),
                     caf::actor_cast<caf::actor>(svc->knowledge),
                     caf::actor_cast<caf::actor>(svc->tools),
                     caf::actor_cast<caf::actor>(svc->agent),
                     caf::actor_cast<caf::actor>(svc->responder)})
      if (hdl)
        caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    run();
  }

  /// Rows of chat_events of the test's session with this type.
  std::int64_t events(const std::string& type) {
    long long n = 0;
    long long id = session_id;
    std::string t = type;
    probe().sql() << "SELECT COUNT(*) FROM chat_events WHERE session_id = :s "
                     "AND event_type = :t",
      soci::use(id), soci::use(t), soci::into(n);
    return n;
  }

  std::shared_ptr<service_directory> directory
    = std::make_shared<service_directory>();
  tool_settings tool_options;
  tool_actor tools;
  std::int64_t session_id = 0;
};

} // namespace parley::test
