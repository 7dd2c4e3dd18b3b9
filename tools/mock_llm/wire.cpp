#include "tools/mock_llm/wire.hpp"

#include <cctype>
#include <map>

namespace parley::mock_llm {

using json = nlohmann::json;

namespace {

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// The text of an OpenAI message's content: a string, or an array of parts
// of which the text parts count.
std::string content_text(const json& content) {
  if (content.is_string())
    return content.get<std::string>();
  std::string text;
  if (content.is_array())
    for (const auto& part : content)
      if (part.is_object() && part.contains("type") && part["type"] == "text"
          && part.contains("text") && part["text"].is_string())
        text += part["text"].get<std::string>();
  return text;
}

// True only for a literal `true`: json::value() would throw on a field of
// another type, and the mock must survive any input.
bool is_true(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key] == true;
}

std::string model_of(const json& body) {
  if (body.contains("model") && body["model"].is_string()
      && !body["model"].get<std::string>().empty())
    return body["model"].get<std::string>();
  return "mock-model";
}

/// A member's value, or nullptr when `object` is no object or lacks `key`.
const json* find_member(const json& object, const char* key) {
  if (!object.is_object())
    return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

/// A string member's value, or "" when it is absent or no string.
std::string string_member(const json& object, const char* key) {
  auto value = find_member(object, key);
  return value && value->is_string() ? value->get<std::string>()
                                     : std::string{};
}

/// The function names of an OpenAI `tools` array: entries
/// {"type":"function","function":{"name"}} (or a bare {"name"}).
std::vector<std::string> tool_names(const json& tools) {
  std::vector<std::string> names;
  if (!tools.is_array())
    return names;
  for (const auto& tool : tools) {
    auto function = find_member(tool, "function");
    auto name = string_member(function ? *function : tool, "name");
    if (!name.empty())
      names.push_back(std::move(name));
  }
  return names;
}

/// tool_choice: "auto", "none" or "required" as sent; a forced function as
/// its name, from {"type":"function","function":{"name"}} (openai) or the
/// bare name (websocket). Anything else counts as "auto".
std::string choice_of(const json& choice) {
  if (choice.is_string() && !choice.get_ref<const std::string&>().empty())
    return choice.get<std::string>();
  if (auto function = find_member(choice, "function")) {
    auto name = string_member(*function, "name");
    if (!name.empty())
      return name;
  }
  return "auto";
}

/// A tool result's content as text: a string as is, other JSON dumped.
std::string content_of(const json* value) {
  if (value == nullptr || value->is_null())
    return {};
  return value->is_string() ? value->get<std::string>() : dump(*value);
}

} // namespace

std::vector<std::string> split_chunks(std::string_view text,
                                      std::size_t count) {
  std::vector<std::string> pieces;
  if (text.empty() || count == 0)
    return pieces;
  // Character starts: cutting only there keeps every piece valid UTF-8.
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!is_continuation(static_cast<unsigned char>(text[i])))
      starts.push_back(i);
  if (starts.empty() || starts.front() != 0)
    starts.insert(starts.begin(), 0);
  auto n = std::min(count, starts.size());
  std::size_t begin = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    std::size_t end = text.size();
    if (k < n)
      end = starts[k * starts.size() / n];
    pieces.emplace_back(text.substr(begin, end - begin));
    begin = end;
  }
  return pieces;
}

std::uint64_t count_tokens(std::string_view text) {
  std::uint64_t words = 0;
  bool in_word = false;
  for (char c : text) {
    auto space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (!space && !in_word)
      ++words;
    in_word = !space;
  }
  return words;
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string reply_text(const options& opts, std::string_view user_text,
                       const std::optional<std::string>& tool_result) {
  if (tool_result)
    return "Tool result: " + *tool_result;
  if (opts.reply)
    return *opts.reply;
  return "Echo: " + std::string{user_text};
}

// -- custom WebSocket protocol ------------------------------------------------

ws_request parse_ws_request(std::string_view text) {
  ws_request req;
  auto body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    req.error = "invalid request: not a JSON object";
    return req;
  }
  if (body.contains("id"))
    req.id = body["id"];
  if (is_true(body, "cancel")) {
    req.cancel = true;
    req.body = std::move(body);
    return req;
  }
  auto metadata = body.contains("metadata") ? body["metadata"] : json{};
  req.health_check = is_true(metadata, "health_check");
  if (metadata.is_object() && metadata.contains("tool_results")
      && !metadata["tool_results"].is_null())
    req.tool_results = metadata["tool_results"];
  if (auto tools = find_member(metadata, "tools"))
    req.tools.offered = tool_names(*tools);
  if (auto choice = find_member(metadata, "tool_choice"))
    req.tools.choice = choice_of(*choice);
  if (req.tool_results.is_array())
    for (const auto& entry : req.tool_results) {
      auto content = find_member(entry, "content");
      if (content == nullptr)
        content = find_member(entry, "result");
      req.tools.outputs.push_back(
        tool_output{string_member(entry, "name"), content_of(content)});
    }
  if (body.contains("settings"))
    req.stream = is_true(body["settings"], "stream");
  req.model = model_of(body);
  if (body.contains("message")) {
    if (!body["message"].is_string()) {
      req.error = "invalid request: `message` must be a string";
      return req;
    }
    req.message = body["message"].get<std::string>();
  } else if (!req.health_check) {
    req.error = "invalid request: `message` is missing";
    return req;
  }
  req.body = std::move(body);
  return req;
}

