#include "config/server_config.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "config/config_error.hpp"
#include "config/usable_cpus.hpp"
#include "tests/support/temp_dir.hpp"

using namespace parley;
using namespace std::chrono_literals;

namespace fs = std::filesystem;

namespace {

using parley::test::temp_dir;

config_load_result load(std::initializer_list<const char*> flags,
                        const env_map& dotenv = {},
                        const env_map& environment = {}) {
  std::vector<const char*> argv{"parley"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return load_server_config(static_cast<int>(argv.size()), argv.data(),
                            dotenv, environment);
}

/// The config_error message of a load that must fail.
std::string load_error(std::initializer_list<const char*> flags,
                       const env_map& dotenv = {},
                       const env_map& environment = {}) {
  try {
    load(flags, dotenv, environment);
  } catch (const config_error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    return what;
  }
  ADD_FAILURE() << "load did not throw";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST(server_config, defaults) {
  auto result = load({});
  const auto& cfg = result.config;
  EXPECT_FALSE(result.help);
  EXPECT_EQ(cfg.host, "127.0.0.1");
  EXPECT_EQ(cfg.port, 3001);
  EXPECT_EQ(cfg.database_url_text, "sqlite:///./data/parley.db");
  EXPECT_EQ(cfg.database.backend, db_backend::sqlite);
  EXPECT_EQ(cfg.database.path, "./data/parley.db");
  EXPECT_EQ(cfg.knowledge_dir, "./knowledge");
  EXPECT_FALSE(cfg.knowledge_dir_explicit);
  EXPECT_EQ(cfg.log_level, "info");
  EXPECT_EQ(cfg.log_fmt, log_format::text);
  EXPECT_EQ(cfg.max_message_bytes, 16u * 1024);
  EXPECT_EQ(cfg.io_threads, 1u);
  EXPECT_EQ(cfg.worker_threads, usable_cpus());
  EXPECT_EQ(cfg.shutdown_timeout, 5000ms);
  EXPECT_EQ(cfg.session_linger, 30000ms);
  EXPECT_EQ(cfg.history_limit, 20u);
}

TEST(server_config, precedence_defaults_dotenv_environment_flags) {
  env_map dotenv{{"BACKEND_PORT", "4000"}, {"BACKEND_HOST", "10.0.0.1"},
                 {"LOG_LEVEL", "debug"}};
  env_map environment{{"BACKEND_PORT", "5000"}, {"BACKEND_HOST", "10.0.0.2"}};
  auto from_dotenv = load({}, dotenv, {}).config;
  EXPECT_EQ(from_dotenv.port, 4000);
  EXPECT_EQ(from_dotenv.host, "10.0.0.1");
  auto from_env = load({}, dotenv, environment).config;
  EXPECT_EQ(from_env.port, 5000);
  EXPECT_EQ(from_env.host, "10.0.0.2");
  EXPECT_EQ(from_env.log_level, "debug"); // only .env sets it
  auto from_flag = load({"--port", "6000"}, dotenv, environment).config;
  EXPECT_EQ(from_flag.port, 6000);
  EXPECT_EQ(from_flag.host, "10.0.0.2");
}

TEST(server_config, empty_environment_value_counts_as_unset) {
  auto cfg = load({}, {{"BACKEND_PORT", "4000"}}, {{"BACKEND_PORT", ""}})
               .config;
  EXPECT_EQ(cfg.port, 4000);
  EXPECT_EQ(load({}, {{"LOG_LEVEL", ""}}, {}).config.log_level, "info");
}

TEST(server_config, flag_spellings) {
  EXPECT_EQ(load({"--port", "0"}).config.port, 0);
  EXPECT_EQ(load({"--port=0"}).config.port, 0);
  EXPECT_EQ(load({"--host=0.0.0.0"}).config.host, "0.0.0.0");
}

TEST(server_config, every_environment_variable) {
  temp_dir knowledge;
  env_map environment{{"BACKEND_HOST", "0.0.0.0"},
                      {"BACKEND_PORT", "8080"},
                      {"DATABASE_URL", "postgresql://u:p@db/chat"},
                      {"KNOWLEDGE_DIR", knowledge.str()},
                      {"LOG_LEVEL", "Error"},
                      {"LOG_FORMAT", "json"},
                      {"PARLEY_MAX_MESSAGE_BYTES", "1024"},
                      {"PARLEY_IO_THREADS", "3"},
                      {"PARLEY_WORKER_THREADS", "4"},
                      {"PARLEY_SHUTDOWN_TIMEOUT", "2.5"},
                      {"PARLEY_SESSION_LINGER", "60"},
                      {"PARLEY_HISTORY_LIMIT", "7"}};
  auto cfg = load({}, {}, environment).config;
  EXPECT_EQ(cfg.host, "0.0.0.0");
  EXPECT_EQ(cfg.port, 8080);
  EXPECT_EQ(cfg.database_url_text, "postgresql://u:p@db/chat");
  EXPECT_EQ(cfg.database.backend, db_backend::postgresql);
  EXPECT_EQ(cfg.database.host, "db");
  EXPECT_EQ(cfg.knowledge_dir, knowledge.str());
  EXPECT_TRUE(cfg.knowledge_dir_explicit);
  EXPECT_EQ(cfg.log_level, "error");
  EXPECT_EQ(cfg.log_fmt, log_format::json);
  EXPECT_EQ(cfg.max_message_bytes, 1024u);
  EXPECT_EQ(cfg.io_threads, 3u);
  EXPECT_EQ(cfg.worker_threads, 4u);
  EXPECT_EQ(cfg.shutdown_timeout, 2500ms);
  EXPECT_EQ(cfg.session_linger, 60000ms);
  EXPECT_EQ(cfg.history_limit, 7u);
}

TEST(server_config, every_flag) {
  temp_dir knowledge;
  auto dir = knowledge.str();
  auto cfg = load({"--host", "::", "--port", "9090", "--database-url",
                   "mysql://root@localhost/parley", "--knowledge-dir",
                   dir.c_str(), "--log-level", "TRACE", "--log-format",
                   "JSON", "--max-message-bytes", "16777216", "--io-threads",
                   "64", "--worker-threads", "1", "--shutdown-timeout",
                   "0.25", "--session-linger", "3600", "--history-limit",
                   "0"})
               .config;
  EXPECT_EQ(cfg.host, "::");
  EXPECT_EQ(cfg.port, 9090);
  EXPECT_EQ(cfg.database.backend, db_backend::mysql);
  EXPECT_EQ(cfg.database.user, "root");
  EXPECT_EQ(cfg.knowledge_dir, dir);
  EXPECT_TRUE(cfg.knowledge_dir_explicit);
  EXPECT_EQ(cfg.log_level, "trace");
  EXPECT_EQ(cfg.log_fmt, log_format::json);
  EXPECT_EQ(cfg.max_message_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(cfg.io_threads, 64u);
  EXPECT_EQ(cfg.worker_threads, 1u);
  EXPECT_EQ(cfg.shutdown_timeout, 250ms);
  EXPECT_EQ(cfg.session_linger, 3600000ms);
  EXPECT_EQ(cfg.history_limit, 0u);
}

TEST(server_config, help_lists_every_option_default_and_variable) {
  auto result = load({"--help"});
  ASSERT_TRUE(result.help);
  // Boost wraps long lines; compare with every run of whitespace as one space.
  std::string text;
  for (char c : result.help_text) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (!space)
      text += c;
    else if (!text.empty() && text.back() != ' ')
      text += ' ';
  }
  for (auto part :
       {"--help", "--host", "--port", "--database-url", "--knowledge-dir",
        "--log-level", "--log-format", "--max-message-bytes", "--io-threads",
        "--worker-threads", "--shutdown-timeout", "--session-linger",
        "--history-limit", "BACKEND_HOST", "BACKEND_PORT", "DATABASE_URL",
        "KNOWLEDGE_DIR", "LOG_LEVEL", "LOG_FORMAT", "PARLEY_MAX_MESSAGE_BYTES",
        "PARLEY_IO_THREADS", "PARLEY_WORKER_THREADS",
        "PARLEY_SHUTDOWN_TIMEOUT", "PARLEY_SESSION_LINGER",
        "PARLEY_HISTORY_LIMIT", "--admin-token", "PARLEY_ADMIN_TOKEN",
        "--data-dir", "PARLEY_DATA_DIR", "default: ./data",
        "--allowed-origins", "ALLOWED_ORIGINS",
        "default: 127.0.0.1", "default: 3001",
        "default: sqlite:///./data/parley.db", "default: ./knowledge",
        "default: info", "default: text", "default: 16384", "default: 1;",
        "default: one per CPU this process may run on;", "default: 5;", "default: 30;", "default: 20;"})
    EXPECT_TRUE(contains(text, part)) << "missing '" << part << "' in\n"
                                      << text;
  EXPECT_TRUE(load({"-h"}).help);
}

TEST(server_config, help_ignores_bad_environment) {
  auto result = load({"--help"}, {}, {{"BACKEND_PORT", "nope"}});
  EXPECT_TRUE(result.help);
}

TEST(server_config, command_line_errors) {
  EXPECT_TRUE(contains(load_error({"--bogus"}), "'--bogus'"));
  EXPECT_EQ(load_error({"--bogus=1"}), "unknown option '--bogus' (see --help)");
  EXPECT_TRUE(contains(load_error({"--port="}), "--port"));
  // No silent abbreviations.
  EXPECT_TRUE(contains(load_error({"--po", "1"}), "--po"));
  EXPECT_TRUE(contains(load_error({"stray"}), "unexpected"));
  EXPECT_TRUE(contains(load_error({"--port", "1", "stray"}), "unexpected"));
  EXPECT_TRUE(contains(load_error({"--port"}), "port"));
  EXPECT_TRUE(contains(load_error({"--port", "1", "--port", "2"}), "port"));
}

TEST(server_config, port_validation) {
  EXPECT_EQ(load_error({"--port", "70000"}),
            "--port / BACKEND_PORT: '70000' is not a port number (0..65535)");
  EXPECT_EQ(load_error({}, {}, {{"BACKEND_PORT", "abc"}}),
            "--port / BACKEND_PORT: 'abc' is not a port number (0..65535)");
  EXPECT_TRUE(contains(load_error({"--port=-1"}), "'-1'"));
  EXPECT_TRUE(contains(load_error({"--port", ""}), "'' is not a port"));
  EXPECT_TRUE(contains(load_error({"--port", "80.5"}), "'80.5'"));
  EXPECT_TRUE(contains(load_error({"--port", "99999999999999999999999"}),
                       "not a port"));
  EXPECT_EQ(load({"--port", "65535"}).config.port, 65535);
  EXPECT_TRUE(contains(load_error({"--port", "65536"}), "'65536'"));
}

TEST(server_config, whole_number_ranges) {
  auto bad = [](const char* flag, const char* value) {
    return load_error({flag, value});
  };
  EXPECT_EQ(bad("--io-threads", "0"),
            "--io-threads / PARLEY_IO_THREADS: '0' is not a whole number in "
            "1..64");
  EXPECT_TRUE(contains(bad("--io-threads", "65"), "'65'"));
  EXPECT_TRUE(contains(bad("--worker-threads", "0"), "--worker-threads"));
  EXPECT_TRUE(contains(bad("--worker-threads", "65"), "1..64"));
  EXPECT_TRUE(contains(bad("--worker-threads", "2.0"), "'2.0'"));
  EXPECT_TRUE(contains(bad("--worker-threads", " 2"), "' 2'"));
  EXPECT_TRUE(contains(bad("--max-message-bytes", "0"), "1..16777216"));
  EXPECT_TRUE(contains(bad("--max-message-bytes", "16777217"), "16777217"));
  EXPECT_TRUE(contains(bad("--history-limit", "1001"), "0..1000"));
  EXPECT_TRUE(contains(bad("--history-limit", "-1"), "--history-limit"));
  EXPECT_EQ(load({"--max-message-bytes", "1"}).config.max_message_bytes, 1u);
  EXPECT_EQ(load({"--history-limit", "1000"}).config.history_limit, 1000u);
  EXPECT_EQ(load({}).config.db_pool_size, 0u);
  EXPECT_EQ(load({"--db-pool-size", "8"}).config.db_pool_size, 8u);
  EXPECT_EQ(load({}, {}, {{"PARLEY_DB_POOL_SIZE", "3"}}).config.db_pool_size,
            3u);
  EXPECT_TRUE(contains(bad("--db-pool-size", "33"), "--db-pool-size"));
}

TEST(server_config, timeouts) {
  EXPECT_EQ(load({"--shutdown-timeout", "0.001"}).config.shutdown_timeout,
            1ms);
  EXPECT_EQ(load({"--shutdown-timeout", "3600"}).config.shutdown_timeout,
            3600000ms);
  EXPECT_EQ(load({}, {}, {{"PARLEY_SESSION_LINGER", "1.5"}})
              .config.session_linger,
            1500ms);
  EXPECT_EQ(load({"--session-linger", "2"}).config.session_linger, 2000ms);
  for (auto value :
       {"0", "-1", "3600.5", "abc", "inf", "nan", "", "0.0001", "1s", "+5"})
    EXPECT_TRUE(contains(load_error({"--shutdown-timeout", value}),
                         "--shutdown-timeout / PARLEY_SHUTDOWN_TIMEOUT"))
      << value;
  EXPECT_TRUE(contains(load_error({}, {}, {{"PARLEY_SESSION_LINGER", "0"}}),
                       "--session-linger / PARLEY_SESSION_LINGER: '0'"));
}

TEST(server_config, log_level_and_format) {
  EXPECT_EQ(load({"--log-level", "WARNING"}).config.log_level, "warn");
  EXPECT_EQ(load({"--log-level", "warn"}).config.log_level, "warn");
  EXPECT_EQ(load({"--log-level", "Critical"}).config.log_level, "critical");
  EXPECT_EQ(load({"--log-level", "off"}).config.log_level, "off");
  EXPECT_TRUE(contains(load_error({"--log-level", "verbose"}),
                       "--log-level / LOG_LEVEL: 'verbose'"));
  EXPECT_EQ(load({"--log-format", "text"}).config.log_fmt, log_format::text);
  EXPECT_EQ(load({}, {}, {{"LOG_FORMAT", "json"}}).config.log_fmt,
            log_format::json);
  EXPECT_TRUE(contains(load_error({"--log-format", "xml"}),
                       "--log-format / LOG_FORMAT: 'xml'"));
}

TEST(server_config, host_must_not_be_empty) {
  EXPECT_TRUE(contains(load_error({"--host", ""}), "--host / BACKEND_HOST"));
}

TEST(server_config, bad_database_url_hides_password) {
  auto what = load_error({}, {}, {{"DATABASE_URL", "postgresql://u:TopSecret@db"}});
  EXPECT_TRUE(contains(what, "--database-url / DATABASE_URL: no database"))
    << what;
  EXPECT_FALSE(contains(what, "TopSecret")) << what;
  EXPECT_TRUE(contains(load_error({"--database-url", "oracle://x/y"}),
                       "unknown scheme"));
}

TEST(server_config, admin_token_and_data_dir) {
  auto defaults = load({}).config;
  EXPECT_EQ(defaults.admin_token, "") << "empty: generated into the data dir";
  EXPECT_EQ(defaults.data_dir, "./data");
  auto from_env = load({}, {},
                       {{"PARLEY_ADMIN_TOKEN", "env-token-0123456789"},
                        {"PARLEY_DATA_DIR", "/var/lib/parley"}})
                    .config;
  EXPECT_EQ(from_env.admin_token, "env-token-0123456789");
  EXPECT_EQ(from_env.data_dir, "/var/lib/parley");
  EXPECT_EQ(load({}, {{"PARLEY_ADMIN_TOKEN", "dotenv-token-0123456"}}, {})
              .config.admin_token,
            "dotenv-token-0123456");
  EXPECT_EQ(load({"--admin-token", "flag-token-0123456789", "--data-dir",
                  "d"},
                 {}, {{"PARLEY_ADMIN_TOKEN", "env-token-0123456789"}})
              .config.admin_token,
            "flag-token-0123456789");
  EXPECT_EQ(load({}, {}, {{"PARLEY_ADMIN_TOKEN", ""}}).config.admin_token, "")
    << "an empty variable counts as unset";
  EXPECT_EQ(load({}, {}, {{"PARLEY_ADMIN_TOKEN", std::string(16, 'x')}})
              .config.admin_token,
            std::string(16, 'x'));
  EXPECT_TRUE(contains(load_error({"--data-dir", ""}), "PARLEY_DATA_DIR"));
}

TEST(server_config, a_bad_admin_token_is_one_line_without_the_token) {
  for (std::string bad : {"short-secret-15", "fifteen-chars-x",
                          "has a space in it 0123", "tab\tin-the-token-0123",
                          "caf\xC3\xA9-not-ascii-0123"}) {
    SCOPED_TRACE(bad);
    for (const auto& what :
         {load_error({"--admin-token", bad.c_str()}),
          load_error({}, {}, {{"PARLEY_ADMIN_TOKEN", bad}}),
          load_error({}, {{"PARLEY_ADMIN_TOKEN", bad}}, {})}) {
      EXPECT_TRUE(contains(what, "--admin-token / PARLEY_ADMIN_TOKEN"))
        << what;
      EXPECT_FALSE(contains(what, bad)) << what;
      EXPECT_TRUE(contains(what, "not shown")) << what;
    }
  }
  EXPECT_TRUE(contains(load_error({"--admin-token", "short-secret-15"}),
                       "at least 16 characters"));
  // An empty flag is explicit, and too short.
  EXPECT_TRUE(contains(load_error({"--admin-token", ""}),
                       "at least 16 characters"));
}

TEST(server_config, allowed_origins) {
  auto none = load({}).config;
  EXPECT_TRUE(none.allowed_origins.empty());
  EXPECT_FALSE(none.allow_any_origin);
  auto listed = load({}, {},
                     {{"ALLOWED_ORIGINS",
                       " https://Shop.Example , http://localhost:8080,"
                       "https://shop.example:443/,,"}})
                  .config;
  EXPECT_EQ(listed.allowed_origins,
            (std::vector<std::string>{"https://shop.example",
                                      "http://localhost:8080"}));
  EXPECT_FALSE(listed.allow_any_origin);
  auto any = load({"--allowed-origins", "*"}).config;
  EXPECT_TRUE(any.allow_any_origin);
  EXPECT_TRUE(any.allowed_origins.empty());
  for (const char* bad : {"shop.example", "https://shop.example/path",
                          "https://shop.example, null", ",", "https://"}) {
    auto what = load_error({"--allowed-origins", bad});
    EXPECT_TRUE(contains(what, "--allowed-origins / ALLOWED_ORIGINS")) << what;
  }
  EXPECT_TRUE(contains(load_error({"--allowed-origins", "shop.example"}),
                       "'shop.example' is not an origin"));
}

TEST(server_config, explicit_knowledge_dir_must_exist) {
  temp_dir root;
  auto missing = (root.path() / "nope").string();
  EXPECT_EQ(load_error({"--knowledge-dir", missing.c_str()}),
            "--knowledge-dir / KNOWLEDGE_DIR: '" + missing
              + "' does not exist");
  EXPECT_TRUE(contains(load_error({}, {}, {{"KNOWLEDGE_DIR", missing}}),
                       "does not exist"));
  // .env is an explicit setting too.
  EXPECT_TRUE(contains(load_error({}, {{"KNOWLEDGE_DIR", missing}}, {}),
                       "does not exist"));
  root.write("file.md", "# not a folder\n");
  auto file = (root.path() / "file.md").string();
  EXPECT_TRUE(contains(load_error({"--knowledge-dir", file.c_str()}),
                       "is not a directory"));
  EXPECT_TRUE(contains(load_error({"--knowledge-dir", ""}), "does not exist"));
}

TEST(server_config, dotenv_knowledge_dir_is_explicit) {
  temp_dir knowledge;
  auto cfg = load({}, {{"KNOWLEDGE_DIR", knowledge.str()}}, {}).config;
  EXPECT_EQ(cfg.knowledge_dir, knowledge.str());
  EXPECT_TRUE(cfg.knowledge_dir_explicit);
}

TEST(server_config, unreadable_knowledge_dir) {
  temp_dir root;
  auto locked = root.path() / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::none);
  // Root reads any folder, so as root the check runs in a child process
  // that has dropped to an ordinary user (nobody).
  auto check = [&locked] {
    auto what = load_error({"--knowledge-dir", locked.c_str()});
    return contains(what, "cannot be read");
  };
  if (geteuid() != 0) {
    EXPECT_TRUE(check());
  } else {
    fs::permissions(root.path(), fs::perms::owner_all | fs::perms::others_exec);
    auto child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0)
        _exit(3);
      _exit(check() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the check failed as user nobody";
  }
  fs::permissions(locked, fs::perms::owner_all);
}

TEST(server_config, missing_default_knowledge_dir_is_allowed) {
  temp_dir empty;
  auto old_cwd = fs::current_path();
  fs::current_path(empty.path()); // so that ./knowledge surely is missing
  bool threw = false;
  server_config cfg;
  try {
    cfg = load({}).config;
  } catch (const config_error&) {
    threw = true;
  }
  fs::current_path(old_cwd);
  EXPECT_FALSE(threw);
  EXPECT_FALSE(cfg.knowledge_dir_explicit);
  EXPECT_EQ(cfg.knowledge_dir, "./knowledge");
}

TEST(server_config, web_dir_defaults_to_web_next_to_the_executable) {
  auto cfg = load({}).config;
  auto exe = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(cfg.web_dir, (exe.parent_path() / "web").string());
  EXPECT_FALSE(cfg.web_dir_explicit);
  EXPECT_EQ(cfg.web_dir, default_web_dir());
  EXPECT_TRUE(cfg.web_config_path.empty()) << "the built-in web.json";
}

TEST(server_config, web_dir_and_web_config_from_flags_and_environment) {
  temp_dir web;
  web.write("web.json", "{}");
  auto file = (web.path() / "web.json").string();
  auto by_flag = load({"--web-dir", web.str().c_str(), "--web-config",
                       file.c_str()})
                   .config;
  EXPECT_EQ(by_flag.web_dir, web.str());
  EXPECT_TRUE(by_flag.web_dir_explicit);
  EXPECT_EQ(by_flag.web_config_path, file);
  auto by_env = load({}, {},
                     {{"PARLEY_WEB_DIR", web.str()},
                      {"PARLEY_WEB_CONFIG", file}})
                  .config;
  EXPECT_EQ(by_env.web_dir, web.str());
  EXPECT_TRUE(by_env.web_dir_explicit);
  EXPECT_EQ(by_env.web_config_path, file);
}

TEST(server_config, an_explicit_web_dir_or_web_config_must_exist) {
  temp_dir root;
  auto missing = (root.path() / "nope").string();
  EXPECT_EQ(load_error({"--web-dir", missing.c_str()}),
            "--web-dir / PARLEY_WEB_DIR: '" + missing + "' does not exist");
  EXPECT_TRUE(contains(load_error({}, {}, {{"PARLEY_WEB_DIR", missing}}),
                       "does not exist"));
  root.write("index.html", "<!doctype html>");
  auto file = (root.path() / "index.html").string();
  EXPECT_TRUE(contains(load_error({"--web-dir", file.c_str()}),
                       "is not a directory"));
  EXPECT_EQ(load_error({"--web-config", missing.c_str()}),
            "--web-config / PARLEY_WEB_CONFIG: '" + missing
              + "' does not exist");
  EXPECT_TRUE(contains(load_error({"--web-config", root.str().c_str()}),
                       "is not a file"));
}

TEST(server_config, help_lists_the_web_options) {
  auto help = load({"--help"}).help_text;
  for (auto part : {"--web-dir", "PARLEY_WEB_DIR", "--web-config",
                    "PARLEY_WEB_CONFIG"})
    EXPECT_TRUE(contains(help, part)) << part << " missing in\n" << help;
}

TEST(server_config, read_dotenv_file) {
  temp_dir dir;
  EXPECT_TRUE(read_dotenv_file(dir.str()).empty()); // no .env at all
  dir.write(".env", "");
  EXPECT_TRUE(read_dotenv_file(dir.str()).empty());
  dir.write(".env", "export BACKEND_PORT=4242\r\nLOG_LEVEL='debug'\r\n");
  auto env = read_dotenv_file(dir.str());
  EXPECT_EQ(env, (env_map{{"BACKEND_PORT", "4242"}, {"LOG_LEVEL", "debug"}}));
  EXPECT_EQ(load({}, env, {}).config.port, 4242);
  dir.write(".env", "A=1\nbroken line\n");
  try {
    read_dotenv_file(dir.str());
    ADD_FAILURE() << "malformed .env accepted";
  } catch (const config_error& e) {
    std::string what = e.what();
    EXPECT_TRUE(contains(what, (dir.path() / ".env").string())) << what;
    EXPECT_TRUE(contains(what, "line 2:")) << what;
  }
}

TEST(server_config, dotenv_that_is_a_directory) {
  temp_dir dir;
  fs::create_directory(dir.path() / ".env");
  EXPECT_THROW(read_dotenv_file(dir.str()), config_error);
}

TEST(server_config, process_environment) {
  auto name = "PARLEY_CONFIG_TEST_" + std::to_string(::getpid());
  ASSERT_EQ(::setenv(name.c_str(), "a=b c", 1), 0);
  auto env = process_environment();
  ::unsetenv(name.c_str());
  ASSERT_EQ(env.count(name), 1u);
  EXPECT_EQ(env[name], "a=b c");
  EXPECT_EQ(process_environment().count(name), 0u);
}

TEST(server_config, limits_have_safe_defaults) {
  auto limits = load({}).config.limits;
  EXPECT_EQ(limits.max_connections, 10000u);
  EXPECT_EQ(limits.max_connections_per_address, 100u);
  EXPECT_EQ(limits.max_header_bytes, 8192u);
  EXPECT_EQ(limits.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(limits.max_queued_frames, 1024u);
  EXPECT_EQ(limits.max_queued_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(limits.session_rate, 60u);
  EXPECT_EQ(limits.session_burst, 10u);
  EXPECT_EQ(limits.address_rate, 600u);
  EXPECT_EQ(limits.address_burst, 60u);
  EXPECT_EQ(limits.max_pending_replies, 8u);
  EXPECT_EQ(limits.request_timeout, 30s);
  EXPECT_EQ(limits.handshake_timeout, 10s);
  EXPECT_EQ(limits.idle_timeout, 60s);
  EXPECT_EQ(limits.send_timeout, 30s);
}

TEST(server_config, every_limit_from_the_environment_and_flags) {
  env_map environment{{"PARLEY_MAX_CONNECTIONS", "50"},
                      {"PARLEY_MAX_CONNECTIONS_PER_ADDRESS", "0"},
                      {"PARLEY_MAX_HEADER_BYTES", "2048"},
                      {"PARLEY_MAX_BODY_BYTES", "4096"},
                      {"PARLEY_MAX_QUEUED_FRAMES", "32"},
                      {"PARLEY_MAX_QUEUED_BYTES", "65536"},
                      {"PARLEY_SESSION_RATE", "0"},
                      {"PARLEY_SESSION_BURST", "3"},
                      {"PARLEY_ADDRESS_RATE", "120"},
                      {"PARLEY_ADDRESS_BURST", "7"},
                      {"PARLEY_MAX_PENDING_REPLIES", "2"},
                      {"PARLEY_REQUEST_TIMEOUT", "1.5"},
                      {"PARLEY_HANDSHAKE_TIMEOUT", "2"},
                      {"PARLEY_IDLE_TIMEOUT", "0.5"},
                      {"PARLEY_SEND_TIMEOUT", "4"}};
  auto limits = load({"--max-connections", "60"}, {}, environment)
                  .config.limits;
  EXPECT_EQ(limits.max_connections, 60u); // the flag wins
  EXPECT_EQ(limits.max_connections_per_address, 0u);
  EXPECT_EQ(limits.max_header_bytes, 2048u);
  EXPECT_EQ(limits.max_body_bytes, 4096u);
  EXPECT_EQ(limits.max_queued_frames, 32u);
  EXPECT_EQ(limits.max_queued_bytes, 65536u);
  EXPECT_EQ(limits.session_rate, 0u);
  EXPECT_EQ(limits.session_burst, 3u);
  EXPECT_EQ(limits.address_rate, 120u);
  EXPECT_EQ(limits.address_burst, 7u);
  EXPECT_EQ(limits.max_pending_replies, 2u);
  EXPECT_EQ(limits.request_timeout, 1500ms);
  EXPECT_EQ(limits.handshake_timeout, 2s);
  EXPECT_EQ(limits.idle_timeout, 500ms);
  EXPECT_EQ(limits.send_timeout, 4s);
}

TEST(server_config, bad_limits_are_one_line_naming_the_option) {
  EXPECT_TRUE(contains(load_error({"--max-connections", "0"}),
                       "--max-connections"));
  EXPECT_TRUE(contains(load_error({}, {}, {{"PARLEY_MAX_HEADER_BYTES", "10"}}),
                       "PARLEY_MAX_HEADER_BYTES"));
  EXPECT_TRUE(contains(load_error({}, {}, {{"PARLEY_SESSION_BURST", "0"}}),
                       "PARLEY_SESSION_BURST"));
  EXPECT_TRUE(contains(load_error({}, {}, {{"PARLEY_IDLE_TIMEOUT", "0"}}),
                       "PARLEY_IDLE_TIMEOUT"));
  EXPECT_TRUE(contains(load_error({"--send-timeout", "soon"}),
                       "--send-timeout"));
  EXPECT_TRUE(contains(load_error({"--max-pending-replies", "-1"}),
                       "--max-pending-replies"));
}

TEST(server_config, help_lists_every_limit) {
  auto text = load({"--help"}).help_text;
  for (auto part :
       {"--max-connections", "PARLEY_MAX_CONNECTIONS_PER_ADDRESS",
        "PARLEY_MAX_HEADER_BYTES", "PARLEY_MAX_BODY_BYTES",
        "PARLEY_MAX_QUEUED_FRAMES", "PARLEY_MAX_QUEUED_BYTES",
        "PARLEY_SESSION_RATE", "PARLEY_SESSION_BURST", "PARLEY_ADDRESS_RATE",
        "PARLEY_ADDRESS_BURST", "PARLEY_MAX_PENDING_REPLIES",
        "PARLEY_REQUEST_TIMEOUT", "PARLEY_HANDSHAKE_TIMEOUT",
        "PARLEY_IDLE_TIMEOUT", "PARLEY_SEND_TIMEOUT"})
    EXPECT_TRUE(contains(text, part)) << "missing " << part;
}
