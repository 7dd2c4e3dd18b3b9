#pragma once

#include <cstddef>
#include <cstdint>

// The fuzz targets: one entry function per area, shared by the libFuzzer
// executables (libfuzzer_main.cpp, clang build with PARLEY_FUZZ) and by the
// GoogleTest runner that replays the seed corpora and the regression inputs
// in the normal build (corpus_test.cpp). Each takes any bytes, returns 0 and
// aborts (fuzz_check.hpp) when an invariant does not hold.
namespace parley::fuzz {

using entry_function = int (*)(const std::uint8_t* data, std::size_t size);

/// WebSocket client frames (transport/protocol).
int fuzz_protocol(const std::uint8_t* data, std::size_t size);
/// REST: JSON bodies and their parsers, request targets, routes and query
/// parameters (transport/rest_requests, rest_routes, http_router,
/// config/url_encoding).
int fuzz_rest(const std::uint8_t* data, std::size_t size);
/// DATABASE_URL (config/database_url).
int fuzz_database_url(const std::uint8_t* data, std::size_t size);
/// .env files, command lines and environments (config/dotenv,
/// server_config, llm_config).
int fuzz_config(const std::uint8_t* data, std::size_t size);
/// Server-Sent Events streams (transport/sse_parser).
int fuzz_sse(const std::uint8_t* data, std::size_t size);
/// OpenAI chat-completion replies and errors (transport/openai_protocol).
int fuzz_openai(const std::uint8_t* data, std::size_t size);
/// Frames from the custom WebSocket LLM (transport/custom_llm_protocol).
int fuzz_custom_llm(const std::uint8_t* data, std::size_t size);
/// The Markdown splitter, the tokenizer and the UTF-8 helpers
/// (agent/markdown_sections, tokenizer, utf8_text).
int fuzz_markdown(const std::uint8_t* data, std::size_t size);
/// The BM25 index: documents put, replaced, erased and searched
/// (agent/knowledge_index).
int fuzz_knowledge(const std::uint8_t* data, std::size_t size);
/// Routing: LLM routes, the rule router, rules files and the stored
/// conversation state (agent/route, rule_router, agent_rules,
/// conversation_state).
int fuzz_route(const std::uint8_t* data, std::size_t size);

struct target {
  const char* name; // the folder under corpus/, dict/ and regressions/
  entry_function entry;
};

/// Every target, in a fixed order.
inline constexpr target all_targets[] = {
  {"protocol", fuzz_protocol},       {"rest", fuzz_rest},
  {"database_url", fuzz_database_url}, {"config", fuzz_config},
  {"sse", fuzz_sse},                 {"openai", fuzz_openai},
  {"custom_llm", fuzz_custom_llm},   {"markdown", fuzz_markdown},
  {"knowledge", fuzz_knowledge},     {"route", fuzz_route},
};

} // namespace parley::fuzz
