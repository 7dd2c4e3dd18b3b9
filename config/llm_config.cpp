#include "config/llm_config.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <utility>

#include "config/option_values.hpp"

namespace parley {

namespace {

using detail::env_lookup;
using detail::fail;
using detail::non_empty;
using detail::number_text;
using detail::option_label;
using detail::parse_decimal;
using detail::parse_whole;
using detail::seconds_in_range;
using detail::seconds_text;
using detail::shown;
using detail::to_lower;
using detail::whole_in_range;

// Variable names; the help text and the messages use the same spelling.
constexpr const char* var_provider = "LLM_PROVIDER";
constexpr const char* var_ws_url = "LLM_WEBSOCKET_URL";
constexpr const char* var_ws_key = "LLM_API_KEY";
constexpr const char* var_ws_model = "LLM_MODEL_NAME";
constexpr const char* var_openai_url = "OPENAI_BASE_URL";
constexpr const char* var_openai_key = "OPENAI_API_KEY";
constexpr const char* var_openai_model = "OPENAI_MODEL";
constexpr const char* var_timeout = "LLM_TIMEOUT";
constexpr const char* var_max_retries = "LLM_MAX_RETRIES";
constexpr const char* var_max_in_flight = "LLM_MAX_IN_FLIGHT";
constexpr const char* var_max_tokens = "LLM_MAX_TOKENS";
constexpr const char* var_temperature = "LLM_TEMPERATURE";
constexpr const char* var_advanced_ai = "ENABLE_ADVANCED_AI";
constexpr const char* var_stream = "LLM_STREAM";
constexpr const char* var_health_interval = "LLM_HEALTH_INTERVAL";
constexpr const char* var_backoff_base = "LLM_BACKOFF_BASE";
constexpr const char* var_backoff_cap = "LLM_BACKOFF_CAP";
constexpr const char* var_backoff_attempts = "LLM_BACKOFF_MAX_ATTEMPTS";
constexpr const char* var_circuit_failures = "LLM_CIRCUIT_FAILURES";
constexpr const char* var_circuit_open = "LLM_CIRCUIT_OPEN_SECONDS";
constexpr const char* var_tool_rounds = "LLM_MAX_TOOL_ROUNDS";

// Limits of the validation; the help text quotes the same numbers.
constexpr double max_timeout_seconds = 600;
constexpr double max_interval_seconds = 3600; // health, backoff, circuit
constexpr std::uint64_t max_retries_limit = 10;
// Below the WebSocket client's 1,024 queued frames, with room for cancels
// and health checks.
constexpr std::uint64_t max_in_flight_limit = 1000;
constexpr std::uint64_t max_tokens_limit = 1000000;
constexpr double max_temperature = 2;
constexpr std::uint64_t max_backoff_attempts = 1000000;
constexpr std::uint64_t max_circuit_failures = 1000;
constexpr std::uint64_t max_tool_rounds_limit = 16;

bool parse_bool(const std::string& name, std::string_view text) {
  auto value = to_lower(text);
  for (auto yes : {"true", "1", "yes", "on"})
    if (value == yes)
      return true;
  for (auto no : {"false", "0", "no", "off"})
    if (value == no)
      return false;
  fail(name, shown(text) + " is not a boolean (true, false, 1, 0, yes, no, "
                           "on, off)");
}

/// nullopt for "auto": the provider follows from the URLs.
std::optional<llm_provider> parse_provider(const std::string& name,
                                           std::string_view text) {
  auto value = to_lower(text);
  if (value == "websocket")
    return llm_provider::websocket;
  if (value == "openai")
    return llm_provider::openai;
  if (value == "none" || value == "fallback")
    return llm_provider::none;
  if (value == "auto")
    return std::nullopt;
  fail(name, shown(text) + " is not an LLM provider (websocket, openai, none, "
                           "fallback, auto)");
}

/// The key goes into an HTTP header: a control character would split it,
/// whitespace would break the Bearer syntax. The key is never shown.
void check_api_key(const std::string& name, const std::string& key) {
  for (unsigned char c : key)
    if (c <= 0x20 || c == 0x7f)
      fail(name, "contains a space or control character (the key is not "
                 "shown)");
}

std::uint16_t default_port(std::string_view scheme) {
  return scheme == "wss" || scheme == "https" ? 443 : 80;
}

bool is_host_char(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_';
}

/// Appends one wrapped help entry: `name` in a column, `text` beside it.
void help_entry(std::string& out, std::string_view name,
                std::string_view text) {
  constexpr size_t indent = 2;
  constexpr size_t column = 29;
  constexpr size_t width = 100;
  std::string line(indent, ' ');
  line += name;
  if (line.size() + 1 > column) {
    out += line + '\n';
    line.clear();
  }
  line.resize(column, ' ');
  bool first = true;
  while (!text.empty()) {
    auto space = text.find(' ');
    auto word = text.substr(0, space);
    if (!first && line.size() + 1 + word.size() > width) {
      out += line + '\n';
      line.assign(column, ' ');
      first = true;
    }
    if (!first)
      line += ' ';
    line += word;
    first = false;
    text = space == std::string_view::npos ? std::string_view{}
                                           : text.substr(space + 1);
  }
  out += line + '\n';
}

} // namespace

const char* to_string(llm_provider provider) noexcept {
  switch (provider) {
    case llm_provider::none:
      return "none";
    case llm_provider::websocket:
      return "websocket";
    case llm_provider::openai:
      return "openai";
  }
  return "unknown";
}

// -- llm_endpoint -------------------------------------------------------------

bool llm_endpoint::tls() const noexcept {
  return scheme == "wss" || scheme == "https";
}

bool llm_endpoint::websocket() const noexcept {
  return scheme == "ws" || scheme == "wss";
}

std::string llm_endpoint::host_header() const {
  auto result = host.find(':') != std::string::npos ? '[' + host + ']' : host;
  if (port != default_port(scheme))
    result += ':' + std::to_string(port);
  return result;
}

std::string llm_endpoint::target_with(std::string_view suffix) const {
  if (suffix.empty())
    return target;
  auto query_start = target.find('?');
  auto path = target.substr(0, query_start);
  auto query = query_start == std::string::npos ? std::string{}
                                                 : target.substr(query_start);
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  if (suffix.front() != '/')
    path += '/';
  path += suffix;
  return path + query;
}

std::string llm_endpoint::str() const {
  return scheme + "://" + host_header() + target;
}

std::string llm_endpoint::redacted() const {
  auto query_start = target.find('?');
  if (query_start == std::string::npos)
    return str();
  auto result = scheme + "://" + host_header()
                + target.substr(0, query_start + 1);
  std::string_view query{target};
  query.remove_prefix(query_start + 1);
  bool first = true;
  while (true) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    if (!first)
      result += '&';
    first = false;
    if (auto eq = item.find('='); eq != std::string_view::npos)
      result += std::string{item.substr(0, eq)} + "=***";
    else if (!item.empty())
      result += "***"; // a bare item may be the token itself
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return result;
}

llm_endpoint parse_llm_endpoint(std::string_view url, std::string_view name) {
  // Only the scheme is ever quoted: the rest may carry a token.
  auto bad = [name](const std::string& what) {
    fail(std::string{name}, what);
  };
  if (url.empty())
    bad("must not be empty");
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f)
      bad("contains a space, control or non-ASCII character (percent-encode "
          "it)");
  auto sep = url.find("://");
  auto scheme = url.substr(0, sep);
  if (sep == std::string_view::npos || sep == 0
      || scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
           != std::string_view::npos)
    bad("not a URL (expected ws://, wss://, http:// or https:// "
        "followed by host[:port]/path)");
  llm_endpoint result;
  result.scheme = to_lower(scheme);
  if (result.scheme != "ws" && result.scheme != "wss"
      && result.scheme != "http" && result.scheme != "https")
    bad("unsupported scheme " + shown(result.scheme)
        + " (expected ws, wss, http or https)");
  auto rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos)
    bad("fragments ('#...') are not allowed");
  auto authority_end = rest.find_first_of("/?");
  auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos)
    bad("user info ('user:password@') is not allowed in the URL; put the "
        "key into the API key variable");
  std::string_view host;
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      bad("IPv6 address has no closing ']'");
    host = authority.substr(1, close - 1);
    if (host.empty()
        || host.find_first_not_of("0123456789abcdefABCDEF:.")
             != std::string_view::npos
        || host.find(':') == std::string_view::npos)
      bad("not an IPv6 address in brackets (zone IDs are not supported)");
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        bad("unexpected text after the IPv6 address (expected ':port')");
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos
        && authority.find(':', colon + 1) != std::string_view::npos)
      bad("IPv6 addresses must be written in brackets, as in ws://[::1]:8080/");
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos)
      port_text = authority.substr(colon + 1);
    if (std::any_of(host.begin(), host.end(),
                    [](unsigned char c) { return !is_host_char(c); }))
      bad("the host name may contain only letters, digits, '-', '.' and '_'");
  }
  if (host.empty())
    bad("no host (expected " + result.scheme + "://host[:port]/path)");
  result.host = to_lower(host);
  if (port_text) {
    auto port = parse_whole(*port_text);
    if (!port || *port < 1 || *port > 65535)
      bad("the port is not a number in 1..65535");
    result.port = static_cast<std::uint16_t>(*port);
  } else {
    result.port = default_port(result.scheme);
  }
  auto target = authority_end == std::string_view::npos
                  ? std::string_view{}
                  : rest.substr(authority_end);
  result.target = target.empty() || target.front() == '?'
                    ? "/" + std::string{target}
                    : std::string{target};
  return result;
}

