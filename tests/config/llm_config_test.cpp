#include "config/llm_config.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <initializer_list>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "config/server_config.hpp"

using namespace parley;
using namespace std::chrono_literals;

namespace {

// Present in the environment of every failing load: no message may show it.
constexpr const char* secret = "sk-TopSecret-4711";

llm_config llm(const env_map& environment, const env_map& dotenv = {},
               const llm_flags& flags = {}) {
  return load_llm_config(flags, dotenv, environment);
}

/// The one-line config_error message of a load that must fail; the API key
/// variables hold `secret`, which the message must not contain.
std::string llm_error(env_map environment, const llm_flags& flags = {}) {
  environment.emplace("LLM_API_KEY", secret);
  environment.emplace("OPENAI_API_KEY", secret);
  try {
    load_llm_config(flags, {}, environment);
  } catch (const config_error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    EXPECT_EQ(what.find(secret), std::string::npos) << "key shown: " << what;
    return what;
  }
  ADD_FAILURE() << "load did not throw";
  return {};
}

std::string url_error(std::string_view url) {
  try {
    parse_llm_endpoint(url, "LLM_WEBSOCKET_URL");
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no config_error for '" << url << "'";
  return {};
}

config_load_result load(std::initializer_list<const char*> flags,
                        const env_map& dotenv = {},
                        const env_map& environment = {}) {
  std::vector<const char*> argv{"parley"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return load_server_config(static_cast<int>(argv.size()), argv.data(),
                            dotenv, environment);
}

std::string load_error(std::initializer_list<const char*> flags,
                       env_map environment = {}) {
  environment.emplace("LLM_API_KEY", secret);
  environment.emplace("OPENAI_API_KEY", secret);
  try {
    load(flags, {}, environment);
  } catch (const config_error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    EXPECT_EQ(what.find(secret), std::string::npos) << "key shown: " << what;
    return what;
  }
  ADD_FAILURE() << "load did not throw";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool starts_with(const std::string& text, const std::string& part) {
  return text.compare(0, part.size(), part) == 0;
}

} // namespace

// -- defaults and values ------------------------------------------------------

TEST(llm_config, defaults) {
  auto cfg = llm({});
  EXPECT_EQ(cfg.provider, llm_provider::none);
  EXPECT_FALSE(cfg.provider_explicit);
  EXPECT_TRUE(cfg.endpoint.host.empty());
  EXPECT_TRUE(cfg.api_key.empty());
  EXPECT_EQ(cfg.model, "custom-model");
  EXPECT_EQ(cfg.timeout, 30000ms);
  EXPECT_EQ(cfg.max_retries, 3u);
  EXPECT_EQ(cfg.max_tokens, 4000u);
  EXPECT_DOUBLE_EQ(cfg.temperature, 0.7);
  EXPECT_TRUE(cfg.advanced_ai);
  EXPECT_TRUE(cfg.stream);
  EXPECT_EQ(cfg.health_interval, 15000ms);
  EXPECT_EQ(cfg.backoff_base, 500ms);
  EXPECT_EQ(cfg.backoff_cap, 30000ms);
  EXPECT_EQ(cfg.backoff_max_attempts, 0u);
  EXPECT_EQ(cfg.circuit_failure_threshold, 5u);
  EXPECT_EQ(cfg.circuit_open_time, 30000ms);
  EXPECT_EQ(cfg.max_tool_rounds, 4u);
  EXPECT_TRUE(cfg.ignored.empty());
  EXPECT_EQ(cfg.describe(), "provider=none (auto), fallback replies only");
  // The struct's own defaults match what loading gives.
  llm_config plain;
  EXPECT_EQ(plain.provider, llm_provider::none);
  EXPECT_EQ(plain.timeout, cfg.timeout);
  EXPECT_EQ(load({}).config.llm.provider, llm_provider::none);
}

TEST(llm_config, provider_names) {
  EXPECT_STREQ(to_string(llm_provider::none), "none");
  EXPECT_STREQ(to_string(llm_provider::websocket), "websocket");
  EXPECT_STREQ(to_string(llm_provider::openai), "openai");
}

TEST(llm_config, websocket_settings) {
  auto cfg = llm({{"LLM_WEBSOCKET_URL", "ws://llm.local:8080/chat"},
                  {"LLM_API_KEY", "key-1"},
                  {"LLM_MODEL_NAME", "my-model"}});
  EXPECT_EQ(cfg.provider, llm_provider::websocket);
  EXPECT_FALSE(cfg.provider_explicit);
  EXPECT_EQ(cfg.endpoint.scheme, "ws");
  EXPECT_EQ(cfg.endpoint.host, "llm.local");
  EXPECT_EQ(cfg.endpoint.port, 8080);
  EXPECT_EQ(cfg.endpoint.target, "/chat");
  EXPECT_EQ(cfg.api_key, "key-1");
  EXPECT_EQ(cfg.model, "my-model");
  EXPECT_TRUE(cfg.ignored.empty());
  // Without a key: no Authorization header, so the key stays empty.
  auto keyless = llm({{"LLM_WEBSOCKET_URL", "wss://llm.local/chat"},
                      {"LLM_API_KEY", ""}});
  EXPECT_TRUE(keyless.api_key.empty());
  EXPECT_EQ(keyless.model, "custom-model");
  EXPECT_EQ(keyless.endpoint.port, 443);
}

TEST(llm_config, openai_defaults) {
  auto cfg = llm({{"OPENAI_API_KEY", "sk-1"}});
  EXPECT_EQ(cfg.provider, llm_provider::openai);
  EXPECT_EQ(cfg.endpoint.str(), "https://api.openai.com/v1");
  EXPECT_EQ(cfg.endpoint.host, "api.openai.com");
  EXPECT_EQ(cfg.endpoint.port, 443);
  EXPECT_EQ(cfg.endpoint.target, "/v1");
  EXPECT_TRUE(cfg.endpoint.tls());
  EXPECT_EQ(cfg.endpoint.target_with("/chat/completions"),
            "/v1/chat/completions");
  EXPECT_EQ(cfg.api_key, "sk-1");
  EXPECT_EQ(cfg.model, "gpt-4o-mini");
}

TEST(llm_config, openai_settings) {
  auto cfg = llm({{"OPENAI_BASE_URL", "http://localhost:11434/v1"},
                  {"OPENAI_MODEL", "llama3"}});
  EXPECT_EQ(cfg.provider, llm_provider::openai);
  EXPECT_EQ(cfg.endpoint.scheme, "http");
  EXPECT_EQ(cfg.endpoint.port, 11434);
  EXPECT_FALSE(cfg.endpoint.tls());
  EXPECT_TRUE(cfg.api_key.empty()); // local servers need none
  EXPECT_EQ(cfg.model, "llama3");
}

TEST(llm_config, every_shared_variable) {
  auto cfg = llm({{"LLM_WEBSOCKET_URL", "ws://h/"},
                  {"LLM_TIMEOUT", "2.5"},
                  {"LLM_MAX_RETRIES", "0"},
                  {"LLM_MAX_TOKENS", "1000000"},
                  {"LLM_TEMPERATURE", "1.25"},
                  {"ENABLE_ADVANCED_AI", "false"},
                  {"LLM_STREAM", "no"},
                  {"LLM_HEALTH_INTERVAL", "0.25"},
                  {"LLM_BACKOFF_BASE", "1"},
                  {"LLM_BACKOFF_CAP", "60"},
                  {"LLM_BACKOFF_MAX_ATTEMPTS", "7"},
                  {"LLM_CIRCUIT_FAILURES", "3"},
                  {"LLM_CIRCUIT_OPEN_SECONDS", "12.5"},
                  {"LLM_MAX_TOOL_ROUNDS", "16"}});
  EXPECT_EQ(cfg.timeout, 2500ms);
  EXPECT_EQ(cfg.max_retries, 0u);
  EXPECT_EQ(cfg.max_tokens, 1000000u);
  EXPECT_DOUBLE_EQ(cfg.temperature, 1.25);
  EXPECT_FALSE(cfg.advanced_ai);
  EXPECT_FALSE(cfg.stream);
  EXPECT_EQ(cfg.health_interval, 250ms);
  EXPECT_EQ(cfg.backoff_base, 1000ms);
  EXPECT_EQ(cfg.backoff_cap, 60000ms);
  EXPECT_EQ(cfg.backoff_max_attempts, 7u);
  EXPECT_EQ(cfg.circuit_failure_threshold, 3u);
  EXPECT_EQ(cfg.circuit_open_time, 12500ms);
  EXPECT_EQ(cfg.max_tool_rounds, 16u);
}

TEST(llm_config, limits_are_inclusive) {
  EXPECT_EQ(llm({{"LLM_TIMEOUT", "600"}}).timeout, 600000ms);
  EXPECT_EQ(llm({{"LLM_TIMEOUT", "0.001"}}).timeout, 1ms);
  EXPECT_EQ(llm({{"LLM_MAX_RETRIES", "10"}}).max_retries, 10u);
  EXPECT_EQ(llm({{"LLM_MAX_IN_FLIGHT", "1"}}).max_in_flight, 1u);
  EXPECT_EQ(llm({{"LLM_MAX_IN_FLIGHT", "1000"}}).max_in_flight, 1000u);
  EXPECT_EQ(llm({{"LLM_MAX_TOKENS", "1"}}).max_tokens, 1u);
  EXPECT_DOUBLE_EQ(llm({{"LLM_TEMPERATURE", "0"}}).temperature, 0.0);
  EXPECT_DOUBLE_EQ(llm({{"LLM_TEMPERATURE", "2"}}).temperature, 2.0);
  EXPECT_DOUBLE_EQ(llm({{"LLM_TEMPERATURE", ".5"}}).temperature, 0.5);
  EXPECT_EQ(llm({{"LLM_MAX_TOOL_ROUNDS", "1"}}).max_tool_rounds, 1u);
  EXPECT_EQ(llm({{"LLM_HEALTH_INTERVAL", "3600"}}).health_interval,
            3600000ms);
  EXPECT_EQ(llm({{"LLM_CIRCUIT_FAILURES", "1"}}).circuit_failure_threshold,
            1u);
  // The cap may equal the base.
  auto equal = llm({{"LLM_BACKOFF_BASE", "2"}, {"LLM_BACKOFF_CAP", "2"}});
  EXPECT_EQ(equal.backoff_base, equal.backoff_cap);
  // A base above the default cap works when the cap is raised too.
  EXPECT_EQ(llm({{"LLM_BACKOFF_BASE", "40"}, {"LLM_BACKOFF_CAP", "60"}})
              .backoff_base,
            40000ms);
}

TEST(llm_config, boolean_spellings) {
  for (auto yes : {"true", "TRUE", "1", "yes", "Yes", "on"}) {
    EXPECT_TRUE(llm({{"ENABLE_ADVANCED_AI", yes}}).advanced_ai) << yes;
    EXPECT_TRUE(llm({{"LLM_STREAM", yes}}).stream) << yes;
  }
  for (auto no : {"false", "False", "0", "no", "NO", "off"}) {
    EXPECT_FALSE(llm({{"ENABLE_ADVANCED_AI", no}}).advanced_ai) << no;
    EXPECT_FALSE(llm({{"LLM_STREAM", no}}).stream) << no;
  }
}

TEST(llm_config, invalid_values_name_the_variable) {
  struct bad_case {
    const char* var;
    const char* value;
  };
  std::vector<bad_case> cases{
    {"LLM_TIMEOUT", "0"},          {"LLM_TIMEOUT", "-1"},
    {"LLM_TIMEOUT", "600.5"},      {"LLM_TIMEOUT", "abc"},
    {"LLM_TIMEOUT", "inf"},        {"LLM_TIMEOUT", "nan"},
    {"LLM_TIMEOUT", "1e1"},        {"LLM_TIMEOUT", "30s"},
    {"LLM_TIMEOUT", "0.0001"},     {"LLM_TIMEOUT", "."},
    {"LLM_TIMEOUT", "1.2.3"},      {"LLM_MAX_RETRIES", "11"},
    {"LLM_MAX_RETRIES", "-1"},     {"LLM_MAX_RETRIES", "1.5"},
    {"LLM_MAX_IN_FLIGHT", "0"},    {"LLM_MAX_IN_FLIGHT", "1001"},
    {"LLM_MAX_TOKENS", "0"},       {"LLM_MAX_TOKENS", "1000001"},
    {"LLM_MAX_TOKENS", "many"},    {"LLM_TEMPERATURE", "2.01"},
    {"LLM_TEMPERATURE", "-0.1"},   {"LLM_TEMPERATURE", "warm"},
    {"LLM_TEMPERATURE", "nan"},    {"ENABLE_ADVANCED_AI", "maybe"},
    {"ENABLE_ADVANCED_AI", "2"},   {"LLM_STREAM", "yep"},
    {"LLM_HEALTH_INTERVAL", "0"},  {"LLM_HEALTH_INTERVAL", "3601"},
    {"LLM_BACKOFF_BASE", "0"},     {"LLM_BACKOFF_BASE", "x"},
    {"LLM_BACKOFF_CAP", "0"},      {"LLM_BACKOFF_CAP", "4000"},
    {"LLM_BACKOFF_MAX_ATTEMPTS", "-1"},
    {"LLM_BACKOFF_MAX_ATTEMPTS", "1000001"},
    {"LLM_CIRCUIT_FAILURES", "0"}, {"LLM_CIRCUIT_FAILURES", "1001"},
    {"LLM_CIRCUIT_OPEN_SECONDS", "0"},
    {"LLM_CIRCUIT_OPEN_SECONDS", "3601"},
    {"LLM_MAX_TOOL_ROUNDS", "0"},  {"LLM_MAX_TOOL_ROUNDS", "17"},
    {"LLM_PROVIDER", "claude"},
  };
  for (const auto& c : cases) {
    // Bad shared values fail whatever the provider, also with none.
    for (auto url : {"", "ws://llm/chat"}) {
      auto what = llm_error({{c.var, c.value}, {"LLM_WEBSOCKET_URL", url}});
      EXPECT_TRUE(contains(what, std::string{c.var} + ": "))
        << c.var << "=" << c.value << ": " << what;
      EXPECT_TRUE(contains(what, std::string{"'"} + c.value + "'"))
        << c.var << "=" << c.value << ": " << what;
    }
  }
  EXPECT_EQ(llm_error({{"LLM_MAX_TOOL_ROUNDS", "17"}}),
            "LLM_MAX_TOOL_ROUNDS: '17' is not a whole number in 1..16");
  EXPECT_EQ(llm_error({{"LLM_TIMEOUT", "0"}}),
            "LLM_TIMEOUT: '0' is not a number of seconds (more than 0, at "
            "most 600; fractions allowed)");
  EXPECT_EQ(llm_error({{"LLM_TEMPERATURE", "3"}}),
            "LLM_TEMPERATURE: '3' is not a number in 0..2");
  EXPECT_EQ(llm_error({{"LLM_PROVIDER", "Claude"}}),
            "--llm-provider / LLM_PROVIDER: 'Claude' is not an LLM provider "
            "(websocket, openai, none, fallback, auto)");
}

TEST(llm_config, backoff_cap_below_base) {
  EXPECT_EQ(llm_error({{"LLM_BACKOFF_BASE", "5"}, {"LLM_BACKOFF_CAP", "2"}}),
            "LLM_BACKOFF_CAP: 2 s is less than LLM_BACKOFF_BASE (5 s)");
  // Against the default cap of 30 s.
  EXPECT_TRUE(contains(llm_error({{"LLM_BACKOFF_BASE", "31"}}),
                       "LLM_BACKOFF_CAP: 30 s is less than LLM_BACKOFF_BASE"));
}

TEST(llm_config, api_key_is_never_shown) {
  // A control character would split the Authorization header.
  auto what = llm_error({{"LLM_WEBSOCKET_URL", "ws://h/"},
                         {"LLM_API_KEY", "sk-Hidden\r\nX-Evil: 1"}});
  EXPECT_TRUE(starts_with(what, "LLM_API_KEY: contains a space")) << what;
  EXPECT_FALSE(contains(what, "Hidden")) << what;
  what = llm_error({{"OPENAI_API_KEY", "sk-Hidden key"}});
  EXPECT_TRUE(starts_with(what, "OPENAI_API_KEY: ")) << what;
  EXPECT_FALSE(contains(what, "Hidden")) << what;
  // The key of the provider not chosen is not read, so not validated.
  EXPECT_EQ(llm({{"LLM_WEBSOCKET_URL", "ws://h/"},
                 {"OPENAI_API_KEY", "bad key"}})
              .provider,
            llm_provider::websocket);
}

// -- provider choice ----------------------------------------------------------

TEST(llm_config, provider_auto_selection_in_every_combination) {
  for (int mask = 0; mask < 8; ++mask) {
    bool ws = (mask & 1) != 0;
    bool key = (mask & 2) != 0;
    bool base = (mask & 4) != 0;
    env_map env;
    if (ws)
      env["LLM_WEBSOCKET_URL"] = "ws://llm:8080/chat";
    if (key)
      env["OPENAI_API_KEY"] = "sk-x";
    if (base)
      env["OPENAI_BASE_URL"] = "http://localhost:8000/v1";
    auto expected = ws               ? llm_provider::websocket
                    : key || base    ? llm_provider::openai
                                     : llm_provider::none;
    auto cfg = llm(env);
    EXPECT_EQ(cfg.provider, expected) << "mask " << mask;
    EXPECT_FALSE(cfg.provider_explicit);
    // Settings of the losing provider are reported, by name only.
    std::vector<std::string> ignored;
    if (ws) {
      if (base)
        ignored.emplace_back("OPENAI_BASE_URL");
      if (key)
        ignored.emplace_back("OPENAI_API_KEY");
    }
    EXPECT_EQ(cfg.ignored, ignored) << "mask " << mask;
    // The same from .env alone.
    EXPECT_EQ(llm({}, env).provider, expected) << "mask " << mask;
  }
}

TEST(llm_config, explicit_provider) {
  env_map both{{"LLM_WEBSOCKET_URL", "ws://llm:8080/chat"},
               {"LLM_API_KEY", "ws-key"},
               {"OPENAI_BASE_URL", "http://localhost:8000/v1"},
               {"OPENAI_API_KEY", "sk-x"}};
  for (auto name : {"openai", "OpenAI", "OPENAI"}) {
    auto env = both;
    env["LLM_PROVIDER"] = name;
    auto cfg = llm(env);
    EXPECT_EQ(cfg.provider, llm_provider::openai) << name;
    EXPECT_TRUE(cfg.provider_explicit);
    EXPECT_EQ(cfg.endpoint.port, 8000);
    EXPECT_EQ(cfg.api_key, "sk-x"); // never the websocket key
    EXPECT_EQ(cfg.ignored,
              (std::vector<std::string>{"LLM_WEBSOCKET_URL", "LLM_API_KEY"}));
  }
  auto env = both;
  env["LLM_PROVIDER"] = "WebSocket";
  auto ws = llm(env);
  EXPECT_EQ(ws.provider, llm_provider::websocket);
  EXPECT_EQ(ws.api_key, "ws-key");
  for (auto name : {"none", "fallback", "FALLBACK"}) {
    env["LLM_PROVIDER"] = name;
    auto cfg = llm(env);
    EXPECT_EQ(cfg.provider, llm_provider::none) << name;
    EXPECT_TRUE(cfg.provider_explicit);
    EXPECT_TRUE(cfg.api_key.empty());
    EXPECT_EQ(cfg.ignored.size(), 4u);
    EXPECT_EQ(cfg.describe(), "provider=none (chosen), fallback replies only");
  }
  env["LLM_PROVIDER"] = "auto";
  EXPECT_EQ(llm(env).provider, llm_provider::websocket);
  EXPECT_FALSE(llm(env).provider_explicit);
  // openai needs no variable at all: the default base URL serves.
  auto openai = llm({{"LLM_PROVIDER", "openai"}});
  EXPECT_EQ(openai.endpoint.str(), "https://api.openai.com/v1");
  EXPECT_TRUE(openai.api_key.empty());
}

TEST(llm_config, explicit_provider_needs_a_fitting_url) {
  EXPECT_EQ(llm_error({{"LLM_PROVIDER", "websocket"}}),
            "--llm-provider / LLM_PROVIDER: websocket needs LLM_WEBSOCKET_URL "
            "(or --llm-url) set to a ws:// or wss:// URL");
  // An openai URL does not serve the websocket provider.
  EXPECT_TRUE(contains(llm_error({{"LLM_PROVIDER", "websocket"},
                                  {"OPENAI_BASE_URL", "ws://h/"}}),
                       "needs LLM_WEBSOCKET_URL"));
  EXPECT_EQ(llm_error({{"LLM_WEBSOCKET_URL", "http://llm/chat"}}),
            "--llm-url / LLM_WEBSOCKET_URL: the websocket provider needs a "
            "ws:// or wss:// URL, not http://");
  EXPECT_EQ(llm_error({{"OPENAI_BASE_URL", "wss://llm/v1"}}),
            "--llm-url / OPENAI_BASE_URL: the openai provider needs an "
            "http:// or https:// base URL, not wss://");
  EXPECT_TRUE(starts_with(llm_error({{"LLM_WEBSOCKET_URL", "ftp://llm/"}}),
                          "--llm-url / LLM_WEBSOCKET_URL: unsupported scheme "
                          "'ftp'"));
}

TEST(llm_config, only_the_chosen_providers_settings_are_validated) {
  // A bad OPENAI_BASE_URL does not matter while the websocket provider wins.
  auto cfg = llm({{"LLM_WEBSOCKET_URL", "ws://llm/chat"},
                  {"OPENAI_BASE_URL", "nonsense"}});
  EXPECT_EQ(cfg.provider, llm_provider::websocket);
  EXPECT_EQ(cfg.ignored, std::vector<std::string>{"OPENAI_BASE_URL"});
  EXPECT_EQ(llm({{"LLM_PROVIDER", "none"}, {"LLM_WEBSOCKET_URL", "bad"}})
              .provider,
            llm_provider::none);
}

TEST(llm_config, url_flag_follows_the_provider) {
  // Without a provider the flag's scheme picks it, beating the variables.
  llm_flags ws_flag{std::nullopt, "wss://flag.example/chat", std::nullopt};
  auto cfg = llm({{"OPENAI_API_KEY", "sk-x"}}, {}, ws_flag);
  EXPECT_EQ(cfg.provider, llm_provider::websocket);
  EXPECT_FALSE(cfg.provider_explicit);
  EXPECT_EQ(cfg.endpoint.host, "flag.example");
  EXPECT_EQ(cfg.ignored, std::vector<std::string>{"OPENAI_API_KEY"});
  llm_flags http_flag{std::nullopt, "http://flag.example/v1", std::nullopt};
  cfg = llm({{"LLM_WEBSOCKET_URL", "ws://env/chat"}}, {}, http_flag);
  EXPECT_EQ(cfg.provider, llm_provider::openai);
  EXPECT_EQ(cfg.endpoint.str(), "http://flag.example/v1");
  // With a provider the flag stands for that provider's URL variable.
  cfg = llm({{"LLM_PROVIDER", "openai"},
             {"OPENAI_BASE_URL", "http://env.example/v1"}},
            {}, http_flag);
  EXPECT_EQ(cfg.endpoint.host, "flag.example");
  EXPECT_EQ(llm_error({{"LLM_PROVIDER", "openai"}}, ws_flag),
            "--llm-url / OPENAI_BASE_URL: the openai provider needs an "
            "http:// or https:// base URL, not wss://");
  EXPECT_EQ(llm_error({{"LLM_PROVIDER", "websocket"}}, http_flag),
            "--llm-url / LLM_WEBSOCKET_URL: the websocket provider needs a "
            "ws:// or wss:// URL, not http://");
  EXPECT_TRUE(starts_with(llm_error({{"LLM_PROVIDER", "none"}}, ws_flag),
                          "--llm-url: has no use with the LLM provider none"));
  EXPECT_TRUE(starts_with(
    llm_error({}, {std::nullopt, "gopher://x/", std::nullopt}),
    "--llm-url: unsupported scheme 'gopher'"));
  EXPECT_TRUE(starts_with(llm_error({}, {std::nullopt, "", std::nullopt}),
                          "--llm-url: must not be empty"));
}

TEST(llm_config, model_flag_follows_the_provider) {
  llm_flags model{std::nullopt, std::nullopt, "flag-model"};
  auto ws = llm({{"LLM_WEBSOCKET_URL", "ws://h/"},
                 {"LLM_MODEL_NAME", "env-model"},
                 {"OPENAI_MODEL", "other"}},
                {}, model);
  EXPECT_EQ(ws.model, "flag-model");
  auto openai = llm({{"OPENAI_API_KEY", "k"}, {"OPENAI_MODEL", "env-model"},
                     {"LLM_MODEL_NAME", "other"}},
                    {}, model);
  EXPECT_EQ(openai.model, "flag-model");
  EXPECT_EQ(openai.ignored, std::vector<std::string>{"LLM_MODEL_NAME"});
  // OPENAI_MODEL does not apply to the websocket provider and vice versa.
  EXPECT_EQ(llm({{"LLM_WEBSOCKET_URL", "ws://h/"}, {"OPENAI_MODEL", "o"}})
              .model,
            "custom-model");
  EXPECT_EQ(llm({{"OPENAI_API_KEY", "k"}, {"LLM_MODEL_NAME", "w"}}).model,
            "gpt-4o-mini");
  EXPECT_EQ(llm_error({{"LLM_WEBSOCKET_URL", "ws://h/"}},
                      {std::nullopt, std::nullopt, ""}),
            "--llm-model / LLM_MODEL_NAME: must not be empty");
  EXPECT_EQ(llm_error({{"LLM_PROVIDER", "openai"}},
                      {std::nullopt, std::nullopt, ""}),
            "--llm-model / OPENAI_MODEL: must not be empty");
  EXPECT_TRUE(starts_with(llm_error({{"LLM_PROVIDER", "none"}}, model),
                          "--llm-model: has no use without an LLM provider"));
}

// -- precedence ---------------------------------------------------------------

TEST(llm_config, precedence_flag_environment_dotenv) {
  env_map dotenv{{"LLM_PROVIDER", "websocket"},
                 {"LLM_WEBSOCKET_URL", "ws://dotenv/chat"},
                 {"LLM_MODEL_NAME", "dotenv-model"},
                 {"LLM_TIMEOUT", "5"},
                 {"LLM_MAX_TOOL_ROUNDS", "2"}};
  auto from_dotenv = llm({}, dotenv);
  EXPECT_EQ(from_dotenv.provider, llm_provider::websocket);
  EXPECT_TRUE(from_dotenv.provider_explicit);
  EXPECT_EQ(from_dotenv.endpoint.host, "dotenv");
  EXPECT_EQ(from_dotenv.model, "dotenv-model");
  EXPECT_EQ(from_dotenv.timeout, 5000ms);
  env_map environment{{"LLM_WEBSOCKET_URL", "ws://env/chat"},
                      {"LLM_MODEL_NAME", "env-model"},
                      {"LLM_TIMEOUT", "6"}};
  auto from_env = llm(environment, dotenv);
  EXPECT_EQ(from_env.endpoint.host, "env");
  EXPECT_EQ(from_env.model, "env-model");
  EXPECT_EQ(from_env.timeout, 6000ms);
  EXPECT_EQ(from_env.max_tool_rounds, 2u); // only .env sets it
  environment["LLM_PROVIDER"] = "openai";
  environment["OPENAI_BASE_URL"] = "http://env-openai/v1";
  EXPECT_EQ(llm(environment, dotenv).provider, llm_provider::openai);
  // Through the real command line: the flags beat both.
  auto cfg = load({"--llm-provider", "websocket", "--llm-url",
                   "ws://flag:1234/x", "--llm-model", "flag-model"},
                  dotenv, environment)
               .config.llm;
  EXPECT_EQ(cfg.provider, llm_provider::websocket);
  EXPECT_EQ(cfg.endpoint.host, "flag");
  EXPECT_EQ(cfg.endpoint.port, 1234);
  EXPECT_EQ(cfg.model, "flag-model");
  EXPECT_EQ(cfg.timeout, 6000ms);
  // --llm-provider auto overrides an LLM_PROVIDER from the environment.
  auto auto_cfg = load({"--llm-provider=auto"}, dotenv, environment)
                    .config.llm;
  EXPECT_EQ(auto_cfg.provider, llm_provider::websocket);
  EXPECT_FALSE(auto_cfg.provider_explicit);
}

TEST(llm_config, empty_value_counts_as_unset) {
  // Shells and compose files often export `X=`.
  auto cfg = llm({{"LLM_WEBSOCKET_URL", ""}, {"LLM_TIMEOUT", ""},
                  {"LLM_PROVIDER", ""}},
                 {{"LLM_TIMEOUT", "9"}});
  EXPECT_EQ(cfg.provider, llm_provider::none);
  EXPECT_EQ(cfg.timeout, 9000ms);
  EXPECT_EQ(llm({{"OPENAI_API_KEY", ""}, {"OPENAI_BASE_URL", ""}}).provider,
            llm_provider::none);
  // An empty flag is explicit and validated.
  EXPECT_TRUE(contains(load_error({"--llm-provider", ""}),
                       "--llm-provider / LLM_PROVIDER: ''"));
}

// -- through load_server_config -----------------------------------------------

TEST(llm_config, server_config_flags_and_errors) {
  auto cfg = load({"--llm-url=wss://[::1]:9443/ws?v=2"}).config.llm;
  EXPECT_EQ(cfg.provider, llm_provider::websocket);
  EXPECT_EQ(cfg.endpoint.host, "::1");
  EXPECT_EQ(cfg.endpoint.target, "/ws?v=2");
  EXPECT_EQ(load({"--llm-provider", "OPENAI"}).config.llm.provider,
            llm_provider::openai);
  EXPECT_EQ(load_error({"--llm-provider", "gpt"}),
            "--llm-provider / LLM_PROVIDER: 'gpt' is not an LLM provider "
            "(websocket, openai, none, fallback, auto)");
  EXPECT_TRUE(starts_with(load_error({}, {{"LLM_MAX_TOKENS", "0"}}),
                          "LLM_MAX_TOKENS: '0'"));
  EXPECT_TRUE(starts_with(load_error({"--llm-url", "ws://u:pw@h/"}),
                          "--llm-url: user info"));
  // No abbreviation of the LLM flags either.
  EXPECT_TRUE(contains(load_error({"--llm", "x"}), "--llm"));
}

TEST(llm_config, help_lists_the_llm_settings) {
  auto result = load({"--help"}, {}, {{"LLM_TIMEOUT", "nope"}});
  ASSERT_TRUE(result.help); // a bad LLM value does not stop --help
  std::string text;
  for (char c : result.help_text) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (!space)
      text += c;
    else if (!text.empty() && text.back() != ' ')
      text += ' ';
  }
  for (auto part :
       {"--llm-provider", "--llm-url", "--llm-model", "LLM_PROVIDER",
        "LLM_WEBSOCKET_URL", "LLM_API_KEY", "LLM_MODEL_NAME",
        "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "LLM_TIMEOUT",
        "LLM_MAX_RETRIES", "LLM_MAX_TOKENS", "LLM_TEMPERATURE",
        "ENABLE_ADVANCED_AI", "LLM_STREAM", "LLM_HEALTH_INTERVAL",
        "LLM_BACKOFF_BASE", "LLM_BACKOFF_CAP", "LLM_BACKOFF_MAX_ATTEMPTS",
        "LLM_CIRCUIT_FAILURES", "LLM_CIRCUIT_OPEN_SECONDS",
        "LLM_MAX_TOOL_ROUNDS", "default: auto", "default: custom-model",
        "gpt-4o-mini", "default: https://api.openai.com/v1", "default: 30)",
        "default: 3)", "default: 4000)", "default: 0.7)", "default: 15)",
        "default: 0.5)", "0 = unlimited (default: 0)", "default: 5)",
        "default: 4)", "environment or .env (no flag"})
    EXPECT_TRUE(contains(text, part)) << "missing '" << part << "' in\n"
                                      << text;
  // Every line fits the width the rest of the help uses.
  size_t start = 0;
  while (start < result.help_text.size()) {
    auto end = result.help_text.find('\n', start);
    if (end == std::string::npos)
      end = result.help_text.size();
    EXPECT_LE(end - start, 100u)
      << result.help_text.substr(start, end - start);
    start = end + 1;
  }
}

// -- URL parsing --------------------------------------------------------------

TEST(llm_endpoint, default_ports) {
  struct port_case {
    const char* url;
    std::uint16_t port;
    bool tls;
    bool websocket;
  };
  for (auto c : {port_case{"ws://h/", 80, false, true},
                 port_case{"wss://h/", 443, true, true},
                 port_case{"http://h/", 80, false, false},
                 port_case{"https://h/", 443, true, false}}) {
    auto url = parse_llm_endpoint(c.url, "X");
    EXPECT_EQ(url.port, c.port) << c.url;
    EXPECT_EQ(url.tls(), c.tls) << c.url;
    EXPECT_EQ(url.websocket(), c.websocket) << c.url;
    EXPECT_EQ(url.host_header(), "h") << c.url;
    EXPECT_EQ(url.str(), c.url);
  }
}

TEST(llm_endpoint, explicit_ports) {
  auto url = parse_llm_endpoint("ws://localhost:8080/chat", "X");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.host_header(), "localhost:8080");
  EXPECT_EQ(url.str(), "ws://localhost:8080/chat");
  // The default port written out is the same endpoint.
  url = parse_llm_endpoint("wss://h:443/x", "X");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.str(), "wss://h/x");
  EXPECT_EQ(parse_llm_endpoint("http://h:1/", "X").port, 1);
  EXPECT_EQ(parse_llm_endpoint("http://h:65535/", "X").port, 65535);
  EXPECT_EQ(parse_llm_endpoint("http://h:00080/", "X").port, 80);
}

