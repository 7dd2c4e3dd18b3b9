#include "actors/asker.hpp"

namespace parley {

caf::behavior asker_fun(asker_pointer self, caf::actor owner) {
  // Monitored, not linked: an asker that fails must not take its owner
  // down with it.
  self->monitor(owner);
  self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
  return {
    [self](asker_job& job) { job.run(self); },
    [self](deadline_atom) { on_deadline(self); },
  };
}

} // namespace parley
