#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/chat_state.hpp"

// The LLM protocols as pure functions: requests built as JSON text, replies
// parsed into values. Nothing here throws on what a provider sends; a reply
// that does not fit gives a `malformed` value. No sockets, no Beast, no CAF.
//
// This header holds the pieces both protocols share (tool calls, JSON
// parsing with a depth bound, error classification) and the OpenAI
// chat-completions API; custom_llm_protocol.hpp builds on it.
namespace parley::llm {

// -- shared -------------------------------------------------------------------

/// A reply that does not follow the protocol.
struct malformed {
  malformed(std::string why, std::string request_id = {})
    : reason(std::move(why)), id(std::move(request_id)) {
    // nop
  }

  std::string reason;
  /// The custom protocol: the request a bad frame named, if it named one
  /// (that request's answer cannot come now).
  std::string id;
};

/// Deepest JSON nesting accepted from a provider. nlohmann::json parses
/// without recursion, but copies, compares and dumps recursively: a document
/// of a million '[' must not get past parsing.
constexpr std::size_t max_json_depth = 64;

/// Parses `text`; a discarded value (is_discarded()) when it is not JSON or
/// nests deeper than max_json_depth, and then, given `reason`, says which
/// ("the frame is not valid JSON" for `what` = "the frame"). Never throws on
/// bad input.
nlohmann::json parse_json(std::string_view text, std::string* reason = nullptr,
                          std::string_view what = "the text");

/// A complete function call the model asked for.
struct tool_call {
  std::string id;        // echoed back as the tool result's tool_call_id
  std::string name;
  std::string arguments; // JSON text of an object
};

/// Checks that `arguments` is the JSON text of an object (what a function
/// call needs). Returns the problem, or nullopt when it is fine.
std::optional<std::string> check_tool_arguments(std::string_view arguments);

/// What went wrong with an LLM call, in the terms the caller acts on.
enum class failure_kind {
  rate_limited,   // 429: slow down, try again
  quota_exceeded, // 429 insufficient_quota: billing, retrying cannot help
  server_error,   // 5xx, or an error the provider reports mid-stream
  timeout,        // 408, or the caller's own deadline
  connection,     // the caller could not connect or lost the connection
  bad_request,    // 400, 413, 422: our request is wrong
  unauthorized,   // 401, 403: the API key
  content_filter, // the provider's content policy refused
  not_found,      // 404: the model or endpoint
  other,
};

const char* to_string(failure_kind kind) noexcept;

struct failure {
  failure_kind kind = failure_kind::other;
  bool retryable = false;             // worth another attempt
  bool counts_toward_circuit = false; // evidence that the provider is down
  std::string message;                // for logs and operators
  std::optional<std::int64_t> retry_after_seconds;
  int http_status = 0;                // 0 when there was no HTTP answer
};

/// Longest `failure::message` taken from a provider's body, in bytes.
constexpr std::size_t max_failure_message_bytes = 512;

/// A failure the caller saw itself: `kind` is timeout or connection (other
/// kinds are accepted and classified the same way).
failure transport_failure(failure_kind kind, std::string_view detail);

// -- OpenAI chat completions --------------------------------------------------

namespace openai {

/// One entry of `messages`.
struct chat_message {
  std::string role;    // "system", "user", "assistant" or "tool"
  std::string content; // empty with tool_calls: sent as null
  std::optional<std::string> tool_call_id; // role "tool": the call answered
  std::vector<tool_call> tool_calls;       // role "assistant": calls made
};

/// Maps Parley's history to messages: a human agent's turns are the support
/// side of the conversation, so "agent" becomes "assistant".
std::vector<chat_message> messages_from(const std::vector<chat_turn>& history);

/// A function the model may call.
struct tool_definition {
  std::string name;
  std::string description;
  nlohmann::json parameters; // JSON schema; null: the function takes none
};

enum class tool_choice_mode {
  automatic, // "auto": the model decides
  none,      // no tool calls
  required,  // some tool call
  function,  // this function
};

struct tool_choice {
  tool_choice_mode mode = tool_choice_mode::automatic;
  std::string function; // for tool_choice_mode::function