// -- llm_config ---------------------------------------------------------------

std::string llm_config::describe() const {
  std::string result = "provider=";
  result += to_string(provider);
  result += provider_explicit ? " (chosen)" : " (auto)";
  if (provider == llm_provider::none)
    return result + ", fallback replies only";
  result += " url=" + endpoint.redacted();
  result += " model=" + model;
  result += api_key.empty() ? " api_key=none" : " api_key=set";
  result += " timeout=" + seconds_text(timeout) + "s";
  result += " retries=" + std::to_string(max_retries);
  if (provider == llm_provider::websocket)
    result += " max_in_flight=" + std::to_string(max_in_flight);
  result += " max_tokens=" + std::to_string(max_tokens);
  result += " temperature=" + number_text(temperature);
  result += advanced_ai ? " advanced_ai=on" : " advanced_ai=off";
  result += stream ? " stream=on" : " stream=off";
  result += " health_interval=" + seconds_text(health_interval) + "s";
  result += " backoff=" + seconds_text(backoff_base) + "s.."
            + seconds_text(backoff_cap) + "s";
  result += " backoff_attempts="
            + (backoff_max_attempts == 0 ? std::string{"unlimited"}
                                         : std::to_string(backoff_max_attempts));
  result += " circuit=" + std::to_string(circuit_failure_threshold)
            + " failures/" + seconds_text(circuit_open_time) + "s";
  result += " tool_rounds=" + std::to_string(max_tool_rounds);
  return result;
}

