#include <nlohmann/json.hpp>

#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"
#include "transport/openai_protocol.hpp"
#include "transport/sse_parser.hpp"

// The input is read four ways: as one `data:` of a stream, as a whole
// non-streamed completion, as an HTTP error body, and as a whole event
// stream whose events are parsed and whose tool calls are assembled, as
// the OpenAI client does.
namespace parley::fuzz {

namespace {

using nlohmann::json;
namespace openai = llm::openai;

/// Messages quote what the provider sent, cut short: never more than the
/// limit (plus "...") and, for valid input, never a split character.
void check_message(const std::string& message, bool valid_input) {
  FUZZ_CHECK(message.size() <= llm::max_failure_message_bytes + 3);
  if (valid_input)
    FUZZ_CHECK(is_valid_utf8(message));
}

void check_calls(const std::vector<llm::tool_call>& calls) {
  for (const auto& call : calls) {
    FUZZ_CHECK(!call.id.empty());
    FUZZ_CHECK(!call.name.empty());
    FUZZ_CHECK(json::parse(call.arguments, nullptr, false).is_object());
    FUZZ_CHECK(!llm::check_tool_arguments(call.arguments));
  }
}

void check_failure(const llm::failure& f, bool valid_input) {
  FUZZ_CHECK(!f.message.empty());
  if (valid_input)
    FUZZ_CHECK(is_valid_utf8(f.message));
  if (f.retry_after_seconds)
    FUZZ_CHECK(*f.retry_after_seconds >= 0
               && *f.retry_after_seconds <= 86400);
  if (f.retryable)
    FUZZ_CHECK(f.counts_toward_circuit);
}

void check_usage(const std::optional<openai::token_usage>& usage) {
  if (!usage)
    return;
  FUZZ_CHECK(usage->prompt_tokens >= 0);
  FUZZ_CHECK(usage->completion_tokens >= 0);
  FUZZ_CHECK(usage->total_tokens >= 0);
}

void stream_data(std::string_view data, bool valid,
                 openai::tool_call_assembler& assembler) {
  auto item = openai::parse_stream_data(data);
  if (auto* bad = std::get_if<llm::malformed>(&item)) {
    FUZZ_CHECK(!bad->reason.empty());
    if (valid)
      FUZZ_CHECK(is_valid_utf8(bad->reason));
  } else if (auto* error = std::get_if<openai::api_error>(&item)) {
    check_message(error->message, valid);
    check_failure(openai::classify_api_error(*error), valid);
  } else if (auto* chunk = std::get_if<openai::stream_chunk>(&item)) {
    check_usage(chunk->usage);
    if (auto f = openai::classify_finish_reason(chunk->finish_reason))
      check_failure(*f, valid);
    bool ok = assembler.add(*chunk);
    FUZZ_CHECK(ok == !assembler.failed());
  }
}

} // namespace

int fuzz_openai(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  bool valid = is_valid_utf8(input);

  openai::tool_call_assembler single;
  stream_data(input, valid, single);

  auto completion = openai::parse_completion(input);
  if (auto* done = std::get_if<openai::completion>(&completion)) {
    check_usage(done->usage);
    check_calls(done->tool_calls);
    FUZZ_CHECK(done->tool_calls.size() <= openai::assembler_limits{}.max_calls);
  } else if (auto* error = std::get_if<openai::api_error>(&completion)) {
    check_message(error->message, valid);
  }

  // The first line as Retry-After, the whole as the body of an error.
  auto retry_after = first_line(input).first;
  for (int status : {400, 401, 404, 408, 429, 500, 503, 302})
    check_failure(openai::classify_http_error(status, input, retry_after),
                  valid);

  llm::sse_parser parser;
  openai::tool_call_assembler assembler;
  for (const auto& event : parser.feed(input))
    stream_data(event.data, true, assembler); // events are valid UTF-8
  auto calls = assembler.finish();
  if (auto* done = std::get_if<std::vector<llm::tool_call>>(&calls))
    check_calls(*done);
  else
    FUZZ_CHECK(!std::get<llm::malformed>(calls).reason.empty());
  return 0;
}

} // namespace parley::fuzz
