#include "actors/knowledge_actor.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "config/logging.hpp"

namespace parley {

namespace {

using self_pointer = knowledge_actor::stateful_pointer<knowledge_state>;
using nlohmann::json;

/// Brings the index up to date and logs what changed and what was skipped.
agent::refresh_report refresh(self_pointer self) {
  auto& st = self->state;
  auto started = std::chrono::steady_clock::now();
  auto report = st.base->refresh();
  for (const auto& problem : report.problems)
    st.log->warn("knowledge file {} skipped: {}", problem.path,
                 problem.reason);
  if (report.changed()) {
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
    st.log->info("knowledge base {}: {} documents, {} sections ({} added, {} "
                 "updated, {} removed; {} ms)",
                 st.base->root().string(), st.base->index().document_count(),
                 st.base->index().section_count(), report.added.size(),
                 report.updated.size(), report.removed.size(), took.count());
  }
  return report;
}

json summary(const agent::knowledge_base& base,
             const agent::refresh_report& report) {
  json problems = json::array();
  for (const auto& problem : base.problems())
    problems.push_back({{"path", problem.path}, {"reason", problem.reason}});
  return json{{"documents", base.index().document_count()},
              {"sections", base.index().section_count()},
              {"added", report.added},
              {"updated", report.updated},
              {"removed", report.removed},
              {"problems", problems}};
}

void schedule_tick(self_pointer self) {
  auto interval = self->state.settings.poll_interval;
  if (interval.count() > 0)
    self->delayed_send(self, interval, tick_atom_v);
}

} // namespace

knowledge_actor::behavior_type knowledge_fun(self_pointer self,
                                             knowledge_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.log = logger("knowledge");
  st.base = std::make_unique<agent::knowledge_base>(st.settings.dir);
  auto first = refresh(self);
  if (!first.changed())
    st.log->warn("knowledge base {} has no documents",
                 st.base->root().string());
  schedule_tick(self);
  return {
    [self](search_atom, const std::string& query,
           std::int32_t top_k) -> std::string {
      auto k = static_cast<std::size_t>(std::clamp<std::int32_t>(
        top_k, 1,
        static_cast<std::int32_t>(agent::knowledge_index::max_top_k)));
      json result = self->state.base->search(query, k);
      return result.dump(-1, ' ', false, json::error_handler_t::replace);
    },
    [self](reload_atom) -> std::string {
      auto report = refresh(self);
      return summary(*self->state.base, report)
        .dump(-1, ' ', false, json::error_handler_t::replace);
    },
    [self](tick_atom) {
      refresh(self);
      schedule_tick(self);
    },
  };
}

} // namespace parley