TEST(llm_endpoint, ipv6_literals) {
  auto url = parse_llm_endpoint("ws://[::1]:9000/chat", "X");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 9000);
  EXPECT_EQ(url.host_header(), "[::1]:9000");
  EXPECT_EQ(url.str(), "ws://[::1]:9000/chat");
  url = parse_llm_endpoint("https://[2001:DB8::1]/v1", "X");
  EXPECT_EQ(url.host, "2001:db8::1");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.host_header(), "[2001:db8::1]");
  EXPECT_EQ(parse_llm_endpoint("ws://[::ffff:127.0.0.1]", "X").host,
            "::ffff:127.0.0.1");
}

TEST(llm_endpoint, paths_and_queries_are_kept) {
  EXPECT_EQ(parse_llm_endpoint("ws://h", "X").target, "/");
  EXPECT_EQ(parse_llm_endpoint("ws://h/", "X").target, "/");
  EXPECT_EQ(parse_llm_endpoint("ws://h/a/b/", "X").target, "/a/b/");
  EXPECT_EQ(parse_llm_endpoint("ws://h/chat?x=1&y=%20", "X").target,
            "/chat?x=1&y=%20");
  EXPECT_EQ(parse_llm_endpoint("ws://h?token=abc", "X").target,
            "/?token=abc");
  EXPECT_EQ(parse_llm_endpoint("ws://h:81?x", "X").target, "/?x");
  // '@' after the host belongs to the path.
  EXPECT_EQ(parse_llm_endpoint("ws://h/@me", "X").target, "/@me");
  // Scheme and host are case-insensitive, the path is not.
  auto url = parse_llm_endpoint("WSS://LLM.Example.COM/Chat", "X");
  EXPECT_EQ(url.scheme, "wss");
  EXPECT_EQ(url.host, "llm.example.com");
  EXPECT_EQ(url.target, "/Chat");
}

