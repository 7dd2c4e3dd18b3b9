// parley-reset-db: drops every Parley table of DATABASE_URL and recreates the
// schema (all migrations, settings seeded). Everything stored is lost, so it
// only acts with --yes; without it, it says what it would do and exits 2.
//
// The URL comes from --database-url, else the environment's DATABASE_URL,
// else DATABASE_URL in ./.env, else Parley's default
// (sqlite:///./data/parley.db): the same order and default as the server.

#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "config/config_error.hpp"
#include "config/database_url.hpp"
#include "config/server_config.hpp"
#include "storage/database.hpp"
#include "storage/storage_error.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_error = 1;
constexpr int exit_not_confirmed = 2;
constexpr int exit_usage = 64;

constexpr const char* usage_text
  = "Usage: parley-reset-db [--database-url URL] [--yes]\n"
    "\n"
    "Drops every Parley table of the database and recreates the schema\n"
    "(all migrations; the default settings seeded). ALL STORED DATA IS LOST.\n"
    "\n"
    "  --database-url URL  the database (default: $DATABASE_URL, else\n"
    "                      DATABASE_URL in ./.env, else\n"
    "                      sqlite:///./data/parley.db)\n"
    "  --yes               really do it; without it, only print what would\n"
    "                      happen and exit with status 2\n"
    "  --help              this text\n";

struct options {
  std::optional<std::string> database_url;
  bool yes = false;
  bool help = false;
};

options parse_args(int argc, char** argv) {
  options result;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    constexpr std::string_view url_flag = "--database-url";
    if (arg == "--yes" || arg == "-y") {
      result.yes = true;
    } else if (arg == "--help" || arg == "-h") {
      result.help = true;
    } else if (arg == url_flag) {
      if (i + 1 >= argc)
        throw parley::config_error("--database-url needs a value");
      result.database_url = argv[++i];
    } else if (arg.size() > url_flag.size()
               && arg.substr(0, url_flag.size() + 1) == "--database-url=") {
      result.database_url = std::string{arg.substr(url_flag.size() + 1)};
    } else {
      // Not echoed: it might be a URL with a password.
      throw parley::config_error("unknown argument #" + std::to_string(i)
                                 + " (see --help)");
    }
  }
  return result;
}

/// Flag, then environment, then .env, then the server's default. Empty
/// values count as unset, as for the server.
std::string pick_url(const options& opts) {
  if (opts.database_url)
    return *opts.database_url;
  auto env = parley::process_environment();
  if (auto i = env.find("DATABASE_URL"); i != env.end() && !i->second.empty())
    return i->second;
  auto dotenv = parley::read_dotenv_file(".");
  if (auto i = dotenv.find("DATABASE_URL");
      i != dotenv.end() && !i->second.empty())
    return i->second;
  return parley::default_database_url;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  parley::database_url url;
  try {
    opts = parse_args(argc, argv);
    if (opts.help) {
      std::cout << usage_text;
      return exit_ok;
    }
    url = parley::parse_database_url(pick_url(opts));
  } catch (const parley::config_error& err) {
    std::cerr << "parley-reset-db: " << err.what() << '\n';
    return exit_usage;
  }
  auto where = url.redacted();
  if (url.backend == parley::db_backend::sqlite && url.path != ":memory:"
      && std::filesystem::path{url.path}.is_relative()) {
    std::error_code ignored;
    where += " (in " + std::filesystem::current_path(ignored).string() + ")";
  }
  auto version = parley::storage::latest_schema_version();
  if (!opts.yes) {
    std::cout << "parley-reset-db would drop every Parley table of " << where
              << " and recreate the schema (version " << version
              << "): all stored data would be lost.\n"
              << "Run it again with --yes to do that.\n";
    return exit_not_confirmed;
  }
  try {
    parley::storage::database db{url};
    parley::storage::drop_schema(db);
    auto now = parley::storage::migrate(db);
    std::cout << "parley-reset-db: reset " << where << " to schema version "
              << now << '\n';
    return exit_ok;
  } catch (const parley::storage::storage_error& err) {
    // storage_error messages carry the redacted URL only.
    std::cerr << "parley-reset-db: " << err.what() << '\n';
    return exit_error;
  } catch (const std::exception& err) {
    std::cerr << "parley-reset-db: " << err.what() << '\n';
    return exit_error;
  }
}
