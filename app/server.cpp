#include "app/server.hpp"

#include <csignal>
#include <filesystem>
#include <future>
#include <limits>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/resource.h>

#include "actors/asker.hpp"
#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/service_directory.hpp"
#include "actors/supervisor.hpp"
#include "actors/worker_front.hpp"
#include "agent/agent_rules.hpp"
#include "config/admin_token.hpp"
#include "config/config_error.hpp"
#include "config/embedded_defaults.hpp"
#include "config/logging.hpp"
#include "config/web_config.hpp"
#include "storage/database.hpp"
#include "storage/order_repository.hpp"
#include "storage/storage_error.hpp"
#include "transport/listener.hpp"
#include "transport/server_context.hpp"
#include "transport/static_site.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace parley {

namespace {

std::shared_ptr<spdlog::logger> log() {
  return logger("main");
}

/// Creates or upgrades the schema before anything else runs: a database
/// that cannot be prepared is a start-up failure, not a runtime one.
bool prepare_database(const server_config& config) {
  try {
    storage::database db{config.database};
    auto version = storage::migrate(db);
    log()->info("database {} ready (schema version {})", db.description(),
                version);
    auto orders = config.demo_orders_path.empty()
                    ? storage::parse_orders(embedded_demo_orders(),
                                            "built-in demo orders")
                    : storage::read_orders_file(config.demo_orders_path);
    if (auto loaded = storage::load_demo_orders(db, orders); loaded > 0)
      log()->info("loaded {} demo orders into the empty orders table",
                  loaded);
    return true;
  } catch (const storage::storage_error& err) {
    log()->critical("cannot prepare the database {}: {}",
                    config.database.redacted(), err.what());
    return false;
  } catch (const config_error& err) {
    log()->critical("{}", err.what());
    return false;
  }
}

/// The agent's rules: AGENT_RULES, or the copy built into the binary. Bad
/// rules stop the start with one line.
std::shared_ptr<const agent::agent_rules>
load_agent_rules(const server_config& config) {
  try {
    if (!config.agent_rules_path.empty())
      return std::make_shared<const agent::agent_rules>(
        agent::agent_rules::load(config.agent_rules_path));
    auto doc = nlohmann::json::parse(embedded_agent_rules());
    return std::make_shared<const agent::agent_rules>(
      agent::agent_rules::parse(doc));
  } catch (const config_error& err) {
    log()->critical("{}", err.what());
  } catch (const nlohmann::json::exception& err) {
    log()->critical("the built-in agent rules are not valid JSON: {}",
                    err.what());
  }
  return nullptr;
}

/// The chat UI's title, greeting and suggestions: PARLEY_WEB_CONFIG, or the
/// copy built into the binary. A bad file stops the start with one line.
std::shared_ptr<const web_config> load_web_config(const server_config& config) {
  try {
    auto web = config.web_config_path.empty()
                 ? parse_web_config(embedded_web_config(),
                                    "the built-in config/web.json")
                 : read_web_config_file(config.web_config_path);
    for (const auto& s : web.suggestions)
      if (s.text.size() > config.max_message_bytes)
        log()->warn("web config: the suggestion '{}' is longer than "
                    "--max-message-bytes and would be refused",
                    s.label);
    return std::make_shared<const web_config>(std::move(web));
  } catch (const config_error& err) {
    log()->critical("{}", err.what());
  }
  return nullptr;
}

/// The built web UI, read into memory once. A missing default folder only
/// means the UI is not built (its pages say so); an explicit one was
/// checked with the other options. Files that cannot be loaded (too big,
/// unreadable) stop the start with one line; null then.
std::shared_ptr<const transport::static_site>
load_web_site(const server_config& config) {
  std::error_code ec;
  if (!config.web_dir_explicit
      && !std::filesystem::is_directory(config.web_dir, ec)) {
    log()->warn("web UI: {} does not exist, so / and /admin answer that the "
                "UI is not built (build it into that folder, or set "
                "--web-dir)",
                config.web_dir);
    return transport::static_site::unbuilt();
  }
  std::string error;
  auto site = transport::static_site::load(config.web_dir, error);
  if (!site) {
    log()->critical("--web-dir / PARLEY_WEB_DIR: {}", error);
    return nullptr;
  }
  log()->info("web UI: {} files ({} bytes) from {}", site->file_count(),
              site->total_bytes(), config.web_dir);
  for (const char* page : {"index.html", "admin.html"})
    if (!site->has(page))
      log()->warn("web UI: {} has no {}", config.web_dir, page);
  return site;
}

supervisor_settings make_supervisor_settings(const server_config& config) {
  supervisor_settings result;
  result.persistence.url = config.database;
  result.pool_size = default_pool_size(config.database.backend,
                                       config.db_pool_size);
  result.session.history_limit = config.history_limit;
  result.session.linger = config.session_linger;
  result.session.message_rate = config.limits.session_rate / 60.0;
  result.session.message_burst = static_cast<double>(
    config.limits.session_burst);
  result.session.max_pending_replies = config.limits.max_pending_replies;
  result.llm = config.llm;
  result.knowledge.dir = config.knowledge_dir;
  result.knowledge.poll_interval = config.knowledge_poll;
  return result;
}

/// The admin token and the allowed origins. Says where the token is, never
/// what it is; a token that cannot be had stops the start (config_error).
transport::access_rules make_access_rules(const server_config& config) {
  auto source = resolve_admin_token(config.admin_token, config.data_dir);
  if (source.file.empty()) {
    log()->info("admin token: set by PARLEY_ADMIN_TOKEN (or --admin-token)");
  } else {
    std::error_code ec;
    auto where = std::filesystem::absolute(source.file, ec);
    auto shown = ec ? source.file : where.lexically_normal().string();
    if (source.generated)
      log()->info("admin token: generated and stored in {} (mode 0600); "
                  "the admin API wants it as 'Authorization: Bearer <token>'",
                  shown);
    else
      log()->info("admin token: read from {}", shown);
    if (source.too_open)
      log()->warn("{} is readable by other users: chmod 600 it", shown);
  }
  if (config.allow_any_origin) {
    log()->warn("ALLOWED_ORIGINS=*: pages of every site may use /ws and "
                "/api from a browser");
  } else if (!config.allowed_origins.empty()) {
    std::string list;
    for (const auto& origin : config.allowed_origins)
      list += (list.empty() ? "" : ", ") + origin;
    log()->info("allowed origins: the server's own host and {}", list);
  }
  return {transport::admin_credential{source.token},
          transport::origin_policy{config.allowed_origins,
                                   config.allow_any_origin}};
}

/// Raises the soft limit of open files to the hard one (Debian starts
/// processes with 1024) and returns how many connections it leaves room
/// for, keeping some files for the database, logs and LLM connections.
std::size_t connections_the_file_limit_allows() {
  constexpr rlim_t reserve = 128;
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0)
    return std::numeric_limits<std::size_t>::max();
  if (files.rlim_cur < files.rlim_max) {
    auto raised = files;
    raised.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      files = raised;
  }
  if (files.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<std::size_t>::max();
  return files.rlim_cur > reserve ? files.rlim_cur - reserve : 1;
}

transport::transport_limits make_limits(const server_config& config) {
  const auto& limits = config.limits;
  transport::transport_limits result;
  result.max_message_bytes = config.max_message_bytes;
  result.max_header_bytes = limits.max_header_bytes;
  result.max_body_bytes = limits.max_body_bytes;
  result.max_queued_frames = limits.max_queued_frames;
  result.max_queued_bytes = limits.max_queued_bytes;
  result.max_connections = limits.max_connections;
  auto room = connections_the_file_limit_allows();
  if (room < result.max_connections) {
    log()->warn("PARLEY_MAX_CONNECTIONS={} but the open-file limit leaves "
                "room for {}; using {} (raise `ulimit -n` or LimitNOFILE)",
                limits.max_connections, room, room);
    result.max_connections = room;
  }
  result.max_connections_per_address = limits.max_connections_per_address;
  result.address_rate = limits.address_rate / 60.0;
  result.address_burst = static_cast<double>(limits.address_burst);
  result.request_timeout = limits.request_timeout;
  result.handshake_timeout = limits.handshake_timeout;
  result.tls_handshake_timeout = config.tls_handshake_timeout;
  result.idle_timeout = limits.idle_timeout;
  result.send_timeout = limits.send_timeout;
  return result;
}

/// OpenSSL's reason for the last failure (its error queue, emptied). Names
/// files and reasons, never key material.
std::string openssl_reason(const boost::system::error_code& ec) {
  std::string result;
  while (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    result = text; // the last is the most specific
  }
  if (result.empty())
    result = ec ? ec.message() : "unknown error";
  return result;
}

/// The server's TLS context for --tls-cert and --tls-key: TLS 1.2 or
/// newer, no compression (CRIME), no client-started renegotiation (a cheap
/// way to make the server work hard). A file that cannot be loaded or a key
/// that is not the certificate's stops the start with one line; null then.
std::shared_ptr<net::ssl::context>
make_tls_context(const server_config& config) {
  namespace ssl = net::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ERR_clear_error();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                     | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                     | ssl::context::no_tlsv1_1 | ssl::context::no_compression,
                   ec);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_RENEGOTIATION);
  if (!ec && SSL_CTX_set_min_proto_version(ctx->native_handle(),
                                           TLS1_2_VERSION)
               != 1)
    ec = boost::system::error_code{static_cast<int>(ERR_peek_last_error()),
                                   net::error::get_ssl_category()};
  if (ec) {
    log()->critical("TLS: cannot set up a server context: {}",
                    openssl_reason(ec));
    return nullptr;
  }
  ctx->use_certificate_chain_file(config.tls_cert, ec);
  if (ec) {
    log()->critical("--tls-cert / PARLEY_TLS_CERT: cannot load '{}': {}",
                    config.tls_cert, openssl_reason(ec));
    return nullptr;
  }
  ctx->use_private_key_file(config.tls_key, ssl::context::pem, ec);
  // Asio takes OpenSSL's error off its queue into `ec`.
  auto code = static_cast<unsigned long>(ec.value());
  auto mismatch = ec.category() == net::error::get_ssl_category()
                  && ERR_GET_LIB(code) == ERR_LIB_X509
                  && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) {
    log()->critical("--tls-key / PARLEY_TLS_KEY: cannot load '{}': {}",
                    config.tls_key, openssl_reason(ec));
    return nullptr;
  }
  // OpenSSL finds most mismatches while loading the key; the check
  // covers the rest.
  if (mismatch || SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    log()->critical("--tls-key / PARLEY_TLS_KEY: '{}' is not the private "
                    "key of the certificate in '{}'",
                    config.tls_key, config.tls_cert);
    return nullptr;
  }
  return ctx;
}

} // namespace

