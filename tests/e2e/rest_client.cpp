#include "tests/e2e/rest_client.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <stdexcept>

namespace parley::test {

namespace {

using json = nlohmann::json;

std::string shorten(const std::string& text, std::size_t max = 600) {
  if (text.size() <= max)
    return text;
  return text.substr(0, max) + "... (" + std::to_string(text.size())
         + " bytes)";
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

/// "application/json" or "application/json; charset=utf-8".
bool is_json_content_type(const std::string& value) {
  auto media = value.substr(0, value.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.pop_back();
  return iequals(media, "application/json");
}

/// `value[name]`, or null when `value` is no object or lacks it.
json member_or_null(const json& value, const char* name) {
  if (!value.is_object())
    return nullptr;
  auto it = value.find(name);
  return it == value.end() ? json(nullptr) : *it;
}

::testing::AssertionResult fail(const rest_reply& reply,
                                const std::string& why) {
  return ::testing::AssertionFailure() << why << "\n  " << reply.describe();
}

// -- member checks ------------------------------------------------------------

/// Collects what is wrong with an object, member by member.
class shape_check {
public:
  shape_check(const json& value, const char* what) : value_(value), what_(what) {
    if (!value.is_object())
      problems_ += "\n  not a JSON object";
  }

  const json* member(const char* name) {
    if (!value_.is_object())
      return nullptr;
    auto it = value_.find(name);
    if (it == value_.end()) {
      problems_ += std::string{"\n  no \""} + name + "\"";
      return nullptr;
    }
    return &*it;
  }

  void positive_integer(const char* name) {
    if (auto* v = member(name);
        v != nullptr && !(v->is_number_integer() && v->get<std::int64_t>() > 0))
      wrong(name, "a positive integer", *v);
  }

  void integer_or_null(const char* name) {
    if (auto* v = member(name);
        v != nullptr && !v->is_null()
        && !(v->is_number_integer() && v->get<std::int64_t>() > 0))
      wrong(name, "a positive integer or null", *v);
  }

  void non_negative_integer(const char* name) {
    if (auto* v = member(name);
        v != nullptr && !(v->is_number_integer() && v->get<std::int64_t>() >= 0))
      wrong(name, "an integer >= 0", *v);
  }

  void non_negative_number(const char* name) {
    if (auto* v = member(name);
        v != nullptr && !(v->is_number() && v->get<double>() >= 0))
      wrong(name, "a number >= 0", *v);
  }

  void string(const char* name) {
    if (auto* v = member(name); v != nullptr && !v->is_string())
      wrong(name, "a string", *v);
  }

  void non_empty_string(const char* name) {
    if (auto* v = member(name);
        v != nullptr && !(v->is_string() && !v->get<std::string>().empty()))
      wrong(name, "a non-empty string", *v);
  }

  void string_or_null(const char* name) {
    if (auto* v = member(name); v != nullptr && !v->is_string() && !v->is_null())
      wrong(name, "a string or null", *v);
  }

  void boolean(const char* name) {
    if (auto* v = member(name); v != nullptr && !v->is_boolean())
      wrong(name, "a boolean", *v);
  }

  void object(const char* name) {
    if (auto* v = member(name); v != nullptr && !v->is_object())
      wrong(name, "a JSON object", *v);
  }

  void one_of(const char* name, std::initializer_list<const char*> values) {
    auto* v = member(name);
    if (v == nullptr)
      return;
    if (v->is_string())
      for (auto* allowed : values)
        if (v->get<std::string>() == allowed)
          return;
    std::string list;
    for (auto* allowed : values)
      list += std::string{list.empty() ? "" : " or "} + '"' + allowed + '"';
    wrong(name, list.c_str(), *v);
  }

  /// "2025-08-03T12:00:00..." (ISO 8601 date and time).
  void timestamp(const char* name) {
    static const std::regex iso{R"(^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})"};
    auto* v = member(name);
    if (v == nullptr)
      return;
    if (!v->is_string() || !std::regex_search(v->get<std::string>(), iso))
      wrong(name, "an ISO 8601 timestamp string", *v);
  }

  ::testing::AssertionResult result() const {
    if (problems_.empty())
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "not a valid " << what_ << ":" << problems_ << "\n  in "
           << shorten(value_.dump(), 1000);
  }

private:
  void wrong(const char* name, const char* expected, const json& got) {
    problems_ += std::string{"\n  \""} + name + "\" should be " + expected
                 + ", is " + shorten(got.dump(), 120);
  }

  const json& value_;
  const char* what_;
  std::string problems_;
};

} // namespace

// -- rest_reply ---------------------------------------------------------------

std::string rest_reply::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name))
      return value;
  return {};
}

