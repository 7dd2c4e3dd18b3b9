#include "tests/support/test_databases.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include <soci/mysql/soci-mysql.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "config/dotenv.hpp"
#include "tests/support/temp_dir.hpp"

namespace parley::test {

namespace {

// The CTest fixture (tests/databases/CMakeLists.txt) sets this variable to
// the env file that tests/databases/start writes.
constexpr const char* env_file_variable = "PARLEY_TEST_DATABASES";

bool under_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr)
    return false;
  std::string value = ci;
  return value == "true" || value == "TRUE" || value == "1";
}

/// One server backend and the line of the env file with its admin URL.
struct server_backend {
  const char* name;     // as in test_backends()
  const char* title;    // for messages
  const char* variable; // in the env file
};

constexpr server_backend server_backends[] = {
  {"postgresql", "PostgreSQL", "PARLEY_TEST_POSTGRES_ADMIN_URL"},
  {"mariadb", "MariaDB", "PARLEY_TEST_MARIADB_ADMIN_URL"},
};

const server_backend* find_server_backend(const std::string& name) {
  for (auto& backend : server_backends)
    if (name == backend.name)
      return &backend;
  return nullptr;
}

/// The env file's variables, or why there are none; read once.
struct env_file {
  env_map vars;
  std::string problem; // empty: read
};

const env_file& load_env_file() {
  static const env_file result = [] {
    env_file env;
    const char* path = std::getenv(env_file_variable);
    if (path == nullptr || *path == '\0') {
      env.problem = std::string{env_file_variable}
                    + " is not set: the test does not run under CTest's "
                      "databases fixture (declare NEEDS_DATABASES in "
                      "parley_add_test), or, by hand, run "
                      "tests/databases/start DIR and export "
                    + env_file_variable + "=DIR/env";
      return env;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      env.problem = std::string{env_file_variable} + "=" + path
                    + " cannot be read: did the test databases_start "
                      "(tests/databases/start) run and succeed?";
      return env;
    }
    std::string text{std::istreambuf_iterator<char>{in},
                     std::istreambuf_iterator<char>{}};
    try {
      env.vars = parse_dotenv(text);
    } catch (const std::exception& err) {
      env.problem = std::string{path} + ": " + err.what();
    }
    return env;
  }();
  return result;
}

std::string connect_string(const database_url& url) {
  // Our own URLs: no whitespace, so always the key=value form.
  return url.soci_connect_string() + " connect_timeout=10";
}

std::unique_ptr<soci::session> open_admin(const database_url& url) {
  switch (url.backend) {
    case db_backend::postgresql:
      return std::make_unique<soci::session>(soci::postgresql,
                                             connect_string(url));
    case db_backend::mysql:
      return std::make_unique<soci::session>(soci::mysql, connect_string(url));
    case db_backend::sqlite:
      break;
  }
  throw std::invalid_argument("not a server URL: " + url.redacted());
}

/// What a server backend's admin URL is, or why it cannot be used.
struct server_status {
  std::string admin_url;
  std::string problem; // empty: reachable
};

/// Looks the server up in the env file and connects once per process.
server_status check_server(const server_backend& backend) {
  auto& env = load_env_file();
  if (!env.problem.empty())
    return {{}, env.problem};
  auto i = env.vars.find(backend.variable);
  if (i == env.vars.end() || i->second.empty())
    return {{},
            std::string{backend.title}
              + " is not in the env file: tests/databases/start found it "
                "not installed (tools/deps test installs it)"};
  database_url url;
  try {
    url = parse_database_url(i->second);
  } catch (const std::exception& err) {
    return {{}, std::string{backend.variable} + ": " + err.what()};
  }
  try {
    auto sql = open_admin(url);
    int one = 0;
    *sql << "SELECT 1", soci::into(one);
  } catch (const std::exception& err) {
    return {{}, std::string{"cannot reach the "} + backend.title
                  + " test server at " + url.redacted() + ": " + err.what()};
  }
  return {i->second, {}};
}

const server_status& server(const server_backend& backend) {
  static std::mutex mtx;
  static std::map<std::string, server_status> cache;
  std::lock_guard<std::mutex> guard{mtx};
  auto i = cache.find(backend.name);
  if (i == cache.end())
    i = cache.emplace(backend.name, check_server(backend)).first;
  return i->second;
}

