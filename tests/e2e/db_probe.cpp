#include "tests/e2e/db_probe.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace parley::test {

db_probe::db_probe(const std::string& sqlite_path)
  : sql_(std::make_unique<soci::session>(
    soci::sqlite3, "db=" + sqlite_path + " timeout=5")) {
  // nop
}

db_probe::~db_probe() = default;

std::optional<stored_message> db_probe::message(std::int64_t id) {
  long long row_id = 0;
  long long session_id = 0;
  int is_user = 0;
  std::string role;
  std::string content;
  std::string client_id;
  long long reply_to = 0;
  long long seq = 0;
  std::string source;
  soci::indicator ind_role = soci::i_ok;
  soci::indicator ind_client = soci::i_ok;
  soci::indicator ind_reply = soci::i_ok;
  soci::indicator ind_seq = soci::i_ok;
  soci::indicator ind_source = soci::i_ok;
  long long key = id;
  *sql_ << "SELECT id, session_id, is_user, role, content, client_id, "
           "reply_to, seq, source FROM messages WHERE id = :id",
    soci::into(row_id), soci::into(session_id), soci::into(is_user),
    soci::into(role, ind_role), soci::into(content),
    soci::into(client_id, ind_client), soci::into(reply_to, ind_reply),
    soci::into(seq, ind_seq), soci::into(source, ind_source), soci::use(key);
  if (!sql_->got_data())
    return std::nullopt;
  stored_message result;
  result.id = row_id;
  result.session_id = session_id;
  result.is_user = is_user != 0;
  result.role = ind_role == soci::i_ok ? role : std::string{};
  result.content = content;
  result.client_id = ind_client == soci::i_ok ? client_id : std::string{};
  result.reply_to = ind_reply == soci::i_ok ? reply_to : 0;
  result.seq = ind_seq == soci::i_ok ? seq : 0;
  result.source = ind_source == soci::i_ok ? source : std::string{};
  return result;
}

std::int64_t db_probe::user_rows(std::int64_t message_id) {
  long long count = 0;
  long long key = message_id;
  *sql_ << "SELECT COUNT(*) FROM messages WHERE id = :id AND is_user = 1",
    soci::into(count), soci::use(key);
  return count;
}

std::int64_t db_probe::replies_to(std::int64_t message_id) {
  long long count = 0;
  long long key = message_id;
  *sql_ << "SELECT COUNT(*) FROM messages WHERE reply_to = :id "
           "AND is_user = 0",
    soci::into(count), soci::use(key);
  return count;
}

std::int64_t db_probe::user_rows_with_client_id(std::int64_t session_id,
                                                const std::string& client_id) {
  long long count = 0;
  long long key = session_id;
  *sql_ << "SELECT COUNT(*) FROM messages WHERE session_id = :s "
           "AND client_id = :c AND is_user = 1",
    soci::into(count), soci::use(key), soci::use(client_id);
  return count;
}

std::int64_t db_probe::user_rows_in_session(std::int64_t session_id) {
  long long count = 0;
  long long key = session_id;
  *sql_ << "SELECT COUNT(*) FROM messages WHERE session_id = :s "
           "AND is_user = 1",
    soci::into(count), soci::use(key);
  return count;
}

std::int64_t db_probe::events(std::int64_t session_id,
                              const std::string& event_type) {
  long long count = 0;
  long long key = session_id;
  *sql_ << "SELECT COUNT(*) FROM chat_events WHERE session_id = :s "
           "AND event_type = :t",
    soci::into(count), soci::use(key), soci::use(event_type);
  return count;
}

} // namespace parley::test
