#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/dotenv.hpp"

namespace parley {

/// Which LLM answers chat messages.
enum class llm_provider {
  none,      // no LLM: fallback replies only
  websocket, // the seed's custom LLM WebSocket protocol (LLM_WEBSOCKET_URL)
  openai,    // OpenAI-compatible chat completions over HTTP (OPENAI_BASE_URL)
};

/// "none", "websocket" or "openai".
const char* to_string(llm_provider provider) noexcept;

/// A parsed ws://, wss://, http:// or https:// URL. User info ("user@") and
/// fragments ("#...") are rejected; the path and query are kept verbatim.
struct llm_endpoint {
  std::string scheme;     // lower-case: "ws", "wss", "http" or "https"
  std::string host;       // lower-case; an IPv6 literal without brackets
  std::uint16_t port = 0; // as written, else 80 (ws, http) or 443 (wss, https)
  std::string target;     // path and query, always starting with '/'

  /// wss or https: the connection needs TLS.
  bool tls() const noexcept;

  /// ws or wss.
  bool websocket() const noexcept;

  /// The Host header: IPv6 in brackets, ":port" only when not the default.
  std::string host_header() const;

  /// `target` with `suffix` appended to its path, before any query, without
  /// doubling a '/': "/v1?x=1" + "/chat/completions" gives
  /// "/v1/chat/completions?x=1". OpenAI base URLs need this.
  std::string target_with(std::string_view suffix) const;

  /// The URL in normal form (default port left out).
  std::string str() const;

  /// Like str() with every query value replaced by "***": some servers take
  /// tokens in the query, and this goes to the log.
  std::string redacted() const;
};

/// Parses an LLM URL; throws config_error "NAME: what is wrong" with `name`
/// (the variable) at the start. Messages quote the scheme at most, never
/// other parts of the URL, which may carry a token.
llm_endpoint parse_llm_endpoint(std::string_view url, std::string_view name);

/// LLM connection settings. Read from the environment and `.env`, plus the
/// three flags of llm_flags; each field names its variable.
///
/// Provider choice: LLM_PROVIDER / --llm-provider when given (websocket,
/// openai, none or fallback (= none), auto; any case). Otherwise a
/// --llm-url flag picks by its scheme (ws/wss: websocket, http/https:
/// openai); otherwise websocket if LLM_WEBSOCKET_URL is set, else openai if
/// OPENAI_API_KEY or OPENAI_BASE_URL is set, else none. When both kinds are
/// set, websocket wins (the seed's variable comes first); the OpenAI
/// variables are then listed in `ignored`.
///
/// Only the chosen provider's URL, key and model variables are read (and
/// validated); the shared numeric settings are always validated so that a
/// typo never waits for the day an LLM gets configured.
struct llm_config {
  static constexpr const char* default_websocket_model = "custom-model";
  static constexpr const char* default_openai_model = "gpt-4o-mini";
  static constexpr const char* default_openai_base_url
    = "https://api.openai.com/v1";

  llm_provider provider = llm_provider::none; // LLM_PROVIDER, --llm-provider
  bool provider_explicit = false; // LLM_PROVIDER or the flag chose it

  /// websocket: LLM_WEBSOCKET_URL; openai: OPENAI_BASE_URL (with default);
  /// --llm-url sets the one of the chosen provider. Empty for none.
  llm_endpoint endpoint;

  /// SECRET. websocket: LLM_API_KEY; openai: OPENAI_API_KEY. Empty means no
  /// Authorization header. No flag: command lines show up in `ps`.
  std::string api_key;

  /// websocket: LLM_MODEL_NAME; openai: OPENAI_MODEL; --llm-model for either.
  std::string model = default_websocket_model;

  std::chrono::milliseconds timeout{30000}; // LLM_TIMEOUT (s), per request
  std::size_t max_retries = 3;              // LLM_MAX_RETRIES, 0..10
  /// websocket: requests on the connection at once; more wait in Parley.
  std::size_t max_in_flight = 256;          // LLM_MAX_IN_FLIGHT, 1..1000
  std::size_t max_tokens = 4000;            // LLM_MAX_TOKENS, 1..1000000
  double temperature = 0.7;                 // LLM_TEMPERATURE, 0..2
  bool advanced_ai = true;                  // ENABLE_ADVANCED_AI
  bool stream = true;                       // LLM_STREAM
  std::chrono::milliseconds health_interval{15000}; // LLM_HEALTH_INTERVAL (s)

  // Supervisor restarts: delay = min(cap, base * 2^n) with jitter.
  std::chrono::milliseconds backoff_base{500};  // LLM_BACKOFF_BASE (s)
  std::chrono::milliseconds backoff_cap{30000}; // LLM_BACKOFF_CAP (s), >= base
  std::size_t backoff_max_attempts = 0; // LLM_BACKOFF_MAX_ATTEMPTS; 0 = no limit

  // Circuit breaker: opens after this many consecutive failures, half-opens
  // (lets one probe through) after the open time.
  std::size_t circuit_failure_threshold = 5; // LLM_CIRCUIT_FAILURES
  std::chrono::milliseconds circuit_open_time{30000}; // LLM_CIRCUIT_OPEN_SECONDS

  std::size_t max_tool_rounds = 4; // LLM_MAX_TOOL_ROUNDS, 1..16

  /// Names (never values) of set variables the chosen provider does not
  /// read, e.g. OPENAI_API_KEY when LLM_WEBSOCKET_URL won: worth a warning
  /// in the start-up log.
  std::vector<std::string> ignored;

  /// One line for the start-up log; the API key shows as "set" or "none"
  /// and query values of the URL as "***".
  std::string describe() const;
};

/// The LLM settings that also have a command-line flag; nullopt = not given
/// (an empty string was given and gets validated).
struct llm_flags {
  std::optional<std::string> provider; // --llm-provider
  std::optional<std::string> url;      // --llm-url
  std::optional<std::string> model;    // --llm-model
};

/// Builds the LLM settings with server_config's precedence: flag, then the
/// process environment, then `.env`, then the default; an empty environment
/// or `.env` value counts as unset. Throws config_error with one line naming
/// the variable (and flag, if any) on the first bad value; the API key is
/// never part of a message.
llm_config load_llm_config(const llm_flags& flags, const env_map& dotenv,
                           const env_map& environment);

/// The LLM variables without a flag, with defaults and ranges, for --help.
std::string llm_environment_help();

} // namespace parley
