#include "tests/support/private_postgres.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "config/dotenv.hpp"
#include "tests/support/server_process.hpp"

namespace parley::test {

namespace {

std::string script() {
#ifdef PARLEY_TEST_DATABASES_SCRIPTS
  return std::string{PARLEY_TEST_DATABASES_SCRIPTS} + "/pg-instance";
#else
  return "tests/databases/pg-instance";
#endif
}

// initdb and the first start take about a second; a loaded machine may need
// many times that.
constexpr std::chrono::seconds script_timeout{120};

} // namespace

private_postgres::private_postgres()
  : dir_("parley-pg"), instance_((dir_.path() / "instance").string()) {
  // nop
}

private_postgres::~private_postgres() {
  try {
    server_process proc{"/bin/bash", {script(), "destroy", instance_}};
    proc.wait_exit(std::chrono::seconds{60});
  } catch (...) {
    // Nothing to do: the folder is left for the next run to trip over at most.
  }
}

bool private_postgres::installed() {
  try {
    server_process proc{"/bin/bash", {script(), "available", "-"}};
    return proc.wait_exit(std::chrono::seconds{30}).is_exit(0);
  } catch (...) {
    return false;
  }
}

void private_postgres::run(const std::string& command) {
  server_process proc{"/bin/bash", {script(), command, instance_}};
  auto status = proc.wait_exit(script_timeout);
  if (!status.is_exit(0))
    throw std::runtime_error("tests/databases/pg-instance " + command + " "
                             + instance_ + ": " + status.to_string() + "\n"
                             + proc.log());
}

void private_postgres::start() {
  run("start");
  if (!url_text_.empty())
    return;
  std::ifstream in(instance_ + "/env", std::ios::binary);
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  auto vars = parse_dotenv(text);
  auto i = vars.find("PARLEY_TEST_PG_INSTANCE_URL");
  if (i == vars.end())
    throw std::runtime_error("pg-instance wrote no URL to " + instance_
                             + "/env");
  url_text_ = i->second;
}

void private_postgres::stop() {
  run("stop");
}

void private_postgres::kill() {
  run("kill");
}

database_url private_postgres::url() const {
  if (url_text_.empty())
    throw std::logic_error("private_postgres: url() before start()");
  return parse_database_url(url_text_);
}

std::string private_postgres::password() const {
  return url().password;
}

std::uint16_t private_postgres::port() const {
  return url().port;
}

} // namespace parley::test
