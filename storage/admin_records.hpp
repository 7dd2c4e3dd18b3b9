#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/records.hpp"

// Rows and queries of the REST admin API. Plain data like records.hpp; the
// inspect() overloads are in actors/messages.hpp. Optional fields of a patch
// are a `set_x` flag plus the value, which CAF 0.17 can serialize.
namespace parley::storage {

struct user_record {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  std::string avatar_url;  // empty = none (JSON null)
  std::string status;      // "active", ...
  std::string preferences; // a JSON object as text, "{}" when none
  std::string created_at;
  std::string updated_at;
};

struct new_user {
  std::string name;
  std::string email;
  std::string avatar_url;
  std::string preferences; // JSON object text; empty = "{}"
};

struct user_patch {
  bool set_name = false;
  std::string name;
  bool set_email = false;
  std::string email;
  bool set_avatar_url = false;
  std::string avatar_url;
  bool set_status = false;
  std::string status;
  bool set_preferences = false;
  std::string preferences;
};

/// Page numbers start at 1; `limit` is 1..100 (checked by the caller).
struct page_request {
  std::int64_t page = 1;
  std::int64_t limit = 10;
};

struct page_info {
  std::int64_t page = 1;
  std::int64_t limit = 10;
  std::int64_t total = 0;
  std::int64_t pages = 0; // ceil(total / limit); 0 when total is 0
};

struct user_query {
  page_request page;
  std::string search; // substring of name or email, case-insensitive; "" = all
};

struct user_page {
  std::vector<user_record> items; // ordered by id
  page_info page;
};

/// A session with its number of messages, as the session list shows it.
struct session_listing {
  session_record session;
  std::int64_t message_count = 0;
};

struct session_query {
  page_request page;
  std::int64_t user_id = 0; // 0 = every user
  std::string status;       // "active", "inactive", "handoff" or "all"
};

struct session_page {
  std::vector<session_listing> items; // newest first (updated_at, id)
  page_info page;
};

struct session_patch {
  bool set_title = false;
  std::string title;
  bool set_status = false;
  std::string status;
};

struct session_details {
  session_listing listing;
  bool with_messages = false;
  std::vector<message_record> messages; // by created_at, then id
};

struct message_query {
  page_request page;
  std::int64_t session_id = 0; // 0 = every session
  std::int64_t user_id = 0;    // 0 = every user
  /// Only messages with a larger id (0: all), so that a console polling a
  /// transcript fetches only what is new.
  std::int64_t after_id = 0;
};

struct message_page {
  std::vector<message_record> items; // by created_at, then id
  page_info page;
};

struct setting_record {
  std::int64_t id = 0;
  std::string key;
  std::string value;
  std::string description;
  std::string category;
  std::string created_at;
  std::string updated_at;
};

struct setting_patch {
  std::string value;
  bool set_description = false;
  std::string description;
};

} // namespace parley::storage