const nlohmann::json& rest_reply::data() const {
  if (!json.is_object() || !json.contains("data"))
    throw std::runtime_error("the response has no \"data\": " + describe());
  return json["data"];
}

std::string rest_reply::describe() const {
  std::string result = method + " " + target;
  for (const auto& [key, value] : request_headers)
    result += " [" + key + ": " + value + "]";
  if (!request_body.empty())
    result += " " + shorten(request_body, 300);
  result += " -> " + std::to_string(status);
  auto allow = header("Allow");
  if (!allow.empty())
    result += " [Allow: " + allow + "]";
  auto type = header("Content-Type");
  if (!type.empty() && !is_json_content_type(type))
    result += " [Content-Type: " + type + "]";
  result += " " + (body.empty() ? std::string{"(empty body)"} : shorten(body));
  return result;
}

// -- rest_client --------------------------------------------------------------

rest_reply rest_client::send(const std::string& method,
                             const std::string& target, const std::string& body,
                             const http_headers& headers,
                             std::chrono::milliseconds timeout) {
  auto sent = headers;
  auto has_auth = std::any_of(sent.begin(), sent.end(), [](const auto& h) {
    return iequals(h.first, "Authorization");
  });
  if (!token_.empty() && !has_auth)
    sent.insert(sent.begin(), {"Authorization", "Bearer " + token_});
  auto response = http_request(host_, port_, method, target, body, sent,
                               timeout);
  rest_reply reply;
  reply.method = method;
  reply.target = target;
  reply.request_body = body;
  reply.request_headers = sent;
  reply.status = response.status;
  reply.headers = std::move(response.headers);
  reply.body = std::move(response.body);
  reply.json = json::parse(reply.body, nullptr, false);
  return reply;
}

rest_reply rest_client::send_json_text(const std::string& method,
                                       const std::string& target,
                                       const std::string& body) {
  return send(method, target, body, {{"Content-Type", "application/json"}});
}

rest_reply rest_client::get(const std::string& target) {
  return send("GET", target);
}

rest_reply rest_client::post(const std::string& target, const json& body) {
  return send_json_text("POST", target, body.dump());
}

rest_reply rest_client::put(const std::string& target, const json& body) {
  return send_json_text("PUT", target, body.dump());
}

rest_reply rest_client::del(const std::string& target) {
  return send("DELETE", target);
}

// -- envelope checks ----------------------------------------------------------

