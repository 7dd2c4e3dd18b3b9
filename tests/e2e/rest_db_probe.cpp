#include "tests/e2e/rest_db_probe.hpp"

#include <stdexcept>

#include <soci/soci.h>

#include "storage/database.hpp"

namespace parley::test {

rest_db_probe::rest_db_probe(scratch_database& db)
  : db_(std::make_unique<storage::database>(db.url())) {
  // nop
}

rest_db_probe::~rest_db_probe() = default;

std::int64_t rest_db_probe::rows(const std::string& table,
                                 std::int64_t session_id) {
  if (table != "messages" && table != "chat_events")
    throw std::invalid_argument("rest_db_probe::rows: unexpected table "
                                + table);
  long long count = 0;
  long long key = session_id;
  db_->sql() << "SELECT COUNT(*) FROM " + table + " WHERE session_id = :s",
    soci::into(count), soci::use(key);
  return count;
}

} // namespace parley::test