TEST(llm_endpoint, target_with_suffix) {
  auto with = [](const char* url, const char* suffix) {
    return parse_llm_endpoint(url, "X").target_with(suffix);
  };
  EXPECT_EQ(with("https://h/v1", "/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(with("https://h/v1/", "/chat/completions"),
            "/v1/chat/completions");
  EXPECT_EQ(with("https://h", "/chat/completions"), "/chat/completions");
  EXPECT_EQ(with("https://h/v1", "models"), "/v1/models");
  EXPECT_EQ(with("https://h/openai/v1?api-version=2024-06-01",
                 "/chat/completions"),
            "/openai/v1/chat/completions?api-version=2024-06-01");
  EXPECT_EQ(with("https://h/v1?x=1", ""), "/v1?x=1");
}

TEST(llm_endpoint, redacted_hides_query_values) {
  EXPECT_EQ(parse_llm_endpoint("ws://h:1/chat", "X").redacted(),
            "ws://h:1/chat");
  EXPECT_EQ(parse_llm_endpoint("ws://h/chat?token=abc&v=2", "X").redacted(),
            "ws://h/chat?token=***&v=***");
  EXPECT_EQ(parse_llm_endpoint("ws://h/?abc", "X").redacted(), "ws://h/?***");
  EXPECT_EQ(parse_llm_endpoint("ws://h/?", "X").redacted(), "ws://h/?");
}

TEST(llm_endpoint, bad_urls) {
  struct bad_case {
    const char* url;
    const char* message;
  };
  for (auto c : {
         bad_case{"", "must not be empty"},
         bad_case{"localhost:8080/chat", "not a URL"},
         bad_case{"://h/", "not a URL"},
         bad_case{"w s://h/", "contains a space"},
         bad_case{"ftp://h/", "unsupported scheme 'ftp'"},
         bad_case{"sqlite:///x", "unsupported scheme 'sqlite'"},
         bad_case{"ws://", "no host"},
         bad_case{"ws:///chat", "no host"},
         bad_case{"ws://:8080/chat", "no host"},
         bad_case{"ws://?x", "no host"},
         bad_case{"ws://user@h/", "user info"},
         bad_case{"ws://user:pw@h:1/", "user info"},
         bad_case{"ws://h/chat#top", "fragments"},
         bad_case{"ws://h#", "fragments"},
         bad_case{"ws://h:0/", "port"},
         bad_case{"ws://h:65536/", "port"},
         bad_case{"ws://h:/", "port"},
         bad_case{"ws://h:8a/", "port"},
         bad_case{"ws://h:-1/", "port"},
         bad_case{"ws://h:99999999999999999999999/", "port"},
         bad_case{"ws://::1/", "IPv6 addresses must be written in brackets"},
         bad_case{"ws://[::1/", "no closing ']'"},
         bad_case{"ws://[::1]x/", "unexpected text after the IPv6"},
         bad_case{"ws://[]/", "not an IPv6 address"},
         bad_case{"ws://[zz::1]/", "not an IPv6 address"},
         bad_case{"ws://[127.0.0.1]/", "not an IPv6 address"},
         bad_case{"ws://[fe80::1%25eth0]/", "not an IPv6 address"},
         bad_case{"ws://h st/", "contains a space"},
         bad_case{"ws://h/a b", "contains a space"},
         bad_case{"ws://h/\t", "control"},
         bad_case{"ws://h\xc3\xb6/", "non-ASCII"},
         bad_case{"ws://h%41/", "host name may contain only"},
         bad_case{"ws://h\\x/", "host name may contain only"},
       }) {
    auto what = url_error(c.url);
    EXPECT_TRUE(starts_with(what, "LLM_WEBSOCKET_URL: ")) << what;
    EXPECT_TRUE(contains(what, c.message))
      << "'" << c.url << "' gave: " << what;
  }
}

TEST(llm_endpoint, errors_do_not_echo_the_url) {
  // Tokens travel in user info, paths or queries; only the scheme is quoted.
  for (auto url : {"ws://user:sk-Leak@h/", "ws://h:sk-Leak/",
                   "ws://h/sk-Leak#x", "ws://h/?key=sk-Leak#f",
                   "ws://sk-Leak:1:2/", "ws://h/sk-Leak x"}) {
    auto what = url_error(url);
    EXPECT_FALSE(contains(what, "sk-Leak")) << what;
  }
}

// -- describe -----------------------------------------------------------------

TEST(llm_config, describe_redacts_the_key) {
  auto cfg = llm({{"LLM_WEBSOCKET_URL", "wss://llm:9443/chat?token=qwerty"},
                  {"LLM_API_KEY", secret}});
  auto text = cfg.describe();
  EXPECT_FALSE(contains(text, secret)) << text;
  EXPECT_FALSE(contains(text, "qwerty")) << text;
  EXPECT_EQ(text,
            "provider=websocket (auto) url=wss://llm:9443/chat?token=*** "
            "model=custom-model api_key=set timeout=30s retries=3 "
            "max_in_flight=256 max_tokens=4000 temperature=0.7 advanced_ai=on "
            "stream=on "
            "health_interval=15s backoff=0.5s..30s backoff_attempts=unlimited "
            "circuit=5 failures/30s tool_rounds=4");
  auto keyless = llm({{"LLM_PROVIDER", "openai"},
                      {"LLM_BACKOFF_MAX_ATTEMPTS", "9"},
                      {"LLM_STREAM", "off"}})
                   .describe();
  EXPECT_TRUE(contains(keyless, "provider=openai (chosen)")) << keyless;
  EXPECT_TRUE(contains(keyless, "url=https://api.openai.com/v1 ")) << keyless;
  EXPECT_TRUE(contains(keyless, "api_key=none")) << keyless;
  EXPECT_TRUE(contains(keyless, "stream=off")) << keyless;
  EXPECT_TRUE(contains(keyless, "backoff_attempts=9")) << keyless;
  auto openai = llm({{"OPENAI_API_KEY", secret}}).describe();
  EXPECT_FALSE(contains(openai, secret)) << openai;
  EXPECT_TRUE(contains(openai, "api_key=set")) << openai;
}
