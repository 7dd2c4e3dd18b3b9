#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "config/dotenv.hpp"
#include "config/llm_config.hpp"
#include "config/server_config.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"

// The input is the text of a .env file, optionally followed by sections:
//   [argv]     one command-line argument per line
//   [env]      KEY=value lines: the process environment
//   [dotenv]   more .env text
// Options that make load_server_config look at the file system
// (--knowledge-dir, --agent-rules, --demo-orders and their variables) are
// left out, so that a run never depends on the machine.
namespace parley::fuzz {

namespace {

struct config_input {
  std::string dotenv;
  std::vector<std::string> argv;
  env_map env;
};

bool touches_files(std::string_view text) {
  for (std::string_view name :
       {"knowledge-dir", "agent-rules", "demo-orders", "KNOWLEDGE_DIR",
        "AGENT_RULES", "DEMO_ORDERS"})
    if (text.find(name) != std::string_view::npos)
      return true;
  return false;
}

config_input read_input(std::string_view text) {
  config_input in;
  enum { dotenv, argv, env } section = dotenv;
  for (auto line : lines_of(text)) {
    if (line == "[argv]") {
      section = argv;
    } else if (line == "[env]") {
      section = env;
    } else if (line == "[dotenv]") {
      section = dotenv;
    } else if (section == dotenv) {
      in.dotenv.append(line);
      in.dotenv += '\n';
    } else if (section == argv) {
      if (!touches_files(line))
        in.argv.emplace_back(line);
    } else {
      auto eq = line.find('=');
      if (eq != std::string_view::npos && !touches_files(line.substr(0, eq)))
        in.env[std::string{line.substr(0, eq)}] = line.substr(eq + 1);
    }
  }
  return in;
}

/// Writes a map as a .env file with double-quoted values.
std::string to_dotenv(const env_map& values) {
  std::string text;
  for (const auto& [key, value] : values) {
    text += key + "=\"";
    for (char c : value) {
      switch (c) {
        case '\\':
          text += "\\\\";
          break;
        case '"':
          text += "\\\"";
          break;
        case '\n':
          text += "\\n";
          break;
        case '\r':
          text += "\\r";
          break;
        default:
          text += c;
      }
    }
    text += "\"\n";
  }
  return text;
}

bool is_key(const std::string& key) {
  if (key.empty() || (key[0] >= '0' && key[0] <= '9'))
    return false;
  for (char c : key)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

bool same(const llm_endpoint& a, const llm_endpoint& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port
         && a.target == b.target;
}

void check_endpoint(const llm_endpoint& endpoint) {
  // The normal form reads back as the same endpoint.
  auto again = parse_llm_endpoint(endpoint.str(), "URL");
  FUZZ_CHECK(same(again, endpoint));
  FUZZ_CHECK(!endpoint.target.empty() && endpoint.target.front() == '/');
  FUZZ_CHECK(endpoint.port != 0);
  // Query values may be tokens: the redacted form shows none of them.
  auto redacted = endpoint.redacted();
  auto query = redacted.find('?');
  if (query == std::string::npos)
    return;
  for (auto eq = redacted.find('=', query); eq != std::string::npos;
       eq = redacted.find('=', eq + 1))
    FUZZ_CHECK(redacted.compare(eq, 4, "=***") == 0);
}

/// Replaces each secret (the API keys, the admin token) by another of the
/// same length and validity: only visible ASCII characters change.
void change_secrets(std::vector<std::string>& argv, env_map& env,
                    env_map& dotenv) {
  auto change = [](std::string& value) {
    for (auto& c : value)
      if (c > 0x20 && c < 0x7f)
        c = c == 'Z' ? 'Y' : 'Z';
  };
  for (const char* name : {"LLM_API_KEY", "OPENAI_API_KEY",
                           "PARLEY_ADMIN_TOKEN"}) {
    if (auto it = env.find(name); it != env.end())
      change(it->second);
    if (auto it = dotenv.find(name); it != dotenv.end())
      change(it->second);
  }
  constexpr std::string_view flag = "--admin-token";
  for (std::size_t i = 0; i < argv.size(); ++i) {
    std::string& arg = argv[i];
    // The next word is the value unless it reads as an option itself.
    if (arg == flag && i + 1 < argv.size()
        && argv[i + 1].rfind('-', 0) != 0) {
      change(argv[++i]);
    } else if (arg.size() > flag.size() && arg.compare(0, flag.size(), flag) == 0
               && arg[flag.size()] == '=') {
      auto value = arg.substr(flag.size() + 1);
      change(value);
      arg = std::string{flag} + '=' + value;
    }
  }
}

/// What a start-up would print: the error, the help, or the LLM line.
std::string outcome(const std::vector<std::string>& args, const env_map& env,
                    const env_map& dotenv,
                    config_load_result* loaded = nullptr) {
  std::vector<const char*> argv{"parley"};
  for (const auto& arg : args)
    argv.push_back(arg.c_str());
  try {
    auto result = load_server_config(static_cast<int>(argv.size()),
                                     argv.data(), dotenv, env);
    auto text = result.help ? result.help_text : result.config.llm.describe();
    if (loaded != nullptr)
      *loaded = std::move(result);
    return text;
  } catch (const config_error& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
    return std::string{"error: "} + e.what();
  }
}

} // namespace

int fuzz_config(const std::uint8_t* data, std::size_t size) {
  auto in = read_input(as_text(data, size));
  env_map dotenv;
  try {
    dotenv = parse_dotenv(in.dotenv);
  } catch (const config_error& e) {
    FUZZ_CHECK(std::string_view{e.what()}.rfind("line ", 0) == 0);
    dotenv.clear();
  }
  for (const auto& [key, value] : dotenv)
    FUZZ_CHECK(is_key(key));
  // Written back with quotes, the values read the same.
  FUZZ_CHECK(parse_dotenv(to_dotenv(dotenv)) == dotenv);
  for (auto it = dotenv.begin(); it != dotenv.end();)
    it = touches_files(it->first) ? dotenv.erase(it) : std::next(it);

  config_load_result result;
  auto said = outcome(in.argv, in.env, dotenv, &result);
  // A secret never shows, in an error or in the start-up line: with other
  // secrets, Parley says exactly the same.
  auto other_argv = in.argv;
  auto other_env = in.env;
  auto other_dotenv = dotenv;
  change_secrets(other_argv, other_env, other_dotenv);
  FUZZ_CHECK(outcome(other_argv, other_env, other_dotenv) == said);
  if (said.rfind("error: ", 0) == 0 || result.help)
    return 0;
  const auto& cfg = result.config;
  FUZZ_CHECK(!cfg.host.empty());
  FUZZ_CHECK(cfg.max_message_bytes >= 1);
  FUZZ_CHECK(cfg.io_threads >= 1 && cfg.io_threads <= 64);
  FUZZ_CHECK(cfg.worker_threads >= 1 && cfg.worker_threads <= 64);
  FUZZ_CHECK(cfg.shutdown_timeout.count() >= 1);
  FUZZ_CHECK(cfg.session_linger.count() >= 1);
  FUZZ_CHECK(cfg.db_pool_size <= 32);
  const auto& llm = cfg.llm;
  FUZZ_CHECK(llm.max_tokens >= 1);
  FUZZ_CHECK(llm.temperature >= 0 && llm.temperature <= 2);
  FUZZ_CHECK(llm.backoff_cap >= llm.backoff_base);
  FUZZ_CHECK(llm.max_tool_rounds >= 1 && llm.max_tool_rounds <= 16);
  if (llm.provider != llm_provider::none) {
    check_endpoint(llm.endpoint);
    FUZZ_CHECK(llm.endpoint.websocket()
               == (llm.provider == llm_provider::websocket));
  }
  return 0;
}

} // namespace parley::fuzz
