#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/admin_records.hpp"

namespace parley::storage {

class database;

/// SQL behind the REST admin API: users, sessions, messages and settings.
/// Like chat_repository: bound parameters only, runs in the caller's
/// transaction (or autocommit), SOCI errors leave as storage_error:
/// not_found for a missing id or key, constraint for a duplicate email or a
/// value that breaks the schema.
class admin_repository {
public:
  explicit admin_repository(database& db);
  ~admin_repository();

  admin_repository(const admin_repository&) = delete;
  admin_repository& operator=(const admin_repository&) = delete;

  // -- users ------------------------------------------------------------------

  user_page list_users(const user_query& query);
  user_record find_user(std::int64_t id);
  std::optional<user_record> find_user_by_email(const std::string& email);
  user_record create_user(const new_user& user);
  user_record update_user(std::int64_t id, const user_patch& patch);
  /// Deletes the user; their sessions stay, with user_id set to NULL.
  void remove_user(std::int64_t id);
  /// The user with this email, created with `name` when there is none
  /// (the name of an existing user is left alone).
  user_record find_or_create_user(const std::string& email,
                                  const std::string& name);

  // -- sessions ---------------------------------------------------------------

  session_page list_sessions(const session_query& query);
  session_details find_session(std::int64_t id, bool with_messages);
  session_listing update_session(std::int64_t id, const session_patch& patch);
  /// Deletes the session with its messages and events.
  void remove_session(std::int64_t id);

  // -- messages ---------------------------------------------------------------

  message_page list_messages(const message_query& query);

  // -- settings ---------------------------------------------------------------

  /// All settings, or those of one category, ordered by key.
  std::vector<setting_record> list_settings(const std::string& category);
  setting_record find_setting(const std::string& key);
  /// Updates a setting; a key not seen before is created in category
  /// "general".
  setting_record put_setting(const std::string& key,
                             const setting_patch& patch);

private:
  struct statements;
  database& db_;
  std::unique_ptr<statements> stmts_;
};

} // namespace parley::storage
