#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "storage/admin_records.hpp"

// The REST API's JSON shapes, kept as the original chatbot documented them.
// Pure: no Beast, no CAF.
namespace parley::transport::rest {

nlohmann::json user_json(const storage::user_record& user);
nlohmann::json session_json(const storage::session_listing& listing);
nlohmann::json message_json(const storage::message_record& message);
nlohmann::json setting_json(const storage::setting_record& setting);
nlohmann::json pagination_json(const storage::page_info& page);

/// `{"success":true,"data":data}` as text.
std::string success_body(nlohmann::json data);

/// `{"success":true,"data":items,"pagination":{...}}` as text.
std::string list_body(nlohmann::json items, const storage::page_info& page);

/// `{"success":false,"error":message}` as text.
std::string error_body(const std::string& message);

/// Serializes without ever throwing on invalid UTF-8.
std::string dump(const nlohmann::json& value);

} // namespace parley::transport::rest
