#include "transport/custom_llm_protocol.hpp"

#include <cmath>
#include <optional>
#include <utility>

#include "transport/llm_json.hpp"

namespace parley::llm::custom {

namespace {

using json = nlohmann::json;

using detail::as_count;
using detail::bad_field;
using detail::dump;
using detail::id_text;
using detail::member;
using detail::truncate_utf8;

/// The message of an `error` member: a string, or an object's `message`
/// (or `code`).
std::string error_message(const json& error) {
  std::string result;
  if (error.is_string()) {
    result = error.get<std::string>();
  } else if (error.is_object()) {
    if (auto msg = member(error, "message"); msg && msg->is_string())
      result = msg->get<std::string>();
    else if (auto code = member(error, "code"); code && code->is_string())
      result = code->get<std::string>();
  }
  if (result.empty())
    return "the LLM server reported an error";
  return truncate_utf8(std::move(result), max_failure_message_bytes);
}

/// One entry of metadata.tool_calls: {"id","name","arguments"}, or OpenAI's
/// {"id","type":"function","function":{"name","arguments"}}; arguments as
/// JSON text or as the object itself.
std::variant<tool_call, malformed> parse_tool_call(const json& value,
                                                   std::size_t index) {
  auto field = "metadata.tool_calls[" + std::to_string(index) + "]";
  if (!value.is_object())
    return bad_field(field, "an object");
  tool_call result;
  if (auto id = member(value, "id")) {
    auto text = id_text(*id);
    if (!text || text->size() > max_id_bytes)
      return bad_field(field + ".id", "a short string or an integer");
    result.id = std::move(*text);
  }
  if (result.id.empty())
    result.id = "call_" + std::to_string(index);
  const json* source = &value;
  if (auto function = member(value, "function")) {
    if (!function->is_object())
      return bad_field(field + ".function", "an object");
    source = function;
  }
  auto name = member(*source, "name");
  if (name == nullptr || !name->is_string()
      || name->get_ref<const std::string&>().empty())
    return bad_field(field + ".name", "a non-empty string");
  result.name = name->get<std::string>();
  if (auto args = member(*source, "arguments")) {
    if (args->is_string())
      result.arguments = args->get<std::string>();
    else if (args->is_object())
      result.arguments = dump(*args);
    else
      return bad_field(field + ".arguments", "an object or its JSON text");
  }
  if (result.arguments.find_first_not_of(" \t\r\n") == std::string::npos)
    result.arguments = "{}";
  if (auto problem = check_tool_arguments(result.arguments))
    return malformed{field + " ('" + result.name + "'): " + *problem};
  return result;
}

frame parse_final(const json& doc, std::string id) {
  final_reply result;
  result.id = std::move(id);
  if (auto metadata = member(doc, "metadata")) {
    if (!metadata->is_object())
      return bad_field("metadata", "an object");
    result.metadata = dump(*metadata);
    if (auto calls = member(*metadata, "tool_calls")) {
      if (!calls->is_array())
        return bad_field("metadata.tool_calls", "an array");
      for (std::size_t i = 0; i < calls->size(); ++i) {
        auto call = parse_tool_call((*calls)[i], i);
        if (auto bad = std::get_if<malformed>(&call))
          return *bad;
        result.tool_calls.push_back(std::move(std::get<tool_call>(call)));
      }
    }
  }
  // `response`, or the legacy `content` when it is absent.
  const char* text_field = "response";
  auto text = member(doc, "response");
  if (text == nullptr) {
    text_field = "content";
    text = member(doc, "content");
  }
  if (text != nullptr) {
    if (!text->is_string())
      return bad_field(text_field, "a string");
    result.response = text->get<std::string>();
  } else if (result.tool_calls.empty()) {
    // Nothing to say and nothing to do: not a reply.
    return malformed{"the frame has neither 'response', 'delta' nor 'error'"};
  }
  if (auto tokens = member(doc, "tokens_used")) {
    auto n = as_count(*tokens);
    if (!n)
      return bad_field("tokens_used", "a non-negative integer");
    result.tokens_used = *n;
  } else if (auto usage = member(doc, "usage")) {
    if (!usage->is_object())
      return bad_field("usage", "an object");
    if (auto total = member(*usage, "total_tokens")) {
      auto n = as_count(*total);
      if (!n)
        return bad_field("usage.total_tokens", "a non-negative integer");
      result.tokens_used = *n;
    }
  }
  if (auto model = member(doc, "model")) {
    if (!model->is_string())
      return bad_field("model", "a string");
    result.model = model->get<std::string>();
  }
  if (auto reason = member(doc, "finish_reason")) {
    if (!reason->is_string())
      return bad_field("finish_reason", "a string");
    if (!reason->get_ref<const std::string&>().empty())
      result.finish_reason = reason->get<std::string>();
  }
  return result;
}

} // namespace

// -- requests -----------------------------------------------------------------

namespace {

json settings_json(const generation_settings& settings) {
  json result = {{"max_tokens", settings.max_tokens},
                 {"stream", settings.stream}};
  if (std::isfinite(settings.temperature))
    result["temperature"] = settings.temperature;
  return result;
}

} // namespace

std::string build_request(const request& req) {
  json metadata = {{"sql_mode", req.sql_mode},
                   {"advanced_ai", req.advanced_ai},
                   {"session_context", req.session_context.is_null()
                                         ? json::object()
                                         : req.session_context}};
  if (!req.tool_results.empty()) {
    auto results = json::array();
    for (const auto& result : req.tool_results)
      results.push_back({{"tool_call_id", result.tool_call_id},
                         {"name", result.name},
                         {"content", result.content}});
    metadata["tool_results"] = std::move(results);
  }
  bool with_tools = !req.tools.empty() && req.tools != "[]";
  if (with_tools)
    metadata["tool_choice"] = req.tool_choice.empty() ? "auto"
                                                      : req.tool_choice;
  if (!req.system_prompt.empty())
    metadata["system_prompt"] = req.system_prompt;
  // The tools arrive serialized and go out as they are: parsing and
  // dumping a kilobyte of schemas for every call was most of a request's
  // cost. Objects dump their keys sorted, and "tools" is the last key of
  // metadata as "metadata" is the third of the request, so splicing gives
  // the text dumping the whole document would.
  auto meta_text = dump(metadata);
  if (with_tools) {
    meta_text.pop_back();
    meta_text += ",\"tools\":";
    meta_text += req.tools;
    meta_text += '}';
  }
  auto text = dump({{"id", req.id}, {"message", req.message}});
  text.back() = ',';
  text += "\"metadata\":";
  text += meta_text;
  text += ',';
  auto tail = dump({{"model", req.model},
                    {"settings", settings_json(req.settings)}});
  text.append(tail, 1);
  return text;
}

std::string build_health_request(std::string_view id, std::string_view model,
                                 const generation_settings& settings) {
  json metadata = {{"sql_mode", false},
                   {"advanced_ai", false},
                   {"session_context", json::object()},
                   {"health_check", true}};
  return dump({{"id", id},
               {"message", "ping"},
               {"model", model},
               {"metadata", std::move(metadata)},
               {"settings", settings_json(settings)}});
}

std::string build_cancel(std::string_view id) {
  return dump({{"id", id}, {"cancel", true}});
}

// -- replies ------------------------------------------------------------------

frame parse_frame(std::string_view text) {
  std::string reason;
  auto doc = parse_json(text, &reason, "the frame");
  if (doc.is_discarded())
    return malformed{std::move(reason)};
  if (!doc.is_object())
    return malformed{"the frame is not a JSON object"};
  std::string id;
  auto id_field = member(doc, "id");
  if (id_field != nullptr) {
    auto text_id = id_text(*id_field);
    if (!text_id)
      return bad_field("id", "a string or an integer");
    if (text_id->empty())
      return malformed{"field 'id' is empty"};
    if (text_id->size() > max_id_bytes)
      return malformed{"field 'id' is longer than "
                       + std::to_string(max_id_bytes) + " bytes"};
    id = std::move(*text_id);
  }
  auto error = member(doc, "error");
  if (error != nullptr && !(error->is_boolean() && !error->get<bool>()))
    return error_reply{std::move(id), error_message(*error)};
  // Only an error may be about no request in particular.
  if (id_field == nullptr)
    return malformed{"field 'id' is missing"};
  if (auto piece = member(doc, "delta")) {
    if (piece->is_string())
      return delta{std::move(id), piece->get<std::string>()};
    auto bad = bad_field("delta", "a string");
    bad.id = std::move(id);
    return bad;
  }
  auto result = parse_final(doc, id);
  if (auto* bad = std::get_if<malformed>(&result))
    bad->id = std::move(id);
  return result;
}

} // namespace parley::llm::custom
