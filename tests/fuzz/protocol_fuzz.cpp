#include <nlohmann/json.hpp>

#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"
#include "transport/protocol.hpp"

namespace parley::fuzz {

namespace {

using nlohmann::json;
namespace protocol = parley::protocol;

bool is_known_code(const std::string& code) {
  namespace c = protocol::codes;
  for (const char* known : {c::invalid_frame, c::unknown_type, c::empty_message,
                            c::message_too_long})
    if (code == known)
      return true;
  return false;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos;
}

void check_frame(std::string_view input, std::size_t max_text_bytes) {
  auto frame = protocol::parse_client_frame(input, max_text_bytes);
  if (auto* error = std::get_if<protocol::error_frame>(&frame)) {
    FUZZ_CHECK(is_known_code(error->code));
    FUZZ_CHECK(!error->message.empty());
    // The message may quote the frame's type; it goes back to the client
    // as JSON and must stay valid UTF-8 when the frame was.
    if (is_valid_utf8(input))
      FUZZ_CHECK(is_valid_utf8(error->message));
    auto text = protocol::error_frame_text(1, error->code, error->message);
    FUZZ_CHECK(!json::parse(text, nullptr, false).is_discarded());
    return;
  }
  auto* message = std::get_if<protocol::message_frame>(&frame);
  if (message == nullptr)
    return;
  FUZZ_CHECK(!is_blank(message->text));
  FUZZ_CHECK(message->text.size() <= max_text_bytes);
  FUZZ_CHECK(message->text.find('\0') == std::string::npos);
  FUZZ_CHECK(message->client_id.size() <= protocol::max_client_id_bytes);
  FUZZ_CHECK(message->client_id.find('\0') == std::string::npos);
  // What the server echoes must serialize whatever the client sent.
  auto ack = protocol::ack_frame(1, message->client_id, 2);
  FUZZ_CHECK(json::parse(ack, nullptr, false).is_object());
  auto delta = protocol::delta_frame(3, 2, 0, message->text);
  FUZZ_CHECK(json::parse(delta, nullptr, false).is_object());
  // A browser sending the same message as a JSON frame gets it back as is.
  if (!is_valid_utf8(message->text) || !is_valid_utf8(message->client_id))
    return;
  json again = {{"type", "message"}, {"text", message->text}};
  if (!message->client_id.empty())
    again["id"] = message->client_id;
  auto reparsed = protocol::parse_client_frame(again.dump(), max_text_bytes);
  auto* same = std::get_if<protocol::message_frame>(&reparsed);
  FUZZ_CHECK(same != nullptr);
  FUZZ_CHECK(same->text == message->text);
  FUZZ_CHECK(same->client_id == message->client_id);
}

} // namespace

int fuzz_protocol(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  check_frame(input, 16 * 1024); // the default limit
  check_frame(input, 8);         // a small one, to reach message_too_long
  return 0;
}

} // namespace parley::fuzz
