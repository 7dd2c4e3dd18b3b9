#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace soci {
class session;
} // namespace soci

namespace parley::test {

/// A row of `messages`, as far as the tests look at it.
struct stored_message {
  std::int64_t id = 0;
  std::int64_t session_id = 0;
  bool is_user = false;
  std::string role;
  std::string content;
  std::string client_id;    // empty when NULL
  std::int64_t reply_to = 0; // 0 when NULL
  std::int64_t seq = 0;
  std::string source;
};

/// Reads the server's SQLite file with plain SQL, after the server exited.
/// Deliberately not the server's own repository code: the tests check what
/// is on disk, not what that code believes is there.
class db_probe {
public:
  explicit db_probe(const std::string& sqlite_path);
  ~db_probe();

  db_probe(const db_probe&) = delete;
  db_probe& operator=(const db_probe&) = delete;

  std::optional<stored_message> message(std::int64_t id);

  /// User rows with this id (0 or 1).
  std::int64_t user_rows(std::int64_t message_id);

  /// Assistant rows that answer `message_id`.
  std::int64_t replies_to(std::int64_t message_id);

  /// User rows of the session that carry this client id.
  std::int64_t user_rows_with_client_id(std::int64_t session_id,
                                        const std::string& client_id);

  /// User rows of the session.
  std::int64_t user_rows_in_session(std::int64_t session_id);

  /// Rows of `chat_events` of the session with this event_type.
  std::int64_t events(std::int64_t session_id, const std::string& event_type);

private:
  std::unique_ptr<soci::session> sql_;
};

} // namespace parley::test
