#include <nlohmann/json.hpp>

#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"
#include "transport/custom_llm_protocol.hpp"

namespace parley::fuzz {

namespace {

using nlohmann::json;
namespace custom = llm::custom;

void check_id(const std::string& id) {
  FUZZ_CHECK(!id.empty());
  FUZZ_CHECK(id.size() <= custom::max_id_bytes);
}

/// The frame written again as JSON, to be read a second time.
json frame_json(const custom::frame& frame) {
  if (auto* d = std::get_if<custom::delta>(&frame))
    return {{"id", d->id}, {"delta", d->text}};
  if (auto* e = std::get_if<custom::error_reply>(&frame)) {
    json result = {{"error", e->message}};
    if (!e->id.empty())
      result["id"] = e->id;
    return result;
  }
  const auto& r = std::get<custom::final_reply>(frame);
  return {{"id", r.id},
          {"response", r.response},
          {"tokens_used", r.tokens_used},
          {"model", r.model},
          {"finish_reason", r.finish_reason},
          {"metadata", json::parse(r.metadata)}};
}

bool same(const custom::frame& a, const custom::frame& b) {
  if (a.index() != b.index())
    return false;
  if (auto* d = std::get_if<custom::delta>(&a)) {
    const auto& e = std::get<custom::delta>(b);
    return d->id == e.id && d->text == e.text;
  }
  if (auto* e = std::get_if<custom::error_reply>(&a)) {
    const auto& f = std::get<custom::error_reply>(b);
    return e->id == f.id && e->message == f.message;
  }
  const auto& r = std::get<custom::final_reply>(a);
  const auto& s = std::get<custom::final_reply>(b);
  if (r.tool_calls.size() != s.tool_calls.size())
    return false;
  for (std::size_t i = 0; i < r.tool_calls.size(); ++i)
    if (r.tool_calls[i].id != s.tool_calls[i].id
        || r.tool_calls[i].name != s.tool_calls[i].name
        || json::parse(r.tool_calls[i].arguments)
             != json::parse(s.tool_calls[i].arguments))
      return false;
  return r.id == s.id && r.response == s.response
         && r.tokens_used == s.tokens_used && r.model == s.model
         && r.finish_reason == s.finish_reason
         && json::parse(r.metadata) == json::parse(s.metadata);
}

} // namespace

int fuzz_custom_llm(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  bool valid = is_valid_utf8(input);
  auto frame = custom::parse_frame(input);
  if (auto* bad = std::get_if<llm::malformed>(&frame)) {
    FUZZ_CHECK(!bad->reason.empty());
    if (valid)
      FUZZ_CHECK(is_valid_utf8(bad->reason));
  } else {
    if (auto* d = std::get_if<custom::delta>(&frame)) {
      check_id(d->id);
    } else if (auto* e = std::get_if<custom::error_reply>(&frame)) {
      FUZZ_CHECK(e->id.size() <= custom::max_id_bytes);
      FUZZ_CHECK(!e->message.empty());
      FUZZ_CHECK(e->message.size() <= llm::max_failure_message_bytes + 3);
      if (valid)
        FUZZ_CHECK(is_valid_utf8(e->message));
    } else {
      const auto& r = std::get<custom::final_reply>(frame);
      check_id(r.id);
      FUZZ_CHECK(r.tokens_used >= 0);
      FUZZ_CHECK(!r.finish_reason.empty());
      FUZZ_CHECK(json::parse(r.metadata, nullptr, false).is_object());
      for (const auto& call : r.tool_calls) {
        FUZZ_CHECK(!call.id.empty() && !call.name.empty());
        FUZZ_CHECK(json::parse(call.arguments, nullptr, false).is_object());
      }
    }
    // Written again, the frame reads the same (an error message already
    // cut short would be cut again, so those are left out).
    auto* error = std::get_if<custom::error_reply>(&frame);
    if (error == nullptr
        || error->message.size() <= llm::max_failure_message_bytes) {
      auto again = custom::parse_frame(frame_json(frame).dump());
      FUZZ_CHECK(same(again, frame));
    }
  }

  // Requests carry any text: invalid UTF-8 is replaced, never thrown on.
  custom::request req;
  req.id = "r1";
  req.message = std::string{input};
  req.model = std::string{first_line(input).first};
  req.system_prompt = req.model;
  req.tool_results.push_back({"call_1", "get_order", std::string{input}});
  auto wire = json::parse(custom::build_request(req), nullptr, false);
  FUZZ_CHECK(wire.is_object());
  if (valid)
    FUZZ_CHECK(wire["message"] == req.message);
  auto cancel = json::parse(custom::build_cancel(input), nullptr, false);
  FUZZ_CHECK(cancel.is_object());
  return 0;
}

} // namespace parley::fuzz
