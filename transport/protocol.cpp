#include "transport/protocol.hpp"

#include <nlohmann/json.hpp>

namespace parley::protocol {

namespace {

using json = nlohmann::json;

/// Serializes a server frame. `replace` turns an invalid UTF-8 byte into
/// U+FFFD instead of throwing: stored text must never break a connection.
std::string dump(const json& frame) {
  return frame.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_blank(std::string_view text) {
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f'
        && c != '\v')
      return false;
  return true;
}

/// Refuses a message, naming it by its id. An id with a NUL is no usable
/// id (it is refused itself), so it is not echoed.
error_frame refuse(const char* code, std::string message,
                   const std::string& client_id) {
  error_frame result{code, std::move(message)};
  if (client_id.find('\0') == std::string::npos)
    result.client_id = client_id;
  return result;
}

/// Applies the rules shared by JSON and plain-text messages.
client_frame make_message(std::string text, std::string client_id,
                          std::size_t max_text_bytes) {
  if (is_blank(text))
    return refuse(codes::empty_message, "the message is empty", client_id);
  // Some databases cut text at a NUL (PostgreSQL rejects or truncates it):
  // refuse it rather than store something else than was acknowledged.
  if (text.find('\0') != std::string::npos
      || client_id.find('\0') != std::string::npos)
    return refuse(codes::invalid_frame,
                  "the message must not contain NUL characters", client_id);
  if (text.size() > max_text_bytes)
    return refuse(codes::message_too_long,
                  "the message is longer than "
                    + std::to_string(max_text_bytes) + " bytes",
                  client_id);
  return message_frame{std::move(text), std::move(client_id)};
}

/// Cuts client text for an error message without splitting a UTF-8
/// sequence.
std::string excerpt(const std::string& text) {
  constexpr std::size_t max_len = 32;
  if (text.size() <= max_len)
    return text;
  auto len = max_len;
  while (len > 0 && (static_cast<unsigned char>(text[len]) & 0xC0) == 0x80)
    --len;
  return text.substr(0, len) + "...";
}

client_frame parse_json_message(const json& obj, std::size_t max_text_bytes) {
  // The id first: an error about the text can then say which message it
  // refuses.
  std::string client_id;
  if (auto id = obj.find("id"); id != obj.end()) {
    if (id->is_string())
      client_id = id->get<std::string>();
    else if (id->is_number_unsigned())
      client_id = std::to_string(id->get<std::uint64_t>());
    else if (id->is_number_integer())
      client_id = std::to_string(id->get<std::int64_t>());
    else if (!id->is_null())
      return error_frame{codes::invalid_frame,
                         "field 'id' must be a string, an integer or null"};
    if (client_id.size() > max_client_id_bytes)
      return error_frame{codes::invalid_frame,
                         "field 'id' is longer than "
                           + std::to_string(max_client_id_bytes) + " bytes"};
  }
  auto text = obj.find("text");
  if (text == obj.end() || !text->is_string())
    return refuse(codes::invalid_frame, "field 'text' must be a string",
                  client_id);
  return make_message(text->get<std::string>(), std::move(client_id),
                      max_text_bytes);
}

} // namespace

client_frame parse_client_frame(std::string_view frame,
                                std::size_t max_text_bytes) {
  auto doc = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  // Anything but a JSON object is chat text: the seeds' clients send plain
  // text, and "42" or "\"hi\"" typed by a person are messages too.
  if (!doc.is_object())
    return make_message(std::string{frame}, {}, max_text_bytes);
  auto type = doc.find("type");
  if (type == doc.end() || !type->is_string())
    return error_frame{codes::invalid_frame, "field 'type' must be a string"};
  const auto& type_name = type->get_ref<const std::string&>();
  if (type_name == "message")
    return parse_json_message(doc, max_text_bytes);
  if (type_name == "ping")
    return ping_frame{};
  if (type_name == "cancel") {
    auto reply_to = doc.find("reply_to");
    if (reply_to == doc.end() || !reply_to->is_number_integer()
        || reply_to->get<std::int64_t>() <= 0)
      return error_frame{codes::invalid_frame,
                         "field 'reply_to' must be a positive integer"};
    return cancel_frame{reply_to->get<std::int64_t>()};
  }
  return error_frame{codes::unknown_type,
                     "unknown frame type '" + excerpt(type_name)
                       + "' (expected 'message', 'ping' or 'cancel')"};
}

error_frame binary_frame_error() {
  return error_frame{codes::binary_not_supported,
                     "binary frames are not supported; send text frames"};
}

std::string delta_frame(std::int64_t seq, std::int64_t reply_to,
                        std::size_t offset, std::string_view text) {
  return dump({{"type", "delta"},
               {"seq", seq},
               {"reply_to", reply_to},
               {"offset", offset},
               {"text", text}});
}

std::string session_frame(std::int64_t seq, std::int64_t session_id,
                          std::string_view resume_token, bool resumed,
                          bool handoff) {
  return dump({{"type", "session"},
               {"seq", seq},
               {"session_id", session_id},
               {"resume_token", resume_token},
               {"resumed", resumed},
               {"status", handoff ? "handoff" : "active"}});
}

std::string ack_frame(std::int64_t seq, std::string_view client_id,
                      std::int64_t message_id,
                      std::optional<std::string_view> text,
                      std::string_view created_at) {
  json id = client_id.empty() ? json(nullptr) : json(client_id);
  json frame{{"type", "ack"},
             {"seq", seq},
             {"id", std::move(id)},
             {"message_id", message_id}};
  if (text)
    frame["text"] = *text;
  if (!created_at.empty())
    frame["created_at"] = created_at;
  return dump(frame);
}

std::string typing_frame(std::int64_t seq, std::int64_t reply_to) {
  return dump({{"type", "typing"}, {"seq", seq}, {"reply_to", reply_to}});
}

std::string reply_frame(std::int64_t seq,
                        const storage::message_record& reply,
                        std::optional<bool> handoff) {
  json frame = {{"type", "message"},
                {"seq", seq},
                {"id", reply.id},
                {"reply_to", reply.reply_to == 0 ? json(nullptr)
                                                 : json(reply.reply_to)},
                {"role", reply.role},
                {"text", reply.content},
                {"source", reply.source},
                {"tokens_used", reply.tokens_used},
                {"response_time", reply.response_time},
                {"created_at", reply.created_at}};
  if (!reply.finish_reason.empty())
    frame["finish_reason"] = reply.finish_reason;
  if (!reply.author.empty())
    frame["agent_name"] = reply.author;
  if (handoff)
    frame["handoff"] = *handoff;
  return dump(frame);
}

std::string error_frame_text(std::int64_t seq, std::string_view code,
                             std::string_view message,
                             std::string_view client_id) {
  json frame{{"type", "error"},
             {"seq", seq},
             {"code", code},
             {"message", message}};
  if (!client_id.empty())
    frame["client_id"] = client_id;
  return dump(frame);
}

std::string error_frame_text(std::int64_t seq, std::string_view code,
                             std::string_view message,
                             std::int64_t retry_after_ms,
                             std::string_view client_id) {
  json frame{{"type", "error"},
             {"seq", seq},
             {"code", code},
             {"message", message},
             {"retry_after_ms", retry_after_ms}};
  if (!client_id.empty())
    frame["client_id"] = client_id;
  return dump(frame);
}

std::string pong_frame(std::int64_t seq) {
  return dump({{"type", "pong"}, {"seq", seq}});
}

} // namespace parley::protocol