std::string tool_results_text(const json& tool_results) {
  if (tool_results.is_string())
    return tool_results.get<std::string>();
  if (tool_results.is_array()) {
    std::string text;
    bool all_text = !tool_results.empty();
    for (const auto& entry : tool_results) {
      const json* value = nullptr;
      if (entry.is_object() && entry.contains("content"))
        value = &entry["content"];
      else if (entry.is_object() && entry.contains("result"))
        value = &entry["result"];
      if (value == nullptr) {
        all_text = false;
        break;
      }
      if (!text.empty())
        text += '\n';
      text += value->is_string() ? value->get<std::string>() : dump(*value);
    }
    if (all_text)
      return text;
  }
  return dump(tool_results);
}

std::string ws_delta_frame(const json& id, std::string_view delta) {
  json frame = json::object();
  if (!id.is_null())
    frame["id"] = id;
  frame["delta"] = std::string{delta};
  return dump(frame);
}

std::string ws_final_frame(const ws_final& reply, bool legacy) {
  json frame = json::object();
  if (!reply.id.is_null())
    frame["id"] = reply.id;
  if (legacy) {
    frame["content"] = reply.text;
    frame["usage"] = {{"total_tokens", reply.tokens_used}};
  } else {
    frame["response"] = reply.text;
    frame["tokens_used"] = reply.tokens_used;
  }
  frame["model"] = reply.model;
  frame["finish_reason"] = reply.finish_reason;
  frame["metadata"] = reply.metadata;
  return dump(frame);
}

std::string ws_error_frame(const json& id, std::string_view message,
                           unsigned status) {
  json frame = json::object();
  if (!id.is_null())
    frame["id"] = id;
  frame["error"] = std::string{message};
  if (status != 0)
    frame["code"] = status;
  return dump(frame);
}

// -- OpenAI-compatible chat completions ---------------------------------------

chat_request parse_chat_request(std::string_view text) {
  chat_request req;
  auto body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    req.error = "the body must be a JSON object";
    return req;
  }
  if (!body.contains("messages") || !body["messages"].is_array()
      || body["messages"].empty()) {
    req.error = "`messages` must be a non-empty array";
    return req;
  }
  req.model = model_of(body);
  req.stream = is_true(body, "stream");
  req.tools_offered = body.contains("tools") && body["tools"].is_array()
                      && !body["tools"].empty();
  if (auto tools = find_member(body, "tools"))
    req.tools.offered = tool_names(*tools);
  if (auto choice = find_member(body, "tool_choice"))
    req.tools.choice = choice_of(*choice);
  // The names of the assistant's calls since the last user message, by id:
  // a `tool` message names the call it answers only by its id.
  std::map<std::string, std::string> call_names;
  for (const auto& msg : body["messages"]) {
    if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string()) {
      req.error = "every message needs a `role`";
      return req;
    }
    auto role = msg["role"].get<std::string>();
    auto text = msg.contains("content") ? content_text(msg["content"])
                                        : std::string{};
    req.prompt_tokens += count_tokens(text);
    if (role == "user") {
      req.user_text = text;
      req.tool_result.reset();
      req.tools.outputs.clear();
      call_names.clear();
    } else if (role == "assistant") {
      auto calls = find_member(msg, "tool_calls");
      if (calls && calls->is_array())
        for (const auto& call : *calls) {
          auto function = find_member(call, "function");
          if (function)
            call_names[string_member(call, "id")]
              = string_member(*function, "name");
        }
    } else if (role == "tool") {
      req.tool_result = text;
      auto name = string_member(msg, "name");
      if (name.empty()) {
        auto it = call_names.find(string_member(msg, "tool_call_id"));
        if (it != call_names.end())
          name = it->second;
      }
      req.tools.outputs.push_back(tool_output{std::move(name), text});
    }
  }
  req.body = std::move(body);
  return req;
}

