#include "storage/sql_support.hpp"

#include <algorithm>

#include "storage/database.hpp"
#include "storage/error_translation.hpp"
#include "storage/storage_error.hpp"

namespace parley::storage::detail {

// -- rows both repositories read ----------------------------------------------

message_record message_row::to_record() const {
  message_record result;
  result.id = id.get();
  result.session_id = session_id.get();
  result.user_id = user_id.get();
  result.is_user = is_user.get() != 0;
  result.role = role.get();
  result.content = content.get();
  result.message_type = message_type.get();
  result.tokens_used = tokens_used.get();
  result.response_time = response_time.get();
  result.client_id = client_id.get();
  result.reply_to = reply_to.get();
  result.seq = seq.get();
  result.source = source.get();
  result.finish_reason = finish_reason.get();
  result.created_at = created_at.get();
  result.author = author.get();
  return result;
}

void bind_into(soci::statement& st, message_row& row) {
  into(st, row.id);
  into(st, row.session_id);
  into(st, row.user_id);
  into(st, row.is_user);
  into(st, row.role);
  into(st, row.content);
  into(st, row.message_type);
  into(st, row.tokens_used);
  into(st, row.response_time);
  into(st, row.client_id);
  into(st, row.reply_to);
  into(st, row.seq);
  into(st, row.source);
  into(st, row.finish_reason);
  into(st, row.created_at);
  into(st, row.author);
}

session_record session_row::to_record() const {
  session_record result;
  result.id = id.get();
  result.user_id = user_id.get();
  result.title = title.get();
  result.status = status.get();
  result.channel = channel.get();
  result.resume_token_hash = resume_token_hash.get();
  result.created_at = created_at.get();
  result.updated_at = updated_at.get();
  return result;
}

void bind_into(soci::statement& st, session_row& row) {
  into(st, row.id);
  into(st, row.user_id);
  into(st, row.title);
  into(st, row.status);
  into(st, row.channel);
  into(st, row.resume_token_hash);
  into(st, row.created_at);
  into(st, row.updated_at);
}

// -- prepared statements ------------------------------------------------------

statement_cache::statement_cache(database& db)
  : sql(db.sql()), returning(db.backend() == db_backend::postgresql) {
  // nop
}

long long statement_cache::execute_insert(soci::statement& st,
                                          const char* table) {
  new_id = 0;
  st.execute(true);
  if (!returning && !sql.get_last_insert_id(table, new_id))
    throw storage_error(storage_errc::internal,
                        std::string{"no id for the new row in "} + table);
  return new_id;
}

long long statement_cache::fetch_scalar(soci::statement& st) {
  scalar = 0;
  fetch_one(st, [] {});
  return scalar;
}

void statement_cache::recover() {
  if (broken != nullptr) {
    broken->reset();
    broken = nullptr;
  }
}

void statement_cache::fail(const char* context) {
  try {
    throw;
  } catch (const storage_error&) {
    throw; // ours (not_found, ...): no statement failed
  } catch (...) {
    broken = last;
    rethrow_as_storage_error(context);
  }
}

// -- transactions -------------------------------------------------------------

own_transaction::own_transaction(database& db)
  : db_(db), owned_(!db.in_transaction()) {
  if (owned_)
    db_.begin();
}

own_transaction::~own_transaction() {
  if (owned_)
    db_.rollback();
}

void own_transaction::commit() {
  if (owned_) {
    owned_ = false;
    db_.commit();
  }
}

// -- input checks and errors --------------------------------------------------

void throw_constraint(const char*, const std::string& what) {
  // The message reaches API clients (409): say what is wrong, not where.
  throw storage_error(storage_errc::constraint, what);
}

void throw_not_found(const char*, const char* what, const std::string& key) {
  // The message reaches API clients (404) as it is: "no session 7", the
  // same from every operation, and never the name of the function.
  throw storage_error(storage_errc::not_found,
                      std::string{"no "} + what + " " + key);
}

void throw_unknown_session(const char* operation, std::int64_t session_id) {
  throw_not_found(operation, "session", std::to_string(session_id));
}

void check_length(const char* operation, const char* column,
                  const std::string& value, std::size_t limit) {
  if (value.size() <= limit)
    return;
  auto chars = static_cast<std::size_t>(
    std::count_if(value.begin(), value.end(),
                  [](unsigned char ch) { return (ch & 0xC0) != 0x80; }));
  if (chars > limit)
    throw_constraint(operation, std::string{column} + " is longer than "
                                  + std::to_string(limit) + " characters");
}

void check_text(const char* operation, const char* column,
                const std::string& value) {
  constexpr std::size_t limit = 65535;
  if (value.size() > limit)
    throw_constraint(operation, std::string{column} + " is longer than "
                                  + std::to_string(limit) + " bytes");
}

void check_required(const char* operation, const char* column,
                    const std::string& value) {
  if (value.empty())
    throw_constraint(operation, std::string{column} + " must not be empty");
}

} // namespace parley::storage::detail