llm_config load_llm_config(const llm_flags& flags, const env_map& dotenv,
                           const env_map& environment) {
  env_lookup env{dotenv, environment};
  llm_config cfg;
  auto provider_name = option_label("llm-provider", var_provider);
  auto chosen = flags.provider ? flags.provider : env(var_provider);
  std::optional<llm_provider> provider;
  if (chosen)
    provider = parse_provider(provider_name, *chosen);
  if (provider) {
    cfg.provider = *provider;
    cfg.provider_explicit = true;
  } else if (flags.url) {
    // A flag beats the environment, so its scheme beats the variables.
    cfg.provider = parse_llm_endpoint(*flags.url, "--llm-url").websocket()
                     ? llm_provider::websocket
                     : llm_provider::openai;
  } else if (env(var_ws_url)) {
    cfg.provider = llm_provider::websocket; // wins over the OpenAI variables
  } else if (env(var_openai_key) || env(var_openai_url)) {
    cfg.provider = llm_provider::openai;
  }
  auto note_ignored = [&](std::initializer_list<const char*> names) {
    for (auto name : names)
      if (env(name))
        cfg.ignored.emplace_back(name);
  };
  switch (cfg.provider) {
    case llm_provider::none: {
      // Only an explicit LLM_PROVIDER=none gets here with --llm-url.
      if (flags.url)
        fail("--llm-url", "has no use with the LLM provider none (from "
                              + provider_name + "); use --llm-provider auto");
      if (flags.model)
        fail("--llm-model", "has no use without an LLM provider; set "
                            "LLM_WEBSOCKET_URL, OPENAI_BASE_URL or "
                            "OPENAI_API_KEY, or --llm-url");
      note_ignored({var_ws_url, var_ws_key, var_ws_model, var_openai_url,
                    var_openai_key, var_openai_model});
      break;
    }
    case llm_provider::websocket: {
      auto url_name = option_label("llm-url", var_ws_url);
      auto url = flags.url ? flags.url : env(var_ws_url);
      if (!url)
        fail(provider_name, "websocket needs " + std::string{var_ws_url}
                              + " (or --llm-url) set to a ws:// or wss:// URL");
      cfg.endpoint = parse_llm_endpoint(*url, url_name);
      if (!cfg.endpoint.websocket())
        fail(url_name, "the websocket provider needs a ws:// or wss:// URL, "
                       "not " + cfg.endpoint.scheme + "://");
      if (auto key = env(var_ws_key)) {
        check_api_key(var_ws_key, *key);
        cfg.api_key = std::move(*key);
      }
      auto model_name = option_label("llm-model", var_ws_model);
      if (auto model = flags.model ? flags.model : env(var_ws_model))
        cfg.model = non_empty(model_name, std::move(*model));
      note_ignored({var_openai_url, var_openai_key, var_openai_model});
      break;
    }
    case llm_provider::openai: {
      auto url_name = option_label("llm-url", var_openai_url);
      auto url = flags.url ? flags.url : env(var_openai_url);
      cfg.endpoint = parse_llm_endpoint(
        url ? *url : std::string{llm_config::default_openai_base_url},
        url_name);
      if (cfg.endpoint.websocket())
        fail(url_name, "the openai provider needs an http:// or https:// "
                       "base URL, not " + cfg.endpoint.scheme + "://");
      if (auto key = env(var_openai_key)) {
        check_api_key(var_openai_key, *key);
        cfg.api_key = std::move(*key);
      }
      auto model_name = option_label("llm-model", var_openai_model);
      cfg.model = llm_config::default_openai_model;
      if (auto model = flags.model ? flags.model : env(var_openai_model))
        cfg.model = non_empty(model_name, std::move(*model));
      note_ignored({var_ws_url, var_ws_key, var_ws_model});
      break;
    }
  }
  // Shared by both providers: validated whatever the provider.
  if (auto v = env(var_timeout))
    cfg.timeout = seconds_in_range(var_timeout, *v, max_timeout_seconds);
  if (auto v = env(var_max_retries))
    cfg.max_retries = whole_in_range(var_max_retries, *v, 0,
                                     max_retries_limit);
  if (auto v = env(var_max_in_flight))
    cfg.max_in_flight = whole_in_range(var_max_in_flight, *v, 1,
                                       max_in_flight_limit);
  if (auto v = env(var_max_tokens))
    cfg.max_tokens = whole_in_range(var_max_tokens, *v, 1, max_tokens_limit);
  if (auto v = env(var_temperature)) {
    auto value = parse_decimal(*v);
    if (!value || *value > max_temperature)
      fail(var_temperature, shown(*v) + " is not a number in 0..2");
    cfg.temperature = *value;
  }
  if (auto v = env(var_advanced_ai))
    cfg.advanced_ai = parse_bool(var_advanced_ai, *v);
  if (auto v = env(var_stream))
    cfg.stream = parse_bool(var_stream, *v);
  if (auto v = env(var_health_interval))
    cfg.health_interval = seconds_in_range(var_health_interval, *v,
                                           max_interval_seconds);
  if (auto v = env(var_backoff_base))
    cfg.backoff_base = seconds_in_range(var_backoff_base, *v,
                                        max_interval_seconds);
  if (auto v = env(var_backoff_cap))
    cfg.backoff_cap = seconds_in_range(var_backoff_cap, *v,
                                       max_interval_seconds);
  if (cfg.backoff_cap < cfg.backoff_base)
    fail(var_backoff_cap, seconds_text(cfg.backoff_cap)
                            + " s is less than " + var_backoff_base + " ("
                            + seconds_text(cfg.backoff_base) + " s)");
  if (auto v = env(var_backoff_attempts))
    cfg.backoff_max_attempts = whole_in_range(var_backoff_attempts, *v, 0,
                                              max_backoff_attempts);
  if (auto v = env(var_circuit_failures))
    cfg.circuit_failure_threshold = whole_in_range(var_circuit_failures, *v,
                                                   1, max_circuit_failures);
  if (auto v = env(var_circuit_open))
    cfg.circuit_open_time = seconds_in_range(var_circuit_open, *v,
                                             max_interval_seconds);
  if (auto v = env(var_tool_rounds))
    cfg.max_tool_rounds = whole_in_range(var_tool_rounds, *v, 1,
                                         max_tool_rounds_limit);
  return cfg;
}

