#pragma once

#include <cstdint>
#include <string>

#include "config/database_url.hpp"
#include "tests/support/temp_dir.hpp"

namespace parley::test {

/// A PostgreSQL server of the test's own, for tests that stop, crash and
/// restart their database: the shared servers of the databases fixture must
/// never go down while other tests use them. Drives the script
/// tests/databases/pg-instance; every call waits until the script is done
/// and throws std::runtime_error with its output when it fails.
///
/// The server keeps its port and password across stop/start, so url() stays
/// valid; its data survives stop(), kill() and start(). The destructor stops
/// it and removes its files.
class private_postgres {
public:
  /// Nothing runs yet: call start().
  private_postgres();
  ~private_postgres();

  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;

  /// Whether PostgreSQL's server programs are installed at all.
  static bool installed();

  /// Creates the cluster on the first call (on a free loopback port) and
  /// starts it; returns once it accepts connections.
  void start();

  /// Fast shutdown: open connections are terminated, the data is kept.
  void stop();

  /// Immediate shutdown, as after a crash (recovery runs at the next start).
  void kill();

  /// The database `parley` (empty at first), as the superuser `parley`.
  /// Valid after the first start().
  const std::string& url_text() const noexcept {
    return url_text_;
  }

  database_url url() const;

  /// The password inside url_text(), e.g. to check it is never shown.
  std::string password() const;

  std::uint16_t port() const;

private:
  void run(const std::string& command);

  temp_dir dir_;          // holds the script's instance folder
  std::string instance_;  // dir_/instance
  std::string url_text_;
};

} // namespace parley::test
