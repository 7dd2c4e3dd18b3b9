#include "storage/storage_error.hpp"

#include <cstring>
#include <exception>

#include <soci/mysql/soci-mysql.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "storage/error_translation.hpp"

namespace parley::storage {

const char* to_string(storage_errc code) noexcept {
  switch (code) {
    case storage_errc::unavailable:
      return "unavailable";
    case storage_errc::constraint:
      return "constraint";
    case storage_errc::not_found:
      return "not_found";
    case storage_errc::internal:
      return "internal";
  }
  return "unknown";
}

namespace detail {

namespace {

storage_errc classify_sqlite(int result) {
  // SOCI reports the primary result code of sqlite3_step / sqlite3_exec.
  switch (result & 0xff) {
    case SQLITE_CONSTRAINT:
      return storage_errc::constraint;
    case SQLITE_BUSY:     // another connection holds the write lock
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
      return storage_errc::unavailable;
    default:
      return storage_errc::internal;
  }
}

storage_errc classify_postgresql(const std::string& state) {
  auto has_prefix = [&state](const char* prefix) {
    return state.compare(0, std::strlen(prefix), prefix) == 0;
  };
  // integrity_constraint_violation; value too long for its column; numeric
  // value out of range
  if (has_prefix("23") || state == "22001" || state == "22003")
    return storage_errc::constraint;
  // Connection exceptions, server shutdown or restart, too many connections,
  // and transactions the server aborted that a retry can complete.
  if (has_prefix("08") || has_prefix("57P") || state == "53300"
      || state == "40001" || state == "40P01")
    return storage_errc::unavailable;
  return storage_errc::internal;
}

storage_errc classify_mysql(unsigned code) {
  switch (code) {
    case 1062: // ER_DUP_ENTRY
    case 1586: // ER_DUP_ENTRY_WITH_KEY_NAME
    case 1216: // ER_NO_REFERENCED_ROW
    case 1217: // ER_ROW_IS_REFERENCED
    case 1451: // ER_ROW_IS_REFERENCED_2
    case 1452: // ER_NO_REFERENCED_ROW_2
    case 1048: // ER_BAD_NULL_ERROR
    case 1264: // ER_WARN_DATA_OUT_OF_RANGE (strict mode)
    case 1406: // ER_DATA_TOO_LONG (strict mode)
    case 3819: // MySQL: check constraint violated
    case 4025: // MariaDB: ER_CONSTRAINT_FAILED
      return storage_errc::constraint;
    case 1040: // ER_CON_COUNT_ERROR
    case 1053: // ER_SERVER_SHUTDOWN
    case 1205: // ER_LOCK_WAIT_TIMEOUT
    case 1213: // ER_LOCK_DEADLOCK
    case 1927: // ER_CONNECTION_KILLED
    case 4031: // MariaDB: idle session closed by the server
      return storage_errc::unavailable;
    default:
      // 2000-2999 are client library errors: lost or refused connections.
      return code >= 2000 && code < 3000 ? storage_errc::unavailable
                                         : storage_errc::internal;
  }
}

storage_errc classify(const soci::soci_error& err) {
  if (auto ptr = dynamic_cast<const soci::sqlite3_soci_error*>(&err))
    return classify_sqlite(ptr->result());
  if (auto ptr = dynamic_cast<const soci::postgresql_soci_error*>(&err))
    return classify_postgresql(ptr->sqlstate());
  if (auto ptr = dynamic_cast<const soci::mysql_soci_error*>(&err))
    return classify_mysql(ptr->err_num_);
  switch (err.get_error_category()) {
    case soci::soci_error::connection_error:
      return storage_errc::unavailable;
    case soci::soci_error::constraint_violation:
      return storage_errc::constraint;
    default:
      return storage_errc::internal;
  }
}

// Database messages often end in newlines (libpq); they make log lines ugly.
std::string trimmed(std::string str) {
  while (!str.empty()
         && (str.back() == '\n' || str.back() == ' ' || str.back() == '\r'))
    str.pop_back();
  return str;
}

} // namespace

void rethrow_as_storage_error(const std::string& context) {
  auto prefix = context.empty() ? std::string{} : context + ": ";
  try {
    throw;
  } catch (const storage_error&) {
    throw;
  } catch (const soci::soci_error& err) {
    // get_error_message() leaves out SOCI's context, which would repeat the
    // query with its bound values (message content) in every log line.
    throw storage_error(classify(err), prefix + trimmed(err.get_error_message()));
  } catch (const std::exception& err) {
    throw storage_error(storage_errc::internal, prefix + err.what());
  }
}

} // namespace detail

} // namespace parley::storage
