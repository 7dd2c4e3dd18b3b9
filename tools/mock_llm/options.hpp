#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::mock_llm {

enum class protocol_kind {
  websocket, // the custom LLM WebSocket protocol of the original chatbot
  openai,    // OpenAI-compatible chat completions over HTTP
};

const char* to_string(protocol_kind kind) noexcept;

/// Everything the command line can set (tools/mock_llm/README.md describes
/// each flag). Counts of 0 in the `*_count` fields mean "every request".
struct options {
  protocol_kind protocol = protocol_kind::websocket;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::uint32_t latency_ms = 0;
  std::uint32_t chunk_delay_ms = 0;
  std::uint32_t chunks = 4;
  std::vector<std::uint64_t> fail_nth;
  std::optional<std::uint32_t> close_mid_stream;
  std::uint64_t close_count = 0;
  // Broken replies (at most one of the three; README "Broken replies").
  bool garbage = false;            // malformed frames / SSE events
  std::uint64_t oversized = 0;     // a reply of this many bytes in one frame
  bool truncate_frame = false;     // the first reply frame cut in half
  unsigned status = 0;
  std::uint64_t status_count = 0;
  std::uint32_t retry_after = 0;
  std::string tool_call;
  std::string tool_args = "{}";
  // --agent: route and call tools like a small model (agent_mode.hpp).
  bool agent = false;
  std::optional<std::string> require_key;
  std::optional<std::string> reply;
  bool legacy_fields = false;
  bool usage_chunk = true;
  std::uint32_t idle_timeout_ms = 300000;
  bool verbose = false;
  // Both set: serve TLS only (https, wss) with this PEM certificate (chain)
  // and key.
  std::string tls_cert;
  std::string tls_key;

  bool tls() const noexcept {
    return !tls_cert.empty();
  }
};

/// The outcome of parse_options: either options to run with, or a text to
/// print and an exit code (help: 0, bad usage: 2).
struct parse_result {
  std::optional<options> opts;
  std::string message;
  int exit_code = 0;
};

parse_result parse_options(int argc, char** argv);

} // namespace parley::mock_llm