int run_server(const server_config& config) {
  std::shared_ptr<net::ssl::context> tls;
  if (!config.tls_cert.empty()) {
    tls = make_tls_context(config);
    if (!tls)
      return 1;
    log()->info("TLS: certificate {}; HTTPS and WSS on the same port as "
                "plain HTTP",
                config.tls_cert);
  }
  auto access = make_access_rules(config);
  // A gateway's knowledge base is on its workers.
  if (config.cluster.role != node_role::gateway
      && !std::filesystem::is_directory(config.knowledge_dir))
    log()->warn("knowledge folder {} does not exist; the knowledge base is "
                "empty",
                config.knowledge_dir);
  log()->info("LLM: {}", config.llm.describe());
  for (const auto& name : config.llm.ignored)
    log()->warn("{} is set but not used by the chosen LLM provider", name);
  auto rules = load_agent_rules(config);
  auto web = load_web_config(config);
  auto site = load_web_site(config);
  if (!rules || !web || !site || !prepare_database(config))
    return 1;

  const auto& cluster = config.cluster;
  caf::actor_system_config caf_config;
  caf_config.set("scheduler.max-threads", config.worker_threads);
  log()->info("threads: {} for actors, {} for sockets", config.worker_threads,
              config.io_threads);
  // Nodes talk through CAF's middleman (BASP over TCP); one process alone
  // does without it.
  if (cluster.role != node_role::all)
    caf_config.load<caf::io::middleman>();
  // With certificates, nodes speak TLS only and each verifies the other.
  if (cluster.node_tls()) {
    caf_config.load<caf::openssl::manager>();
    caf_config.openssl_certificate = cluster.node_tls_cert;
    caf_config.openssl_key = cluster.node_tls_key;
    caf_config.openssl_cafile = cluster.node_tls_ca;
  }
  caf_config.add_message_types<caf::id_block::parley>();
  caf_config.add_error_category(
    error_category(), [](std::uint8_t code, caf::atom_value,
                         const caf::message& ctx) {
      return describe(caf::error{code, error_category(), ctx});
    });
  caf::actor_system system{caf_config};

  net::io_context ioc{static_cast<int>(config.io_threads)};
  auto directory = std::make_shared<service_directory>();
  auto sup_settings = make_supervisor_settings(config);
  sup_settings.agent_rules = rules;
  sup_settings.agent_llm_routing = config.agent_llm_routing;
  if (const auto& released = rules->reply("released"); !released.empty())
    sup_settings.session.released_text = released;
  sup_settings.io = ioc.get_executor(); // LLM clients run on the io threads
  sup_settings.role = cluster.role;
  if (cluster.role == node_role::gateway) {
    worker_pool_settings pool;
    pool.workers = cluster.workers;
    pool.secret = cluster.node_secret;
    pool.connector = cluster.node_tls()
                       ? system.openssl_manager().actor_handle()
                       : system.middleman().actor_handle();
    sup_settings.pool = std::move(pool);
    std::string list;
    for (const auto& worker : cluster.workers)
      list += (list.empty() ? "" : ", ") + worker.text();
    log()->info("gateway: answers come from the workers {}", list);
  }
  auto supervisor = system.spawn(supervisor_fun, directory,
                                 std::move(sup_settings));
  transport::server_context ctx{system, directory, supervisor,
                                make_limits(config), std::move(access)};
  ctx.tls = tls;
  ctx.site = std::move(site);
  ctx.web = std::move(web);
  ctx.worker_only = cluster.role == node_role::worker;
  // REST calls and health checks ask through a few long-lived actors, one
  // per actor thread (actors/asker.hpp); they end with the supervisor.
  for (std::size_t i = 0; i < config.worker_threads; ++i)
    ctx.askers.push_back(
      system.spawn(asker_fun, caf::actor_cast<caf::actor>(supervisor)));
  // A worker's door for the gateways, on its node port.
  worker_actor front;
  std::uint16_t node_port = 0;
  if (cluster.role == node_role::worker) {
    std::shared_ptr<const service_directory> dir = directory;
    front = system.spawn(worker_front_fun, dir, supervisor,
                         cluster.node_secret);
    auto published = cluster.node_tls()
                       ? caf::openssl::publish(front, cluster.node_port,
                                               cluster.node_host.c_str(),
                                               true)
                       : system.middleman().publish(front, cluster.node_port,
                                                    cluster.node_host.c_str(),
                                                    true);
    if (!published) {
      log()->critical("--node-port: cannot listen on {}:{}: {}",
                      cluster.node_host, cluster.node_port,
                      describe(published.error()));
      caf::anon_send_exit(front, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
      return 1;
    }
    node_port = *published;
    log()->info("node listening on {}:{}{}{}", cluster.node_host, node_port,
                cluster.node_tls() ? " (TLS)" : "",
                cluster.node_secret.empty() ? ""
                                            : " (gateways must know the "
                                              "node secret)");
  }
  std::vector<std::thread> io_threads;
  std::shared_ptr<transport::listener> acceptor;
  {
    caf::scoped_actor self{system};
    // The supervisor's first answer also tells whether the database works.
    self->request(supervisor, std::chrono::seconds{10}, health_atom_v)
      .receive(
        [](const health_report& report) {
          if (!report.database_ok)
            log()->warn("database not reachable yet: {}",
                        report.database_error);
        },
        [](const caf::error& err) {
          log()->warn("supervisor did not report: {}", describe(err));
        });

    boost::system::error_code ec;
    tcp::resolver resolver{ioc};
    auto endpoints = resolver.resolve(config.host, std::to_string(config.port),
                                      tcp::resolver::passive, ec);
    if (ec || endpoints.empty()) {
      log()->critical("--host: cannot resolve '{}': {}", config.host,
                      ec.message());
      self->send_exit(supervisor, caf::exit_reason::user_shutdown);
      return 1;
    }
    acceptor = std::make_shared<transport::listener>(ioc, ctx);
    ec = acceptor->open(endpoints.begin()->endpoint());
    if (ec) {
      log()->critical("cannot listen on {}:{}: {}", config.host, config.port,
                      ec.message());
      self->send_exit(supervisor, caf::exit_reason::user_shutdown);
      return 1;
    }
    acceptor->run();

    std::promise<int> stop;
    net::signal_set signals{ioc, SIGINT, SIGTERM};
    signals.async_wait([&stop](const boost::system::error_code& ec, int sig) {
      stop.set_value(ec ? 0 : sig);
    });
    for (std::size_t i = 0; i < config.io_threads; ++i)
      io_threads.emplace_back([&ioc] { ioc.run(); });
    auto bound = acceptor->local_endpoint();
    auto address = bound.address().to_string();
    if (bound.address().is_v6())
      address = "[" + address + "]";
    if (tls)
      log()->info("listening on http://{}:{} and https://{}:{} (TLS told "
                  "apart per connection)",
                  address, bound.port(), address, bound.port());
    else
      log()->info("listening on http://{}:{}", address, bound.port());

    auto sig = stop.get_future().get();
    log()->info("received {}; shutting down", sig == SIGINT ? "SIGINT"
                                                           : "SIGTERM");
    acceptor->stop();
    if (front) {
      // Gateways see the worker leave and move its requests elsewhere.
      // (CAF 0.17.6's openssl::unpublish does not compile; a TLS port
      // closes with the actor system.)
      if (!cluster.node_tls())
        system.middleman().unpublish(front, node_port);
      self->send_exit(front, caf::exit_reason::user_shutdown);
    }
    auto registry = directory->get()->registry;
    auto drained = !registry;
    if (registry)
      self->request(registry, config.shutdown_timeout, drain_atom_v)
        .receive(
          [&](std::uint64_t sessions) {
            drained = true;
            log()->info("{} sessions finished", sessions);
          },
          [&](const caf::error& err) {
            log()->warn("sessions did not finish within {} ms ({}); "
                        "closing them",
                        config.shutdown_timeout.count(), describe(err));
          });
    // Stopping the supervisor stops the registry, which stops whatever
    // sessions are left; the persistence actor commits what it holds.
    self->send_exit(supervisor, caf::exit_reason::user_shutdown);
    // Close frames need the io threads: give the handshakes a moment.
    ctx.open_connections.wait_for_none(drained
                                         ? std::chrono::milliseconds{2000}
                                         : std::chrono::milliseconds{500});
  }
  ioc.stop();
  for (auto& thread : io_threads)
    thread.join();
  // Actors may still hold connections; they release them while the (now
  // stopped) io_context is alive.
  system.await_all_actors_done();
  acceptor.reset();
  log()->info("stopped");
  return 0;
}

} // namespace parley
