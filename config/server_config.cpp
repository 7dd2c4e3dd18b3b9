#include "config/server_config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

#include <boost/program_options.hpp>
#include <unistd.h>

#include "config/config_error.hpp"
#include "config/option_values.hpp"
#include "config/usable_cpus.hpp"
#include "config/web_origin.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace parley {

namespace {

using detail::parse_whole;
using detail::seconds_text;
using detail::shown;
using detail::to_lower;

// Limits of the validation; the help text quotes the same numbers.
constexpr std::uint64_t max_threads = 64;
constexpr std::uint64_t max_message_bytes_limit = 16 * 1024 * 1024;
constexpr std::uint64_t max_history_limit = 1000;
constexpr double max_timeout_seconds = 3600;

/// One setting that can come from a flag, the environment or `.env`.
struct option_spec {
  const char* flag; // without the leading "--"
  const char* env;

  std::string label() const {
    return detail::option_label(flag, env);
  }
};

constexpr option_spec opt_host{"host", "BACKEND_HOST"};
constexpr option_spec opt_port{"port", "BACKEND_PORT"};
constexpr option_spec opt_database_url{"database-url", "DATABASE_URL"};
constexpr option_spec opt_knowledge_dir{"knowledge-dir", "KNOWLEDGE_DIR"};
constexpr option_spec opt_agent_rules{"agent-rules", "AGENT_RULES"};
constexpr option_spec opt_demo_orders{"demo-orders", "DEMO_ORDERS"};
constexpr option_spec opt_web_dir{"web-dir", "PARLEY_WEB_DIR"};
constexpr option_spec opt_web_config{"web-config", "PARLEY_WEB_CONFIG"};
constexpr option_spec opt_agent_router{"agent-router", "AGENT_ROUTER"};
constexpr option_spec opt_knowledge_poll{"knowledge-poll-ms",
                                         "PARLEY_KNOWLEDGE_POLL_MS"};
constexpr option_spec opt_log_level{"log-level", "LOG_LEVEL"};
constexpr option_spec opt_log_format{"log-format", "LOG_FORMAT"};
constexpr option_spec opt_max_message_bytes{"max-message-bytes",
                                            "PARLEY_MAX_MESSAGE_BYTES"};
constexpr option_spec opt_io_threads{"io-threads", "PARLEY_IO_THREADS"};
constexpr option_spec opt_worker_threads{"worker-threads",
                                         "PARLEY_WORKER_THREADS"};
constexpr option_spec opt_shutdown_timeout{"shutdown-timeout",
                                           "PARLEY_SHUTDOWN_TIMEOUT"};
constexpr option_spec opt_session_linger{"session-linger",
                                         "PARLEY_SESSION_LINGER"};
constexpr option_spec opt_history_limit{"history-limit",
                                        "PARLEY_HISTORY_LIMIT"};
constexpr option_spec opt_db_pool_size{"db-pool-size",
                                       "PARLEY_DB_POOL_SIZE"};
constexpr option_spec opt_admin_token{"admin-token", "PARLEY_ADMIN_TOKEN"};
constexpr option_spec opt_data_dir{"data-dir", "PARLEY_DATA_DIR"};
constexpr option_spec opt_allowed_origins{"allowed-origins",
                                          "ALLOWED_ORIGINS"};
constexpr option_spec opt_tls_cert{"tls-cert", "PARLEY_TLS_CERT"};
constexpr option_spec opt_tls_key{"tls-key", "PARLEY_TLS_KEY"};
constexpr option_spec opt_tls_handshake_timeout{
  "tls-handshake-timeout", "PARLEY_TLS_HANDSHAKE_TIMEOUT"};
constexpr option_spec opt_role{"role", "PARLEY_ROLE"};
constexpr option_spec opt_node_host{"node-host", "PARLEY_NODE_HOST"};
constexpr option_spec opt_node_port{"node-port", "PARLEY_NODE_PORT"};
constexpr option_spec opt_workers{"workers", "PARLEY_WORKERS"};
constexpr option_spec opt_node_secret{"node-secret", "PARLEY_NODE_SECRET"};
constexpr option_spec opt_node_tls_cert{"node-tls-cert", "PARLEY_NODE_TLS_CERT"};
constexpr option_spec opt_node_tls_key{"node-tls-key", "PARLEY_NODE_TLS_KEY"};
constexpr option_spec opt_node_tls_ca{"node-tls-ca", "PARLEY_NODE_TLS_CA"};

/// The limits, one row each, so that the help text, the parsing and the
/// ranges cannot drift apart.
struct count_limit {
  option_spec opt;
  std::size_t limit_config::*field;
  std::uint64_t min;
  std::uint64_t max;
  const char* help;
};

constexpr count_limit count_limits[] = {
  {{"max-connections", "PARLEY_MAX_CONNECTIONS"},
   &limit_config::max_connections, 1, 1'000'000,
   "open connections in all; more get 503 or a close frame, 1..1000000"},
  {{"max-connections-per-address", "PARLEY_MAX_CONNECTIONS_PER_ADDRESS"},
   &limit_config::max_connections_per_address, 0, 1'000'000,
   "open connections from one client address, 0: no limit (behind a "
   "proxy)"},
  {{"max-header-bytes", "PARLEY_MAX_HEADER_BYTES"},
   &limit_config::max_header_bytes, 1024, 1024 * 1024,
   "largest HTTP request header (431 beyond), 1024..1048576"},
  {{"max-body-bytes", "PARLEY_MAX_BODY_BYTES"},
   &limit_config::max_body_bytes, 1024, 64 * 1024 * 1024,
   "largest HTTP request body (413 beyond), 1024..67108864"},
  {{"max-queued-frames", "PARLEY_MAX_QUEUED_FRAMES"},
   &limit_config::max_queued_frames, 16, 1'000'000,
   "frames waiting for a slow client before it is dropped, 16..1000000"},
  {{"max-queued-bytes", "PARLEY_MAX_QUEUED_BYTES"},
   &limit_config::max_queued_bytes, 64 * 1024, 1024 * 1024 * 1024,
   "bytes waiting for a slow client before it is dropped, "
   "65536..1073741824"},
  {{"session-rate", "PARLEY_SESSION_RATE"}, &limit_config::session_rate, 0,
   1'000'000, "chat messages per minute per session, 0: no limit"},
  {{"session-burst", "PARLEY_SESSION_BURST"}, &limit_config::session_burst,
   1, 1'000'000, "messages a session may send at once before its rate "
   "applies"},
  {{"address-rate", "PARLEY_ADDRESS_RATE"}, &limit_config::address_rate, 0,
   1'000'000, "chat messages per minute per client address, 0: no limit"},
  {{"address-burst", "PARLEY_ADDRESS_BURST"}, &limit_config::address_burst,
   1, 1'000'000, "messages an address may send at once before its rate "
   "applies"},
  {{"max-pending-replies", "PARLEY_MAX_PENDING_REPLIES"},
   &limit_config::max_pending_replies, 1, 10'000,
   "messages of a session waiting for their answers, 1..10000"},
};

struct time_limit {
  option_spec opt;
  std::chrono::milliseconds limit_config::*field;
  const char* help;
};

constexpr time_limit time_limits[] = {
  {{"request-timeout", "PARLEY_REQUEST_TIMEOUT"},
   &limit_config::request_timeout,
   "time to send one HTTP request (or to wait between two), up to 3600"},
  {{"handshake-timeout", "PARLEY_HANDSHAKE_TIMEOUT"},
   &limit_config::handshake_timeout,
   "time to finish a WebSocket opening or closing handshake, up to 3600"},
  {{"idle-timeout", "PARLEY_IDLE_TIMEOUT"}, &limit_config::idle_timeout,
   "a chat socket silent this long (pings unanswered) is closed, up to "
   "3600"},
  {{"send-timeout", "PARLEY_SEND_TIMEOUT"}, &limit_config::send_timeout,
   "a client that reads nothing for this long is dropped, up to 3600"},
};

// The LLM flags; load_llm_config reads them with their variables (--llm-url
// and --llm-model stand for the chosen provider's variable).
constexpr option_spec opt_llm_provider{"llm-provider", "LLM_PROVIDER"};
constexpr const char* flag_llm_url = "llm-url";
constexpr const char* flag_llm_model = "llm-model";

/// The shared value helpers, worded for one option_spec.
[[noreturn]] void fail(const option_spec& opt, const std::string& what) {
  detail::fail(opt.label(), what);
}

std::size_t whole_in_range(const option_spec& opt, std::string_view text,
                           std::uint64_t min, std::uint64_t max) {
  return detail::whole_in_range(opt.label(), text, min, max);
}

/// Server settings keep their exponent syntax ("1e1" seconds).
std::chrono::milliseconds seconds_in_range(const option_spec& opt,
                                           std::string_view text) {
  return detail::seconds_in_range(opt.label(), text, max_timeout_seconds,
                                  detail::decimal_syntax::with_exponent);
}

std::string normalize_log_level(const option_spec& opt,
                                std::string_view text) {
  auto level = to_lower(text);
  if (level == "warning")
    return "warn";
  for (auto known : {"trace", "debug", "info", "warn", "error", "critical",
                     "off"})
    if (level == known)
      return level;
  fail(opt, shown(text) + " is not a log level (trace, debug, info, warn, "
                          "warning, error, critical, off)");
}

log_format parse_log_format(const option_spec& opt, std::string_view text) {
  auto fmt = to_lower(text);
  if (fmt == "text")
    return log_format::text;
  if (fmt == "json")
    return log_format::json;
  fail(opt, shown(text) + " is not a log format (text, json)");
}

void check_directory(const option_spec& opt, const std::string& dir) {
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (!fs::exists(status))
    fail(opt, shown(dir) + " does not exist");
  if (!fs::is_directory(status))
    fail(opt, shown(dir) + " is not a directory");
  // Opening it is the honest test for "readable": permissions alone do not
  // tell, e.g. for root or with ACLs.
  fs::directory_iterator probe(dir, ec);
  if (ec)
    fail(opt, shown(dir) + " cannot be read: " + ec.message());
}

void check_file(const option_spec& opt, const std::string& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (!fs::exists(status))
    fail(opt, shown(path) + " does not exist");
  if (!fs::is_regular_file(status))
    fail(opt, shown(path) + " is not a file");
}

/// The token goes into an Authorization header and is never shown, not
/// even in the error about it.
std::string check_admin_token(const option_spec& opt, std::string token) {
  if (token.size() < min_admin_token_length)
    fail(opt, "must be at least " + std::to_string(min_admin_token_length)
                + " characters long (the token is not shown)");
  for (unsigned char c : token)
    if (c <= 0x20 || c >= 0x7f)
      fail(opt, "may only contain visible ASCII characters, no spaces (the "
                "token is not shown)");
  return token;
}

/// "https://a.example, http://localhost:8080" or "*"; each entry is stored
/// as browsers write an Origin header, so that comparing is plain equality.
void read_allowed_origins(const option_spec& opt, std::string_view text,
                          server_config& cfg) {
  bool any_entry = false;
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (!item.empty()) {
      any_entry = true;
      if (item == "*") {
        cfg.allow_any_origin = true;
      } else {
        auto bare = item;
        if (bare.back() == '/') // a pasted "https://shop.example/"
          bare.remove_suffix(1);
        auto origin = parse_web_origin(bare);
        if (!origin)
          fail(opt, shown(item) + " is not an origin such as "
                                  "https://shop.example (scheme://host[:port], "
                                  "no path), or *");
        auto normal = origin->str();
        auto& list = cfg.allowed_origins;
        if (std::find(list.begin(), list.end(), normal) == list.end())
          list.push_back(std::move(normal));
      }
    }
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  if (!any_entry)
    fail(opt, "lists no origin (use * to allow every origin)");
}

po::options_description make_options(const server_config& defaults) {
  po::options_description desc(
    "Options (a flag beats the environment, which beats .env, which beats "
    "the default)",
    100, 50);
  auto text = [](const char* what, const std::string& def,
                 const option_spec& opt) {
    return std::string{what} + " (default: " + def + "; env " + opt.env + ")";
  };
  auto str = [](const char* name) {
    return po::value<std::string>()->value_name(name);
  };
  desc.add_options()("help,h", "print this help and exit");
  desc.add_options()(opt_host.flag, str("ADDR"),
                     text("address to listen on", defaults.host, opt_host)
                       .c_str());
  desc.add_options()(opt_port.flag, str("PORT"),
                     text("port to listen on, 0 picks a free one",
                          std::to_string(defaults.port), opt_port)
                       .c_str());
  desc.add_options()(opt_database_url.flag, str("URL"),
                     text("sqlite:///path, postgresql://... or mysql://...",
                          defaults.database_url_text, opt_database_url)
                       .c_str());
  desc.add_options()(opt_knowledge_dir.flag, str("DIR"),
                     text("folder of knowledge files; must exist when set",
                          defaults.knowledge_dir, opt_knowledge_dir)
                       .c_str());
  desc.add_options()(opt_agent_rules.flag, str("FILE"),
                     text("the agent's intents, slots and replies (JSON)",
                          "built-in config/agent.json", opt_agent_rules)
                       .c_str());
  desc.add_options()(opt_demo_orders.flag, str("FILE"),
                     text("orders loaded into an empty orders table (JSON)",
                          "built-in config/demo_orders.json", opt_demo_orders)
                       .c_str());
  desc.add_options()(opt_web_dir.flag, str("DIR"),
                     text("folder of the built web UI, served on / and "
                          "/admin; must exist when set",
                          "web next to the parley executable", opt_web_dir)
                       .c_str());
  desc.add_options()(opt_web_config.flag, str("FILE"),
                     text("the chat UI's title, greeting and suggestions "
                          "(JSON, GET /api/chat/config)",
                          "built-in config/web.json", opt_web_config)
                       .c_str());
  desc.add_options()(opt_agent_router.flag, str("WHO"),
                     text("who routes messages while an LLM is connected: "
                          "llm or rules",
                          "llm", opt_agent_router)
                       .c_str());
  desc.add_options()(opt_knowledge_poll.flag, str("MS"),
                     text("how often to look for changed knowledge files, "
                          "0: only on reload",
                          std::to_string(defaults.knowledge_poll.count()),
                          opt_knowledge_poll)
                       .c_str());
  desc.add_options()(opt_log_level.flag, str("LEVEL"),
                     text("trace, debug, info, warn, error, critical or off",
                          defaults.log_level, opt_log_level)
                       .c_str());
  desc.add_options()(opt_log_format.flag, str("FORMAT"),
                     text("text or json",
                          defaults.log_fmt == log_format::json ? "json"
                                                               : "text",
                          opt_log_format)
                       .c_str());
  desc.add_options()(opt_max_message_bytes.flag, str("N"),
                     text("largest accepted chat message in bytes, 1..16777216",
                          std::to_string(defaults.max_message_bytes),
                          opt_max_message_bytes)
                       .c_str());
  desc.add_options()(opt_io_threads.flag, str("N"),
                     text("threads serving sockets, 1..64",
                          std::to_string(defaults.io_threads), opt_io_threads)
                       .c_str());
  desc.add_options()(opt_worker_threads.flag, str("N"),
                     text("threads running actors, 1..64",
                          defaults.worker_threads == 0
                            ? "one per CPU this process may run on"
                            : std::to_string(defaults.worker_threads),
                          opt_worker_threads)
                       .c_str());
  desc.add_options()(opt_shutdown_timeout.flag, str("SECONDS"),
                     text("grace period for a clean stop, up to 3600",
                          seconds_text(defaults.shutdown_timeout),
                          opt_shutdown_timeout)
                       .c_str());
  desc.add_options()(opt_session_linger.flag, str("SECONDS"),
                     text("how long a disconnected session waits for its "
                          "client, up to 3600",
                          seconds_text(defaults.session_linger),
                          opt_session_linger)
                       .c_str());
  desc.add_options()(opt_history_limit.flag, str("N"),
                     text("earlier messages given to the assistant, 0..1000",
                          std::to_string(defaults.history_limit),
                          opt_history_limit)
                       .c_str());
  desc.add_options()(opt_db_pool_size.flag, str("N"),
                     text("database connections, 1..32; 0 picks 1 for "
                          "SQLite and 4 for server databases",
                          std::to_string(defaults.db_pool_size),
                          opt_db_pool_size)
                       .c_str());
  desc.add_options()(opt_admin_token.flag, str("TOKEN"),
                     text("bearer token for the admin REST API, at least 16 "
                          "visible ASCII characters (prefer the variable: "
                          "flags show in ps)",
                          "generated once into DATA_DIR/admin_token",
                          opt_admin_token)
                       .c_str());
  desc.add_options()(opt_data_dir.flag, str("DIR"),
                     text("folder for the generated admin token, created "
                          "if missing",
                          defaults.data_dir, opt_data_dir)
                       .c_str());
  desc.add_options()(opt_allowed_origins.flag, str("LIST"),
                     text("comma-separated origins (https://shop.example) "
                          "whose pages may use /ws and /api, or *; the "
                          "server's own host always may",
                          "the server's own host only", opt_allowed_origins)
                       .c_str());
  desc.add_options()(opt_tls_cert.flag, str("FILE"),
                     text("PEM certificate chain: serve HTTPS and WSS on the "
                          "port too (plain HTTP still works); needs "
                          "--tls-key",
                          "none", opt_tls_cert)
                       .c_str());
  desc.add_options()(opt_tls_key.flag, str("FILE"),
                     text("PEM private key of --tls-cert", "none",
                          opt_tls_key)
                       .c_str());
  desc.add_options()(opt_tls_handshake_timeout.flag, str("SECONDS"),
                     text("how long a new connection may take to start and "
                          "finish its TLS handshake, up to 3600",
                          seconds_text(defaults.tls_handshake_timeout),
                          opt_tls_handshake_timeout)
                       .c_str());
  desc.add_options()(opt_role.flag, str("ROLE"),
                     text("all: everything in one process; gateway: HTTP, "
                          "WebSocket and sessions, answers from --workers; "
                          "worker: agent, tools, knowledge and LLM for "
                          "gateways, on --node-port (docs/deployment.md)",
                          role_name(defaults.cluster.role), opt_role)
                       .c_str());
  desc.add_options()(opt_node_host.flag, str("HOST"),
                     text("a worker's node address, where gateways connect",
                          defaults.cluster.node_host, opt_node_host)
                       .c_str());
  desc.add_options()(opt_node_port.flag, str("PORT"),
                     text("a worker's node port (0: any free one, logged)",
                          std::to_string(defaults.cluster.node_port),
                          opt_node_port)
                       .c_str());
  desc.add_options()(opt_workers.flag, str("LIST"),
                     text("a gateway's workers: host:port[,host:port...]",
                          "none", opt_workers)
                       .c_str());
  desc.add_options()(opt_node_secret.flag, str("SECRET"),
                     text("shared by all nodes of a cluster, at least 16 "
                          "characters; a worker serves only gateways that "
                          "know it (prefer the variable: flags show in ps)",
                          "none", opt_node_secret)
                       .c_str());
  desc.add_options()(opt_node_tls_cert.flag, str("FILE"),
                     text("TLS between nodes: this node's PEM certificate; "
                          "needs --node-tls-key and --node-tls-ca",
                          "none", opt_node_tls_cert)
                       .c_str());
  desc.add_options()(opt_node_tls_key.flag, str("FILE"),
                     text("PEM private key of --node-tls-cert", "none",
                          opt_node_tls_key)
                       .c_str());
  desc.add_options()(opt_node_tls_ca.flag, str("FILE"),
                     text("PEM CA certificate that signed every node's "
                          "certificate; peers must present one it signed",
                          "none", opt_node_tls_ca)
                       .c_str());
  for (const auto& limit : count_limits)
    desc.add_options()(limit.opt.flag, str("N"),
                       text(limit.help,
                            std::to_string(defaults.limits.*limit.field),
                            limit.opt)
                         .c_str());
  for (const auto& limit : time_limits)
    desc.add_options()(limit.opt.flag, str("SECONDS"),
                       text(limit.help,
                            seconds_text(defaults.limits.*limit.field),
                            limit.opt)
                         .c_str());
  desc.add_options()(opt_llm_provider.flag, str("NAME"),
                     text("websocket, openai, none (or fallback: canned "
                          "replies only) or auto: websocket if "
                          "LLM_WEBSOCKET_URL is set, else openai if "
                          "OPENAI_API_KEY or OPENAI_BASE_URL is, else none",
                          "auto", opt_llm_provider)
                       .c_str());
  desc.add_options()(flag_llm_url, str("URL"),
                     "the LLM's URL, for the chosen provider: ws:// or "
                     "wss:// sets LLM_WEBSOCKET_URL, http:// or https:// "
                     "sets OPENAI_BASE_URL; without a provider its scheme "
                     "picks one (see below)");
  desc.add_options()(flag_llm_model, str("NAME"),
                     (std::string{"model name for the chosen provider "
                                  "(default: "}
                      + llm_config::default_websocket_model
                      + " for websocket, " + llm_config::default_openai_model
                      + " for openai; env LLM_MODEL_NAME or OPENAI_MODEL)")
                       .c_str());
  return desc;
}

/// Looks a setting up: a flag beats the environment, which beats `.env`
/// (detail::env_lookup, where an empty value counts as unset). An empty flag
/// value is explicit and gets validated.
class setting_lookup {
public:
  setting_lookup(const po::variables_map& flags, const env_map& dotenv,
                 const env_map& environment)
    : flags_(flags), env_(dotenv, environment) {
    // nop
  }