std::string llm_environment_help() {
  llm_config defaults;
  std::string out = "LLM settings from the environment or .env (no flag "
                    "unless named; an empty value counts as unset):\n";
  help_entry(out, var_ws_url,
             "ws:// or wss:// URL of the custom LLM WebSocket server; when "
             "set (and LLM_PROVIDER is not) the websocket provider is used, "
             "even if OPENAI_* is set too (also --llm-url)");
  help_entry(out, var_ws_key,
             "sent to the WebSocket LLM as 'Authorization: Bearer ...' "
             "when set (default: none)");
  help_entry(out, var_ws_model,
             std::string{"model name sent to the WebSocket LLM (default: "}
               + llm_config::default_websocket_model + "; also --llm-model)");
  help_entry(out, var_openai_url,
             std::string{"http:// or https:// base URL of an "
                         "OpenAI-compatible API; when set (or OPENAI_API_KEY "
                         "is) the openai provider is used (default: "}
               + llm_config::default_openai_base_url + "; also --llm-url)");
  help_entry(out, var_openai_key,
             "sent to the OpenAI-compatible API as 'Authorization: Bearer "
             "...' when set (default: none)");
  help_entry(out, var_openai_model,
             std::string{"model for the OpenAI-compatible API (default: "}
               + llm_config::default_openai_model + "; also --llm-model)");
  help_entry(out, var_timeout,
             "seconds per LLM request, more than 0, at most 600 (default: "
               + seconds_text(defaults.timeout) + ")");
  help_entry(out, var_max_retries,
             "retries of a failed request, 0..10 (default: "
               + std::to_string(defaults.max_retries) + ")");
  help_entry(out, var_max_in_flight,
             "websocket: requests on the LLM connection at once, 1..1000; "
             "more wait in Parley (default: "
               + std::to_string(defaults.max_in_flight) + ")");
  help_entry(out, var_max_tokens,
             "most tokens per reply, 1..1000000 (default: "
               + std::to_string(defaults.max_tokens) + ")");
  help_entry(out, var_temperature,
             "sampling temperature, 0..2 (default: "
               + number_text(defaults.temperature) + ")");
  help_entry(out, var_advanced_ai,
             "ask for advanced answers (the advanced_ai field of the "
             "WebSocket protocol): true/false/1/0/yes/no/on/off (default: "
             "true)");
  help_entry(out, var_stream,
             "stream replies as they are generated, true/false (default: "
             "true)");
  help_entry(out, var_health_interval,
             "seconds between LLM health checks, at most 3600 (default: "
               + seconds_text(defaults.health_interval) + ")");
  help_entry(out, var_backoff_base,
             "first reconnect delay in seconds, doubling up to "
             "LLM_BACKOFF_CAP, with jitter (default: "
               + seconds_text(defaults.backoff_base) + ")");
  help_entry(out, var_backoff_cap,
             "longest reconnect delay in seconds, at least LLM_BACKOFF_BASE, "
             "at most 3600 (default: "
               + seconds_text(defaults.backoff_cap) + ")");
  help_entry(out, var_backoff_attempts,
             "reconnect attempts before giving up, 0 = unlimited (default: "
               + std::to_string(defaults.backoff_max_attempts) + ")");
  help_entry(out, var_circuit_failures,
             "consecutive failures that open the circuit breaker, 1..1000 "
             "(default: "
               + std::to_string(defaults.circuit_failure_threshold) + ")");
  help_entry(out, var_circuit_open,
             "seconds the breaker stays open before one probe, at most 3600 "
             "(default: "
               + seconds_text(defaults.circuit_open_time) + ")");
  help_entry(out, var_tool_rounds,
             "most tool-call rounds per reply, 1..16 (default: "
               + std::to_string(defaults.max_tool_rounds) + ")");
  return out;
}

} // namespace parley
