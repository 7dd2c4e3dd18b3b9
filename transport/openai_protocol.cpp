#include "transport/openai_protocol.hpp"

#include <cmath>
#include <limits>
#include <utility>

#include "transport/llm_json.hpp"

namespace parley::llm {

namespace {

using json = nlohmann::json;
using detail::as_count;
using detail::bad_field;
using detail::dump;
using detail::id_text;
using detail::member;
using detail::truncate_utf8;

/// Whether `text`, read as JSON, nests at most `max_depth` levels. Exact for
/// valid JSON, which is all that matters: invalid JSON fails to parse anyway.
bool nesting_within(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth)
          return false;
        break;
      case ']':
      case '}':
        if (depth > 0)
          --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

/// parse_json with the reason for a failure, for `malformed` values.
json parse_explained(std::string_view text, std::string_view what,
                     std::string& reason) {
  if (!nesting_within(text, max_json_depth)) {
    reason = std::string{what} + " nests deeper than "
             + std::to_string(max_json_depth) + " levels";
    return json(json::value_t::discarded);
  }
  auto doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    reason = std::string{what} + " is not valid JSON";
  return doc;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view space = " \t\r\n";
  auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

/// Reads an optional string member: absent or null leaves `out` alone.
/// False when present with another type.
bool read_string(const json& obj, const char* key, std::string& out) {
  auto it = member(obj, key);
  if (it == nullptr)
    return true;
  if (!it->is_string())
    return false;
  out = it->get<std::string>();
  return true;
}

/// The error an object reports, if it has a non-null `error` member:
/// `{"error":{"message","type","code"}}`, or `{"error":"text"}`.
std::optional<openai::api_error> error_member(const json& doc) {
  auto it = member(doc, "error");
  if (it == nullptr || (it->is_boolean() && !it->get<bool>()))
    return std::nullopt;
  openai::api_error result;
  if (it->is_string()) {
    result.message = it->get<std::string>();
  } else if (it->is_object()) {
    if (auto msg = member(*it, "message"); msg && msg->is_string())
      result.message = msg->get<std::string>();
    if (auto type = member(*it, "type"); type && type->is_string())
      result.type = type->get<std::string>();
    // OpenAI sends string codes, some servers integers.
    if (auto code = member(*it, "code"))
      result.code = id_text(*code).value_or(std::string{});
  }
  result.message = truncate_utf8(std::move(result.message),
                                 max_failure_message_bytes);
  return result;
}

/// `usage`: missing counts are 0; total_tokens defaults to the sum.
std::variant<openai::token_usage, malformed> parse_usage(const json& value) {
  if (!value.is_object())
    return bad_field("usage", "an object");
  openai::token_usage result;
  auto read = [&](const char* key, std::int64_t& out) {
    auto it = member(value, key);
    if (it == nullptr)
      return true;
    auto n = as_count(*it);
    if (!n)
      return false;
    out = *n;
    return true;
  };
  if (!read("prompt_tokens", result.prompt_tokens))
    return bad_field("usage.prompt_tokens", "a non-negative integer");
  if (!read("completion_tokens", result.completion_tokens))
    return bad_field("usage.completion_tokens", "a non-negative integer");
  bool has_total = member(value, "total_tokens") != nullptr;
  if (!read("total_tokens", result.total_tokens))
    return bad_field("usage.total_tokens", "a non-negative integer");
  if (!has_total) {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    result.total_tokens = result.prompt_tokens > max - result.completion_tokens
                            ? max
                            : result.prompt_tokens + result.completion_tokens;
  }
  return result;
}

/// Reads `usage` into `out` when present; the problem otherwise.
std::optional<malformed> read_usage(const json& doc,
                                    std::optional<openai::token_usage>& out) {
  auto it = member(doc, "usage");
  if (it == nullptr)
    return std::nullopt;
  auto usage = parse_usage(*it);
  if (auto bad = std::get_if<malformed>(&usage))
    return *bad;
  out = std::get<openai::token_usage>(usage);
  return std::nullopt;
}

/// The first choice, or null when there is none; the problem when
/// `choices` has the wrong shape.
std::variant<const json*, malformed> first_choice(const json& doc) {
  auto choices = member(doc, "choices");
  if (choices == nullptr)
    return static_cast<const json*>(nullptr);
  if (!choices->is_array())
    return bad_field("choices", "an array");
  if (choices->empty())
    return static_cast<const json*>(nullptr);
  const auto& choice = choices->front();
  if (!choice.is_object())
    return bad_field("choices[0]", "an object");
  return &choice;
}

failure make_failure(failure_kind kind, std::string message) {
  failure result;
  result.kind = kind;
  switch (kind) {
    case failure_kind::rate_limited:
    case failure_kind::server_error:
    case failure_kind::timeout:
    case failure_kind::connection:
      result.retryable = true;
      result.counts_toward_circuit = true;
      break;
    case failure_kind::quota_exceeded:
      // Retrying cannot help, but every call fails until someone pays: the
      // breaker should open and send users to the fallback at once.
      result.counts_toward_circuit = true;
      break;
    default:
      // Our request, our key or the content: the provider is fine.
      break;
  }
  result.message = std::move(message);
  return result;
}

std::string default_message(failure_kind kind) {
  switch (kind) {
    case failure_kind::rate_limited:
      return "the LLM provider is rate limiting requests";
    case failure_kind::quota_exceeded:
      return "the LLM provider's quota is exhausted";
    case failure_kind::server_error:
      return "the LLM provider failed";
    case failure_kind::timeout:
      return "the LLM provider did not answer in time";
    case failure_kind::connection:
      return "could not reach the LLM provider";
    case failure_kind::bad_request:
      return "the LLM provider rejected the request";
    case failure_kind::unauthorized:
      return "the LLM provider refused the credentials";
    case failure_kind::content_filter:
      return "the LLM provider's content filter refused the conversation";
    case failure_kind::not_found:
      return "the LLM provider does not know the model or endpoint";
    case failure_kind::other:
      break;
  }
  return "the LLM call failed";
}

bool is_content_filter_code(std::string_view code) {
  return code == "content_filter" || code == "content_policy_violation";
}

/// Retry-After as delta-seconds ("30", also "1.5", rounded up), capped at a
/// day; an HTTP date or anything else gives nullopt.
std::optional<std::int64_t> parse_retry_after(std::string_view value) {
  constexpr std::int64_t cap = 86400;
  value = trim(value);
  if (value.empty())
    return std::nullopt;
  std::int64_t seconds = 0;
  std::size_t i = 0;
  for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i)
    if (seconds < cap)
      seconds = seconds * 10 + (value[i] - '0');
  if (i == 0)
    return std::nullopt;
  if (i < value.size()) {
    if (value[i] != '.' || i + 1 == value.size())
      return std::nullopt;
    bool fraction = false;
    for (++i; i < value.size(); ++i) {
      if (value[i] < '0' || value[i] > '9')
        return std::nullopt;
      fraction = fraction || value[i] != '0';
    }
    if (fraction)
      ++seconds;
  }
  return seconds < cap ? seconds : cap;
}

} // namespace

// -- shared -------------------------------------------------------------------

nlohmann::json parse_json(std::string_view text, std::string* reason,
                          std::string_view what) {
  std::string ignored;
  return parse_explained(text, what, reason != nullptr ? *reason : ignored);
}

std::optional<std::string> check_tool_arguments(std::string_view arguments) {
  std::string reason;
  auto doc = parse_explained(arguments, "the arguments", reason);
  if (doc.is_discarded())
    return reason;
  if (!doc.is_object())
    return "the arguments are not a JSON object";
  return std::nullopt;
}

const char* to_string(failure_kind kind) noexcept {
  switch (kind) {
    case failure_kind::rate_limited:
      return "rate_limited";
    case failure_kind::quota_exceeded:
      return "quota_exceeded";
    case failure_kind::server_error:
      return "server_error";
    case failure_kind::timeout:
      return "timeout";
    case failure_kind::connection:
      return "connection";
    case failure_kind::bad_request:
      return "bad_request";
    case failure_kind::unauthorized:
      return "unauthorized";
    case failure_kind::content_filter:
      return "content_filter";
    case failure_kind::not_found:
      return "not_found";
    case failure_kind::other:
      break;
  }
  return "other";
}

failure transport_failure(failure_kind kind, std::string_view detail) {
  return make_failure(kind, detail.empty()
                              ? default_message(kind)
                              : truncate_utf8(std::string{detail},
                                              max_failure_message_bytes));
}

namespace openai {

// -- requests -----------------------------------------------------------------

std::vector<chat_message> messages_from(const std::vector<chat_turn>& history) {
  std::vector<chat_message> result;
  result.reserve(history.size());
  for (const auto& turn : history) {
    chat_message msg;
    msg.role = turn.role == "agent" ? "assistant" : turn.role;
    msg.content = turn.text;
    result.push_back(std::move(msg));
  }
  return result;
}

std::string build_chat_request(const chat_request& request) {
  auto messages = json::array();
  if (!request.system_prompt.empty())
    messages.push_back({{"role", "system"},
                        {"content", request.system_prompt}});
  for (const auto& msg : request.history) {
    json entry = {{"role", msg.role}};
    if (msg.tool_calls.empty()) {
      entry["content"] = msg.content;
    } else {
      // The API wants null, not "", beside tool calls.
      entry["content"] = msg.content.empty() ? json(nullptr)
                                             : json(msg.content);
      auto calls = json::array();
      for (const auto& call : msg.tool_calls)
        calls.push_back({{"id", call.id},
                         {"type", "function"},
                         {"function", {{"name", call.name},
                                       {"arguments", call.arguments}}}});
      entry["tool_calls"] = std::move(calls);
    }
    if (msg.tool_call_id)
      entry["tool_call_id"] = *msg.tool_call_id;
    messages.push_back(std::move(entry));
  }
  json body = {{"model", request.model}, {"messages", std::move(messages)}};
  // tool_choice without tools is a 400, so both go or neither.
  if (!request.tools.empty()) {
    auto tools = json::array();
    for (const auto& tool : request.tools) {
      json function = {{"name", tool.name}};
      if (!tool.description.empty())
        function["description"] = tool.description;
      if (!tool.parameters.is_null() && !tool.parameters.is_discarded())
        function["parameters"] = tool.parameters;
      tools.push_back({{"type", "function"},
                       {"function", std::move(function)}});
    }
    body["tools"] = std::move(tools);
    switch (request.tool_choice.mode) {
      case tool_choice_mode::automatic:
        body["tool_choice"] = "auto";
        break;
      case tool_choice_mode::none:
        body["tool_choice"] = "none";
        break;
      case tool_choice_mode::required:
        body["tool_choice"] = "required";
        break;
      case tool_choice_mode::function:
        body["tool_choice"] = {
          {"type", "function"},
          {"function", {{"name", request.tool_choice.function}}}};
        break;
    }
  }
  body["stream"] = request.stream;
  if (request.stream) {
    // Without it a stream never says how many tokens it used.
    body["stream_options"] = {{"include_usage", true}};
  }
  if (request.max_tokens)
    body["max_tokens"] = *request.max_tokens;
  if (request.temperature && std::isfinite(*request.temperature))
    body["temperature"] = *request.temperature;
  return dump(body);
}

// -- streamed replies ---------------------------------------------------------

namespace {

std::variant<tool_call_delta, malformed> parse_tool_call_delta(
  const json& value, std::size_t position) {
  if (!value.is_object())
    return bad_field("delta.tool_calls[]", "an object");
  tool_call_delta result;
  // Some OpenAI-compatible servers leave out `index`; the position in the
  // array is the best guess then.
  result.index = position;
  if (auto index = member(value, "index")) {
    auto n = as_count(*index);
    if (!n)
      return bad_field("delta.tool_calls[].index", "a non-negative integer");
    result.index = static_cast<std::uint64_t>(*n);
  }
  if (!read_string(value, "id", result.id))
    return bad_field("delta.tool_calls[].id", "a string");
  if (auto function = member(value, "function")) {
    if (!function->is_object())
      return bad_field("delta.tool_calls[].function", "an object");
    if (!read_string(*function, "name", result.name))
      return bad_field("delta.tool_calls[].function.name", "a string");
    if (!read_string(*function, "arguments", result.arguments))
      return bad_field("delta.tool_calls[].function.arguments", "a string");
  }
  return result;
}

} // namespace

stream_item parse_stream_data(std::string_view data) {
  if (trim(data) == "[DONE]")
    return stream_done{};
  std::string reason;
  auto doc = parse_explained(data, "the stream data", reason);
  if (doc.is_discarded())
    return malformed{std::move(reason)};
  if (!doc.is_object())
    return malformed{"the stream data is not a JSON object"};
  if (auto error = error_member(doc))
    return *error;
  stream_chunk chunk;
  if (!read_string(doc, "model", chunk.model))
    return bad_field("model", "a string");
  if (auto bad = read_usage(doc, chunk.usage))
    return *bad;
  auto choice_or_error = first_choice(doc);
  if (auto bad = std::get_if<malformed>(&choice_or_error))
    return *bad;
  const json* choice = std::get<const json*>(choice_or_error);
  if (choice == nullptr)
    return chunk; // e.g. the usage chunk, whose choices are empty
  if (!read_string(*choice, "finish_reason", chunk.finish_reason))
    return bad_field("finish_reason", "a string");
  auto delta = member(*choice, "delta");
  if (delta == nullptr)
    return chunk;
  if (!delta->is_object())
    return bad_field("delta", "an object");
  if (!read_string(*delta, "content", chunk.text))
    return bad_field("delta.content", "a string");
  if (!read_string(*delta, "refusal", chunk.refusal))
    return bad_field("delta.refusal", "a string");
  auto calls = member(*delta, "tool_calls");
  if (calls == nullptr)
    return chunk;
  if (!calls->is_array())
    return bad_field("delta.tool_calls", "an array");
  chunk.tool_calls.reserve(calls->size());
  for (std::size_t i = 0; i < calls->size(); ++i) {
    auto call = parse_tool_call_delta((*calls)[i], i);
    if (auto bad = std::get_if<malformed>(&call))
      return *bad;
    chunk.tool_calls.push_back(std::move(std::get<tool_call_delta>(call)));
  }
  return chunk;
}

// -- non-streamed replies -----------------------------------------------------

completion_result parse_completion(std::string_view body) {
  std::string reason;
  auto doc = parse_explained(body, "the completion", reason);
  if (doc.is_discarded())
    return malformed{std::move(reason)};
  if (!doc.is_object())
    return malformed{"the completion is not a JSON object"};
  if (auto error = error_member(doc))
    return *error;
  completion result;
  if (!read_string(doc, "model", result.model))
    return bad_field("model", "a string");
  if (auto bad = read_usage(doc, result.usage))
    return *bad;
  auto choice_or_error = first_choice(doc);
  if (auto bad = std::get_if<malformed>(&choice_or_error))
    return *bad;
  const json* choice = std::get<const json*>(choice_or_error);
  if (choice == nullptr)
    return malformed{"the completion has no choices"};
  if (!read_string(*choice, "finish_reason", result.finish_reason))
    return bad_field("finish_reason", "a string");
  auto message = member(*choice, "message");
  if (message == nullptr || !message->is_object())
    return bad_field("choices[0].message", "an object");
  if (!read_string(*message, "content", result.text))
    return bad_field("message.content", "a string");
  if (!read_string(*message, "refusal", result.refusal))
    return bad_field("message.refusal", "a string");
  auto calls = member(*message, "tool_calls");
  if (calls == nullptr)
    return result;
  if (!calls->is_array())
    return bad_field("message.tool_calls", "an array");
  // The complete calls go through the assembler too: one set of rules for
  // ids, names and arguments, streamed or not.
  tool_call_assembler assembler;
  for (std::size_t i = 0; i < calls->size(); ++i) {
    auto delta = parse_tool_call_delta((*calls)[i], i);
    if (auto bad = std::get_if<malformed>(&delta))
      return malformed{"message.tool_calls: " + bad->reason};
    // Complete calls have no index: each entry is its own call.
    auto& call = std::get<tool_call_delta>(delta);
    call.index = i;
    if (!assembler.add(call))
      return malformed{assembler.error()};
  }
  auto assembled = assembler.finish();
  if (auto bad = std::get_if<malformed>(&assembled))
    return *bad;
  result.tool_calls = std::move(std::get<std::vector<tool_call>>(assembled));
  return result;
}

// -- tool_call_assembler ------------------------------------------------------

tool_call_assembler::tool_call_assembler(assembler_limits limits)
  : limits_(limits) {
  // Nothing to do.
}

bool tool_call_assembler::add(const tool_call_delta& delta) {
  if (failed())
    return false;
  auto fail = [this](std::string reason) {
    error_ = std::move(reason);
    slots_.clear();
    return false;
  };
  if (delta.index >= limits_.max_calls)
    return fail("tool call index " + std::to_string(delta.index)
                + " is beyond the limit of "
                + std::to_string(limits_.max_calls) + " calls");
  auto index = static_cast<std::size_t>(delta.index);
  auto label = "tool call " + std::to_string(index);
  if (slots_.size() <= index)
    slots_.resize(index + 1);
  auto& call = slots_[index].call;
  slots_[index].used = true;
  if (!delta.id.empty()) {
    if (call.id.empty()) {
      if (delta.id.size() > limits_.max_id_bytes)
        return fail(label + " has an id longer than "
                    + std::to_string(limits_.max_id_bytes) + " bytes");
      call.id = delta.id;
    } else if (call.id != delta.id) {
      // Two calls under one index: their arguments would be mixed up.
      return fail(label + " changed its id from '" + call.id + "' to '"
                  + truncate_utf8(delta.id, 64) + "'");
    }
  }
  // OpenAI sends the name once; some compatible servers repeat it in each
  // delta. A repeat is not a fragment.
  if (!delta.name.empty() && delta.name != call.name) {
    if (call.name.size() + delta.name.size() > limits_.max_name_bytes)
      return fail(label + " has a name longer than "
                  + std::to_string(limits_.max_name_bytes) + " bytes");
    call.name += delta.name;
  }
  if (call.arguments.size() + delta.arguments.size()
      > limits_.max_arguments_bytes)
    return fail(label + " has arguments longer than "
                + std::to_string(limits_.max_arguments_bytes) + " bytes");
  call.arguments += delta.arguments;
  return true;
}

bool tool_call_assembler::add(const stream_chunk& chunk) {
  for (const auto& delta : chunk.tool_calls)
    if (!add(delta))
      return false;
  return !failed();
}

std::variant<std::vector<tool_call>, malformed>
tool_call_assembler::finish() const {
  if (failed())
    return malformed{error_};
  std::vector<tool_call> result;
  for (std::size_t index = 0; index < slots_.size(); ++index) {
    if (!slots_[index].used)
      continue;
    auto call = slots_[index].call;
    auto label = "tool call " + std::to_string(index);
    if (call.name.empty())
      return malformed{label + " has no function name"};
    // A function without parameters may get "" instead of "{}".
    if (trim(call.arguments).empty())
      call.arguments = "{}";
    if (auto problem = check_tool_arguments(call.arguments))
      return malformed{label + " ('" + call.name + "'): " + *problem};
    if (call.id.empty())
      call.id = "call_" + std::to_string(index);
    result.push_back(std::move(call));
  }
  return result;
}

// -- errors -------------------------------------------------------------------

failure classify_http_error(int status, std::string_view body,
                            std::string_view retry_after) {
  auto kind = failure_kind::other;
  if (status == 429)
    kind = failure_kind::rate_limited;
  else if (status >= 500 && status <= 599)
    kind = failure_kind::server_error;
  else if (status == 408)
    kind = failure_kind::timeout;
  else if (status == 400 || status == 413 || status == 422)
    kind = failure_kind::bad_request;
  else if (status == 401 || status == 403)
    kind = failure_kind::unauthorized;
  else if (status == 404)
    kind = failure_kind::not_found;
  std::string message;
  auto doc = parse_json(body);
  if (doc.is_object()) {
    if (auto error = error_member(doc)) {
      message = std::move(error->message);
      if (is_content_filter_code(error->code)
          || is_content_filter_code(error->type))
        kind = failure_kind::content_filter;
      else if (error->code == "insufficient_quota"
               || error->type == "insufficient_quota")
        kind = failure_kind::quota_exceeded;
    } else {
      // Proxies and compatible servers: {"message":..} or {"detail":..}.
      for (const char* key : {"message", "detail"}) {
        if (auto it = doc.find(key); it != doc.end() && it->is_string()) {
          message = truncate_utf8(it->get<std::string>(),
                                  max_failure_message_bytes);
          break;
        }
      }
    }
  }
  if (message.empty())
    message = default_message(kind) + " (HTTP " + std::to_string(status) + ")";
  auto result = make_failure(kind, std::move(message));
  result.http_status = status;
  result.retry_after_seconds = parse_retry_after(retry_after);
  return result;
}

failure classify_api_error(const api_error& error) {
  auto is = [&error](std::string_view name) {
    return error.code == name || error.type == name;
  };
  // An error inside a 200 stream is the provider failing mid-answer unless
  // it says otherwise.
  auto kind = failure_kind::server_error;
  if (is_content_filter_code(error.code) || is_content_filter_code(error.type))
    kind = failure_kind::content_filter;
  else if (is("insufficient_quota"))
    kind = failure_kind::quota_exceeded;
  else if (is("rate_limit_exceeded") || is("rate_limit_error"))
    kind = failure_kind::rate_limited;
  else if (is("invalid_request_error"))
    kind = failure_kind::bad_request;
  else if (is("authentication_error") || is("invalid_api_key")
           || is("permission_error"))
    kind = failure_kind::unauthorized;
  return make_failure(kind, error.message.empty() ? default_message(kind)
                                                  : error.message);
}

std::optional<failure> classify_finish_reason(std::string_view finish_reason) {
  if (!is_content_filter_code(finish_reason))
    return std::nullopt;
  return make_failure(failure_kind::content_filter,
                      "the LLM provider's content filter stopped the answer");
}

} // namespace openai

} // namespace parley::llm