::testing::AssertionResult is_success(const rest_reply& reply,
                                      unsigned status) {
  if (reply.status != status)
    return fail(reply, "expected status " + std::to_string(status));
  if (!is_json_content_type(reply.header("Content-Type")))
    return fail(reply, "Content-Type is not application/json");
  if (!reply.json.is_object())
    return fail(reply, "the body is not a JSON object");
  if (member_or_null(reply.json, "success") != true)
    return fail(reply, "\"success\" is not true");
  if (!reply.json.contains("data"))
    return fail(reply, "no \"data\"");
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_error(const rest_reply& reply, unsigned status) {
  if (reply.status != status)
    return fail(reply, "expected status " + std::to_string(status));
  if (!is_json_content_type(reply.header("Content-Type")))
    return fail(reply, "Content-Type is not application/json");
  if (!reply.json.is_object())
    return fail(reply, "the body is not a JSON object");
  if (member_or_null(reply.json, "success") != false)
    return fail(reply, "\"success\" is not false");
  auto error = member_or_null(reply.json, "error");
  if (!error.is_string() || error.get<std::string>().empty())
    return fail(reply, "\"error\" is not a non-empty string");
  if (reply.json.contains("data"))
    return fail(reply, "an error response carries \"data\"");
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_client_error(const rest_reply& reply) {
  if (reply.status < 400 || reply.status >= 500)
    return fail(reply, "expected a 4xx status for bad input");
  return is_error(reply, reply.status);
}

::testing::AssertionResult has_pagination(const rest_reply& reply,
                                          std::int64_t page, std::int64_t limit,
                                          std::int64_t total,
                                          std::int64_t pages) {
  if (!reply.json.is_object() || !reply.json.contains("pagination"))
    return fail(reply, "no \"pagination\"");
  json expected{{"page", page}, {"limit", limit}, {"total", total},
                {"pages", pages}};
  const auto& got = reply.json["pagination"];
  if (got != expected)
    return fail(reply, "pagination should be " + expected.dump() + ", is "
                         + got.dump());
  if (!reply.json.contains("data") || !reply.json["data"].is_array())
    return fail(reply, "\"data\" is not an array");
  auto before = (page - 1) * limit;
  auto items = std::max<std::int64_t>(0, std::min(limit, total - before));
  auto size = static_cast<std::int64_t>(reply.json["data"].size());
  if (size != items)
    return fail(reply, "page " + std::to_string(page) + " of " + std::to_string(total)
                         + " items with limit " + std::to_string(limit)
                         + " should hold " + std::to_string(items)
                         + " items, holds " + std::to_string(size));
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult has_consistent_pagination(const rest_reply& reply,
                                                     std::int64_t page,
                                                     std::int64_t limit) {
  if (!reply.json.is_object() || !reply.json.contains("pagination"))
    return fail(reply, "no \"pagination\"");
  const auto& p = reply.json["pagination"];
  for (const char* key : {"page", "limit", "total", "pages"})
    if (!p.contains(key) || !p[key].is_number_integer())
      return fail(reply, std::string{"pagination."} + key
                           + " is not an integer");
  auto total = p["total"].get<std::int64_t>();
  if (total < 0)
    return fail(reply, "pagination.total is negative");
  auto pages = (total + limit - 1) / limit;
  return has_pagination(reply, page, limit, total, pages);
}

// -- object shapes ------------------------------------------------------------

::testing::AssertionResult is_user_object(const json& user) {
  shape_check c{user, "user"};
  c.positive_integer("id");
  c.string("name");
  c.string("email");
  c.string_or_null("avatar_url");
  c.non_empty_string("status");
  c.object("preferences");
  c.timestamp("created_at");
  c.timestamp("updated_at");
  return c.result();
}

::testing::AssertionResult is_session_object(const json& session) {
  shape_check c{session, "session"};
  c.positive_integer("id");
  c.integer_or_null("user_id");
  c.string("title");
  c.one_of("status", {"active", "inactive"});
  c.non_empty_string("channel");
  c.non_negative_integer("message_count");
  c.timestamp("created_at");
  c.timestamp("updated_at");
  return c.result();
}

::testing::AssertionResult is_message_object(const json& message) {
  shape_check c{message, "message"};
  c.positive_integer("id");
  c.positive_integer("session_id");
  c.integer_or_null("user_id");
  c.boolean("is_user");
  c.one_of("role", {"user", "assistant", "agent"});
  c.string("message");
  c.non_empty_string("message_type");
  c.non_negative_integer("tokens_used");
  c.non_negative_number("response_time");
  c.string_or_null("client_id");
  c.integer_or_null("reply_to");
  // "fallback" etc. on answers; the spec leaves user rows open (the server
  // writes null there), the tests check answers' source explicitly.
  c.string_or_null("source");
  c.timestamp("created_at");
  return c.result();
}

::testing::AssertionResult is_setting_object(const json& setting) {
  shape_check c{setting, "setting"};
  c.positive_integer("id");
  c.non_empty_string("key");
  c.string("value");
  c.string("description");
  c.string("category");
  c.timestamp("created_at");
  c.timestamp("updated_at");
  return c.result();
}

std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string result;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      result += static_cast<char>(ch);
    } else {
      result += '%';
      result += hex[ch >> 4];
      result += hex[ch & 0x0F];
    }
  }
  return result;
}

} // namespace parley::test