  std::optional<std::string> operator()(const option_spec& opt) const {
    if (auto i = flags_.find(opt.flag); i != flags_.end())
      return i->second.as<std::string>();
    return env_(opt.env);
  }

  bool from_flag(const option_spec& opt) const {
    return flags_.count(opt.flag) > 0;
  }

private:
  const po::variables_map& flags_;
  detail::env_lookup env_;
};

/// The cluster settings: each flag belongs to a role, and one given to
/// another role is a mistake worth a clear line rather than silence.
void read_cluster(const setting_lookup& lookup, server_config& cfg) {
  auto& cluster = cfg.cluster;
  if (auto v = lookup(opt_role)) {
    try {
      cluster.role = parse_node_role(*v);
    } catch (const config_error& e) {
      fail(opt_role, e.what());
    }
  }
  const bool worker = cluster.role == node_role::worker;
  const bool gateway = cluster.role == node_role::gateway;
  // A flag meant for another role is a mistake on this command line; the
  // same setting in the environment or .env is one shared file serving
  // every role, and this role leaves it alone.
  auto for_role = [&](const option_spec& opt, bool mine,
                      const char* roles) -> std::optional<std::string> {
    auto value = lookup(opt);
    if (!value || mine)
      return value;
    if (lookup.from_flag(opt))
      fail(opt, std::string{"is only for --role "} + roles);
    return std::nullopt;
  };
  auto node_host = for_role(opt_node_host, worker, "worker");
  auto node_port = for_role(opt_node_port, worker, "worker");
  auto workers = for_role(opt_workers, gateway, "gateway");
  auto secret = for_role(opt_node_secret, worker || gateway,
                         "gateway or worker");
  if (node_host)
    cluster.node_host = detail::non_empty(opt_node_host.label(),
                                          std::move(*node_host));
  if (node_port) {
    auto port = parse_whole(*node_port);
    if (!port || *port > 65535)
      fail(opt_node_port, shown(*node_port) + " is not a port number "
                                              "(0..65535)");
    cluster.node_port = static_cast<std::uint16_t>(*port);
  }
  if (workers) {
    try {
      cluster.workers = parse_node_addresses(*workers);
    } catch (const config_error& e) {
      fail(opt_workers, e.what());
    }
  } else if (gateway) {
    fail(opt_workers, "is required with --role gateway "
                      "(host:port[,host:port...] of the workers)");
  }
  const option_spec* tls_opts[] = {&opt_node_tls_cert, &opt_node_tls_key,
                                   &opt_node_tls_ca};
  std::optional<std::string> tls[3];
  for (int i = 0; i < 3; ++i)
    tls[i] = lookup(*tls_opts[i]);
  if (cluster.role == node_role::all) {
    for (int i = 0; i < 3; ++i)
      if (tls[i] && lookup.from_flag(*tls_opts[i]))
        fail(*tls_opts[i], "is only for --role gateway or worker");
    for (auto& path : tls)
      path.reset();
  }
  if (tls[0] || tls[1] || tls[2]) {
    for (int i = 0; i < 3; ++i)
      if (!tls[i])
        fail(*tls_opts[i], "is required for TLS between nodes (all of "
                           "--node-tls-cert, --node-tls-key, --node-tls-ca)");
    for (int i = 0; i < 3; ++i)
      check_file(*tls_opts[i], *tls[i]);
    cluster.node_tls_cert = std::move(*tls[0]);
    cluster.node_tls_key = std::move(*tls[1]);
    cluster.node_tls_ca = std::move(*tls[2]);
  }
  if (secret) {
    if (secret->size() < min_node_secret_length)
      fail(opt_node_secret,
           "must be at least " + std::to_string(min_node_secret_length)
             + " characters long (the secret is not shown)");
    cluster.node_secret = std::move(*secret);
  }
}

} // namespace

