#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/cluster_config.hpp"
#include "config/database_url.hpp"
#include "config/dotenv.hpp"
#include "config/llm_config.hpp"

namespace parley {

enum class log_format { text, json };

/// DATABASE_URL when none is given: SQLite next to where Parley runs.
inline constexpr const char* default_database_url = "sqlite:///./data/parley.db";

/// The shortest admin token Parley accepts: 16 characters.
inline constexpr std::size_t min_admin_token_length = 16;

/// What one client, address or session may use. docs/security.md lists
/// each with its default and the test that holds it.
struct limit_config {
  std::size_t max_connections = 10000;        // PARLEY_MAX_CONNECTIONS
  /// 0: none (behind a reverse proxy every client has the proxy's address).
  std::size_t max_connections_per_address = 100; // PARLEY_MAX_CONNECTIONS_PER_ADDRESS
  std::size_t max_header_bytes = 8 * 1024;    // PARLEY_MAX_HEADER_BYTES
  std::size_t max_body_bytes = 1024 * 1024;   // PARLEY_MAX_BODY_BYTES
  /// Frames and bytes waiting for a client that reads too slowly; past
  /// either, or a write stuck for send_timeout, the connection is dropped.
  std::size_t max_queued_frames = 1024;       // PARLEY_MAX_QUEUED_FRAMES
  std::size_t max_queued_bytes = 4 * 1024 * 1024; // PARLEY_MAX_QUEUED_BYTES
  /// Chat messages per minute, with bursts of up to `burst`; 0: no limit.
  std::size_t session_rate = 60;              // PARLEY_SESSION_RATE
  std::size_t session_burst = 10;             // PARLEY_SESSION_BURST
  std::size_t address_rate = 600;             // PARLEY_ADDRESS_RATE
  std::size_t address_burst = 60;             // PARLEY_ADDRESS_BURST
  /// Messages of one session acknowledged or being stored, not answered.
  std::size_t max_pending_replies = 8;        // PARLEY_MAX_PENDING_REPLIES
  std::chrono::milliseconds request_timeout{30000};  // PARLEY_REQUEST_TIMEOUT (s)
  std::chrono::milliseconds handshake_timeout{10000}; // PARLEY_HANDSHAKE_TIMEOUT (s)
  std::chrono::milliseconds idle_timeout{60000};     // PARLEY_IDLE_TIMEOUT (s)
  std::chrono::milliseconds send_timeout{30000};     // PARLEY_SEND_TIMEOUT (s)
};

/// Everything Parley reads at start-up. Defaults are the embedded defaults of
/// `./tools/run`; each field names its environment variable and flag.
struct server_config {
  std::string host = "127.0.0.1";                 // BACKEND_HOST, --host
  std::uint16_t port = 3001;                      // BACKEND_PORT, --port
  std::string database_url_text = default_database_url; // DATABASE_URL
  database_url database;                          // parsed database_url_text
  std::string knowledge_dir = "./knowledge";      // KNOWLEDGE_DIR
  bool knowledge_dir_explicit = false;            // set by env or flag
  /// The agent's rules and the demo orders; empty: the copies of
  /// config/agent.json and config/demo_orders.json built into the binary.
  std::string agent_rules_path;                   // AGENT_RULES
  std::string demo_orders_path;                   // DEMO_ORDERS
  /// The built web UI served on / and /admin; by default the folder `web`
  /// next to the executable (build/web for build/parley), which may be
  /// missing (the UI is not built). An explicit one must exist.
  std::string web_dir;                            // PARLEY_WEB_DIR
  bool web_dir_explicit = false;                  // set by env or flag
  /// The chat UI's title, greeting and suggestions; empty: the copy of
  /// config/web.json built into the binary.
  std::string web_config_path;                    // PARLEY_WEB_CONFIG
  /// Who routes messages while an LLM is connected: the LLM (a forced
  /// `route` tool call; "llm") or the rules file ("rules").
  bool agent_llm_routing = true;                  // AGENT_ROUTER
  /// How often the knowledge folder is checked for changed files; 0: only
  /// on POST /api/knowledge/reload.
  std::chrono::milliseconds knowledge_poll{2000}; // PARLEY_KNOWLEDGE_POLL_MS
  std::string log_level = "info";                 // LOG_LEVEL, --log-level
  log_format log_fmt = log_format::text;          // LOG_FORMAT, --log-format
  std::size_t max_message_bytes = 16 * 1024;     // PARLEY_MAX_MESSAGE_BYTES
  std::size_t io_threads = 1;                     // PARLEY_IO_THREADS
  /// Actor threads; the default is one per CPU this process may run on
  /// (usable_cpus(), at most 64).
  std::size_t worker_threads = 0;                 // PARLEY_WORKER_THREADS
  std::chrono::milliseconds shutdown_timeout{5000}; // PARLEY_SHUTDOWN_TIMEOUT (s)
  std::chrono::milliseconds session_linger{30000};  // PARLEY_SESSION_LINGER (s)
  std::size_t history_limit = 20;                 // PARLEY_HISTORY_LIMIT
  std::size_t db_pool_size = 0; // PARLEY_DB_POOL_SIZE; 0 = by backend
  /// The bearer token of the admin API (visible ASCII, at least
  /// min_admin_token_length); empty: the one in `data_dir`/admin_token,
  /// generated on the first start.
  std::string admin_token;                        // PARLEY_ADMIN_TOKEN
  std::string data_dir = "./data";                // PARLEY_DATA_DIR
  /// Browser origins ("https://shop.example", normalised by web_origin)
  /// that may open the chat socket and call the REST API, besides pages
  /// of the server's own host; `allow_any_origin` for "*".
  std::vector<std::string> allowed_origins;       // ALLOWED_ORIGINS
  bool allow_any_origin = false;
  /// HTTPS and WSS on the same port as plain HTTP (told apart per
  /// connection): the PEM certificate chain and its private key, both or
  /// neither; empty: plain only.
  std::string tls_cert;                           // PARLEY_TLS_CERT
  std::string tls_key;                            // PARLEY_TLS_KEY
  /// How long a new connection may take to show whether it speaks TLS and
  /// to finish the TLS handshake.
  std::chrono::milliseconds tls_handshake_timeout{10000}; // PARLEY_TLS_HANDSHAKE_TIMEOUT (s)
  limit_config limits;
  llm_config llm; // LLM_* and OPENAI_*, --llm-provider/-url/-model
  /// --role, --node-host, --node-port, --workers, PARLEY_NODE_SECRET.
  cluster_config cluster;
};

/// The folder `web` next to the running executable (/proc/self/exe), or
/// ./web when that cannot be found out.
std::string default_web_dir();

/// Result of reading the command line: either a configuration to run with or
/// a help text to print.
struct config_load_result {
  server_config config;
  bool help = false;
  std::string help_text;
};

/// Builds the configuration from, in rising precedence: the embedded
/// defaults, `dotenv` (the parsed `.env` file), `environment` (the process
/// environment), and the command-line flags. Validates every value; throws
/// config_error with one line naming the option on the first bad one.
config_load_result load_server_config(int argc, const char* const* argv,
                                      const env_map& dotenv,
                                      const env_map& environment);

/// Reads `.env` from `directory` if it exists (an unreadable or malformed
/// file is a config_error); an absent file gives an empty map.
env_map read_dotenv_file(const std::string& directory);

/// The process environment as a map.
env_map process_environment();

} // namespace parley