  static tool_choice forced(std::string name) {
    return {tool_choice_mode::function, std::move(name)};
  }
};

struct chat_request {
  std::string model;
  std::string system_prompt; // empty: no system message
  std::vector<chat_message> history;
  std::vector<tool_definition> tools;
  openai::tool_choice tool_choice; // sent only with tools (else rejected)
  bool stream = true;              // streams ask for a final usage chunk
  std::optional<std::int64_t> max_tokens;
  std::optional<double> temperature; // not finite: not sent
};

/// The JSON body of POST /v1/chat/completions.
std::string build_chat_request(const chat_request& request);

struct token_usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
};

/// A piece of a streamed tool call; deltas with the same index belong to the
/// same call. id and name usually come only in the first one.
struct tool_call_delta {
  std::uint64_t index = 0;
  std::string id;
  std::string name;
  std::string arguments; // a fragment of the JSON text
};

/// One `data:` of a stream (first choice only: Parley asks for one).
struct stream_chunk {
  std::string text;    // delta.content
  std::string refusal; // delta.refusal
  std::vector<tool_call_delta> tool_calls;
  std::string finish_reason; // empty until the last chunk of the choice
  std::optional<token_usage> usage; // the final usage chunk
  std::string model;
};

/// `data: [DONE]`, the end of the stream.
struct stream_done {};

/// `{"error":{...}}`: the provider reports a failure (in a stream or as an
/// HTTP error body).
struct api_error {
  std::string message;
  std::string type;
  std::string code; // integer codes as decimal text
};

using stream_item = std::variant<stream_chunk, stream_done, api_error,
                                 malformed>;

/// Parses the data of one server-sent event of a chat-completions stream.
stream_item parse_stream_data(std::string_view data);

/// A non-streamed chat.completion (first choice).
struct completion {
  std::string text;
  std::string refusal;
  std::vector<tool_call> tool_calls; // arguments checked to be objects
  std::string finish_reason;
  std::optional<token_usage> usage;
  std::string model;
};

using completion_result = std::variant<completion, api_error, malformed>;

completion_result parse_completion(std::string_view body);

/// Bounds on what a stream may make the assembler hold.
struct assembler_limits {
  std::size_t max_calls = 16; // indexes 0 .. max_calls-1
  std::size_t max_id_bytes = 256;
  std::size_t max_name_bytes = 256;
  std::size_t max_arguments_bytes = 256 * 1024; // per call
};

/// Joins streamed tool-call deltas by index into complete calls.
class tool_call_assembler {
public:
  explicit tool_call_assembler(assembler_limits limits = {});

  /// Adds one delta. False when it breaks a limit or contradicts an earlier
  /// delta (another id for the same index); the assembler then stays failed
  /// and ignores further deltas.
  bool add(const tool_call_delta& delta);

  /// Adds every tool-call delta of a chunk; false as for add().
  bool add(const stream_chunk& chunk);

  /// The calls in index order, each with a name and arguments that are a
  /// JSON object (empty arguments become "{}"; a call without an id gets
  /// "call_<index>"), or the first problem.
  std::variant<std::vector<tool_call>, malformed> finish() const;

  bool empty() const noexcept {
    return slots_.empty();
  }

  bool failed() const noexcept {
    return !error_.empty();
  }

  const std::string& error() const noexcept {
    return error_;
  }

private:
  struct slot {
    bool used = false;
    tool_call call;
  };

  assembler_limits limits_;
  std::vector<slot> slots_; // by index, grown on demand up to max_calls
  std::string error_;
};

/// Classifies a failed HTTP answer from status, body and the Retry-After
/// header (delta-seconds; an HTTP date is not used). The message is the
/// body's error.message when it has one.
failure classify_http_error(int status, std::string_view body,
                            std::string_view retry_after = {});

/// Classifies an error the provider reported inside a 200 stream.
failure classify_api_error(const api_error& error);

/// A finish reason that means failure ("content_filter"), or nullopt.
std::optional<failure> classify_finish_reason(std::string_view finish_reason);

} // namespace openai

} // namespace parley::llm