config_load_result load_server_config(int argc, const char* const* argv,
                                      const env_map& dotenv,
                                      const env_map& environment) {
  config_load_result result;
  auto& cfg = result.config;
  auto desc = make_options(cfg);
  po::variables_map flags;
  // Without a (here empty) positional description, Boost silently drops
  // stray words such as a forgotten "--" before an option name.
  po::positional_options_description no_positionals;
  try {
    // No abbreviations: "--po" must not silently mean "--port".
    auto style = po::command_line_style::default_style
                 & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(argc, argv)
                .options(desc)
                .positional(no_positionals)
                .style(style)
                .run(),
              flags);
  } catch (const po::unknown_option& e) {
    auto name = e.get_option_name(); // "--name=value" for the = spelling
    throw config_error("unknown option " + shown(name.substr(0, name.find('=')))
                       + " (see --help)");
  } catch (const po::too_many_positional_options_error&) {
    throw config_error("unexpected command-line argument: every setting is an "
                       "option such as --port 8080 (see --help)");
  } catch (const po::error& e) {
    throw config_error(std::string{"command line: "} + e.what());
  }
  if (flags.count("help") > 0) {
    // Help must work even when the environment holds a bad value.
    std::ostringstream out;
    auto program = argc > 0 && argv[0] != nullptr && *argv[0] != '\0'
                     ? std::string{argv[0]}
                     : std::string{"parley"};
    out << "Usage: " << program << " [options]\n\n" << desc << '\n'
        << llm_environment_help();
    result.help = true;
    result.help_text = out.str();
    return result;
  }
  setting_lookup lookup{flags, dotenv, environment};
  if (auto v = lookup(opt_host))
    cfg.host = detail::non_empty(opt_host.label(), std::move(*v));
  if (auto v = lookup(opt_port)) {
    auto port = parse_whole(*v);
    if (!port || *port > 65535)
      fail(opt_port, shown(*v) + " is not a port number (0..65535)");
    cfg.port = static_cast<std::uint16_t>(*port);
  }
  if (auto v = lookup(opt_database_url))
    cfg.database_url_text = *v;
  try {
    cfg.database = parse_database_url(cfg.database_url_text);
  } catch (const config_error& e) {
    // parse_database_url's messages never contain the password.
    std::string what = e.what();
    constexpr std::string_view prefix = "DATABASE_URL: ";
    if (what.compare(0, prefix.size(), prefix) == 0)
      what.erase(0, prefix.size());
    fail(opt_database_url, what);
  }
  if (auto v = lookup(opt_knowledge_dir)) {
    cfg.knowledge_dir = *v;
    cfg.knowledge_dir_explicit = true;
    check_directory(opt_knowledge_dir, cfg.knowledge_dir);
  }
  if (auto v = lookup(opt_agent_rules)) {
    cfg.agent_rules_path = *v;
    check_file(opt_agent_rules, *v);
  }
  if (auto v = lookup(opt_demo_orders)) {
    cfg.demo_orders_path = *v;
    check_file(opt_demo_orders, *v);
  }
  if (auto v = lookup(opt_web_dir)) {
    cfg.web_dir = *v;
    cfg.web_dir_explicit = true;
    check_directory(opt_web_dir, cfg.web_dir);
  } else {
    cfg.web_dir = default_web_dir();
  }
  if (auto v = lookup(opt_web_config)) {
    cfg.web_config_path = *v;
    check_file(opt_web_config, *v);
  }
  if (auto v = lookup(opt_agent_router)) {
    auto who = to_lower(*v);
    if (who != "llm" && who != "rules")
      fail(opt_agent_router, shown(*v) + " is not a router (llm, rules)");
    cfg.agent_llm_routing = who == "llm";
  }
  if (auto v = lookup(opt_knowledge_poll))
    cfg.knowledge_poll = std::chrono::milliseconds{
      whole_in_range(opt_knowledge_poll, *v, 0, 3'600'000)};
  if (auto v = lookup(opt_log_level))
    cfg.log_level = normalize_log_level(opt_log_level, *v);
  if (auto v = lookup(opt_log_format))
    cfg.log_fmt = parse_log_format(opt_log_format, *v);
  if (auto v = lookup(opt_max_message_bytes))
    cfg.max_message_bytes = whole_in_range(opt_max_message_bytes, *v, 1,
                                           max_message_bytes_limit);
  if (auto v = lookup(opt_io_threads))
    cfg.io_threads = whole_in_range(opt_io_threads, *v, 1, max_threads);
  if (auto v = lookup(opt_worker_threads))
    cfg.worker_threads = whole_in_range(opt_worker_threads, *v, 1,
                                        max_threads);
  else if (cfg.worker_threads == 0)
    cfg.worker_threads = std::min<std::size_t>(usable_cpus(), max_threads);
  if (auto v = lookup(opt_shutdown_timeout))
    cfg.shutdown_timeout = seconds_in_range(opt_shutdown_timeout, *v);
  if (auto v = lookup(opt_session_linger))
    cfg.session_linger = seconds_in_range(opt_session_linger, *v);
  if (auto v = lookup(opt_history_limit))
    cfg.history_limit = whole_in_range(opt_history_limit, *v, 0,
                                       max_history_limit);
  if (auto v = lookup(opt_db_pool_size))
    cfg.db_pool_size = whole_in_range(opt_db_pool_size, *v, 0, 32);
  if (auto v = lookup(opt_admin_token))
    cfg.admin_token = check_admin_token(opt_admin_token, std::move(*v));
  if (auto v = lookup(opt_data_dir))
    cfg.data_dir = detail::non_empty(opt_data_dir.label(), std::move(*v));
  if (auto v = lookup(opt_allowed_origins))
    read_allowed_origins(opt_allowed_origins, *v, cfg);
  auto tls_cert = lookup(opt_tls_cert);
  auto tls_key = lookup(opt_tls_key);
  // One without the other is a mistake, not a request for plain HTTP.
  if (tls_cert && !tls_key)
    fail(opt_tls_key, "is required with " + opt_tls_cert.label());
  if (tls_key && !tls_cert)
    fail(opt_tls_cert, "is required with " + opt_tls_key.label());
  if (tls_cert) {
    check_file(opt_tls_cert, *tls_cert);
    check_file(opt_tls_key, *tls_key);
    cfg.tls_cert = std::move(*tls_cert);
    cfg.tls_key = std::move(*tls_key);
  }
  if (auto v = lookup(opt_tls_handshake_timeout)) {
    cfg.tls_handshake_timeout = seconds_in_range(opt_tls_handshake_timeout, *v);
    if (cfg.tls_handshake_timeout.count() == 0)
      fail(opt_tls_handshake_timeout, "must be more than 0");
  }
  read_cluster(lookup, cfg);
  for (const auto& limit : count_limits)
    if (auto v = lookup(limit.opt))
      cfg.limits.*limit.field = whole_in_range(limit.opt, *v, limit.min,
                                               limit.max);
  for (const auto& limit : time_limits)
    if (auto v = lookup(limit.opt))
      cfg.limits.*limit.field = seconds_in_range(limit.opt, *v);
  llm_flags llm;
  auto flag = [&flags](const char* name) -> std::optional<std::string> {
    if (auto i = flags.find(name); i != flags.end())
      return i->second.as<std::string>();
    return std::nullopt;
  };
  llm.provider = flag(opt_llm_provider.flag);
  llm.url = flag(flag_llm_url);
  llm.model = flag(flag_llm_model);
  cfg.llm = load_llm_config(llm, dotenv, environment);
  return result;
}

std::string default_web_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty())
    return "./web";
  return (exe.parent_path() / "web").string();
}

env_map read_dotenv_file(const std::string& directory) {
  auto file = fs::path{directory} / ".env";
  std::error_code ec;
  auto status = fs::status(file, ec);
  if (status.type() == fs::file_type::not_found)
    return {};
  if (ec)
    throw config_error(file.string() + ": " + ec.message());
  if (fs::is_directory(status))
    throw config_error(file.string() + ": is a directory, not a file");
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw config_error(file.string() + ": cannot be read");
  // Not `out << in.rdbuf()`: that reports an empty file as a failure.
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  if (in.bad())
    throw config_error(file.string() + ": cannot be read");
  try {
    return parse_dotenv(text);
  } catch (const config_error& e) {
    throw config_error(file.string() + ": " + e.what());
  }
}

env_map process_environment() {
  env_map result;
  for (char** entry = ::environ; entry != nullptr && *entry != nullptr;
       ++entry) {
    std::string_view text{*entry};
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0)
      continue;
    result.emplace(std::string{text.substr(0, eq)},
                   std::string{text.substr(eq + 1)});
  }
  return result;
}

} // namespace parley