std::string sse_chunk(const completion_ids& ids, const json& delta,
                      std::string_view finish_reason) {
  json choice{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}};
  if (finish_reason.empty())
    choice["finish_reason"] = nullptr;
  else
    choice["finish_reason"] = std::string{finish_reason};
  json chunk{{"id", ids.id},
             {"object", "chat.completion.chunk"},
             {"created", ids.created},
             {"model", ids.model},
             {"choices", json::array({std::move(choice)})}};
  return "data: " + dump(chunk) + "\n\n";
}

std::string sse_usage_chunk(const completion_ids& ids,
                            std::uint64_t prompt_tokens,
                            std::uint64_t completion_tokens) {
  json chunk{{"id", ids.id},
             {"object", "chat.completion.chunk"},
             {"created", ids.created},
             {"model", ids.model},
             {"choices", json::array()},
             {"usage",
              {{"prompt_tokens", prompt_tokens},
               {"completion_tokens", completion_tokens},
               {"total_tokens", prompt_tokens + completion_tokens}}}};
  return "data: " + dump(chunk) + "\n\n";
}

std::string sse_done() {
  return "data: [DONE]\n\n";
}

std::vector<std::string> sse_garbage_events() {
  return {"data: this is not JSON {\n\n",
          "data: {\"choices\":\"not an array\",\"usage\":7}\n\n"};
}

std::vector<std::string> ws_garbage_frames(const json& id) {
  return {"this is not JSON {",
          dump({{"id", id}, {"response", 42}, {"tokens_used", "many"}})};
}

std::string ws_text_frame_header(std::uint64_t payload_bytes) {
  std::string header;
  header += static_cast<char>(0x81); // FIN, text
  if (payload_bytes < 126) {
    header += static_cast<char>(payload_bytes);
  } else if (payload_bytes <= 0xFFFF) {
    header += static_cast<char>(126);
    header += static_cast<char>((payload_bytes >> 8) & 0xFF);
    header += static_cast<char>(payload_bytes & 0xFF);
  } else {
    header += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      header += static_cast<char>((payload_bytes >> shift) & 0xFF);
  }
  return header;
}

std::vector<json> tool_call_deltas(const std::string& call_id,
                                   const std::string& name,
                                   const std::string& arguments,
                                   std::size_t pieces) {
  std::vector<json> deltas;
  deltas.push_back(
    {{"tool_calls",
      json::array({{{"index", 0},
                    {"id", call_id},
                    {"type", "function"},
                    {"function", {{"name", name}, {"arguments", ""}}}}})}});
  for (auto& piece : split_chunks(arguments, pieces))
    deltas.push_back(
      {{"tool_calls",
        json::array({{{"index", 0},
                      {"function", {{"arguments", std::move(piece)}}}}})}});
  return deltas;
}

std::string completion_body(const completion_ids& ids, const std::string& text,
                            const std::string& call_id,
                            const std::string& tool_name,
                            const std::string& tool_arguments,
                            std::uint64_t prompt_tokens,
                            std::uint64_t completion_tokens) {
  json message{{"role", "assistant"}};
  std::string finish_reason = "stop";
  if (tool_name.empty()) {
    message["content"] = text;
  } else {
    message["content"] = nullptr;
    message["tool_calls"] = json::array(
      {{{"id", call_id},
        {"type", "function"},
        {"function", {{"name", tool_name}, {"arguments", tool_arguments}}}}});
    finish_reason = "tool_calls";
  }
  json body{{"id", ids.id},
            {"object", "chat.completion"},
            {"created", ids.created},
            {"model", ids.model},
            {"choices",
             json::array({{{"index", 0},
                           {"message", std::move(message)},
                           {"logprobs", nullptr},
                           {"finish_reason", finish_reason}}})},
            {"usage",
             {{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}}}};
  return dump(body);
}

std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code) {
  json error{{"message", std::string{message}},
             {"type", std::string{type}},
             {"param", nullptr},
             {"code", code.empty() ? json(nullptr) : json(std::string{code})}};
  return dump(json{{"error", std::move(error)}});
}

} // namespace parley::mock_llm