/// A name no other scratch database has: the process id tells parallel test
/// processes apart, the counter the databases of one process, and the random
/// part a dead process's leftover from a new one with a recycled id.
std::string unique_name() {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = [] {
    std::random_device rd;
    return rd() & 0xffffffu;
  }();
  std::ostringstream out;
  out << "parley_t_" << ::getpid() << '_' << counter++ << '_' << std::hex
      << salt;
  return out.str();
}

/// `admin_url` (ours: no query part) with another database name.
std::string with_database(const std::string& admin_url,
                          const std::string& name) {
  auto slash = admin_url.rfind('/');
  if (slash == std::string::npos || slash < admin_url.find("://") + 3)
    throw std::invalid_argument("admin URL without a database name");
  return admin_url.substr(0, slash + 1) + name;
}

} // namespace

std::vector<std::string> test_backends() {
  std::vector<std::string> result{"sqlite"};
  std::string problems;
  for (auto& backend : server_backends) {
    auto& status = server(backend);
    if (status.problem.empty())
      result.emplace_back(backend.name);
    else
      problems += std::string{"\n  "} + backend.name + ": " + status.problem;
  }
  if (!problems.empty()) {
    if (under_ci())
      throw std::runtime_error("test database servers missing under CI:"
                               + problems);
    static std::once_flag noted;
    std::call_once(noted, [&] {
      std::cerr << "note: testing without some database servers (they are "
                   "only optional outside CI):"
                << problems << '\n';
    });
  }
  return result;
}

struct scratch_database::impl {
  std::string backend;
  std::string url_text;
  std::unique_ptr<temp_dir> dir; // sqlite
  database_url admin;            // server backends
  std::string name;              // server backends
};

scratch_database::scratch_database(const std::string& backend)
  : impl_(std::make_unique<impl>()) {
  impl_->backend = backend;
  if (backend == "sqlite") {
    impl_->dir = std::make_unique<temp_dir>("parley-scratch");
    // An absolute path gives four slashes: sqlite:////tmp/...
    impl_->url_text = "sqlite:///" + (impl_->dir->path() / "parley.db").string();
    return;
  }
  auto which = find_server_backend(backend);
  if (which == nullptr)
    throw std::invalid_argument("scratch_database: unknown backend '" + backend
                                + "' (sqlite, postgresql, mariadb)");
  auto& status = server(*which);
  if (!status.problem.empty())
    throw std::runtime_error("scratch_database(" + backend
                             + "): " + status.problem);
  impl_->admin = parse_database_url(status.admin_url);
  impl_->name = unique_name();
  try {
    auto sql = open_admin(impl_->admin);
    if (impl_->admin.backend == db_backend::mysql)
      *sql << "CREATE DATABASE " + impl_->name + " CHARACTER SET utf8mb4";
    else
      *sql << "CREATE DATABASE " + impl_->name;
  } catch (const std::exception& err) {
    throw std::runtime_error("scratch_database(" + backend + "): CREATE DATABASE "
                             + impl_->name + " on " + impl_->admin.redacted()
                             + ": " + err.what());
  }
  impl_->url_text = with_database(status.admin_url, impl_->name);
}

scratch_database::~scratch_database() {
  if (!impl_ || impl_->name.empty())
    return; // sqlite: temp_dir removes the file
  try {
    auto sql = open_admin(impl_->admin);
    if (impl_->admin.backend == db_backend::postgresql)
      // FORCE (PostgreSQL 13+): a connection the test leaked must not keep
      // the database alive.
      *sql << "DROP DATABASE IF EXISTS " + impl_->name + " WITH (FORCE)";
    else
      *sql << "DROP DATABASE IF EXISTS " + impl_->name;
  } catch (const std::exception& err) {
    // Harmless: the server and its folder go away at the end of the run.
    std::cerr << "warning: cannot drop scratch database " << impl_->name
              << ": " << err.what() << '\n';
  }
}

const std::string& scratch_database::backend() const noexcept {
  return impl_->backend;
}

const std::string& scratch_database::url_text() const noexcept {
  return impl_->url_text;
}

database_url scratch_database::url() const {
  return parse_database_url(impl_->url_text);
}

} // namespace parley::test
