#include <csignal>
#include <cstdlib>
#include <iostream>

#include <malloc.h>
#include <openssl/crypto.h>

#include "app/server.hpp"
#include "config/config_error.hpp"
#include "config/logging.hpp"
#include "config/server_config.hpp"
#include "config/usable_cpus.hpp"

int main(int argc, char** argv) {
  using namespace parley;
  // A write past RLIMIT_FSIZE must fail with EFBIG (a storage error the
  // client is told about), not kill the server with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  // No OpenSSL cleanup at exit: threads that libpq and CAF started may
  // still be ending, and their thread-local OpenSSL state would be freed
  // twice (once by the exit handler, once by the thread: ASan saw it).
  // The process is ending anyway; the system takes the memory back.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  // glibc gives every thread that allocates an arena of its own, up to
  // eight per core, and each keeps its own free space; a socket is built
  // on one thread and its session actor on another. One arena per usable
  // CPU: 3,000 idle sessions cost 9.6 -> 8.9 KiB each, at the same chat
  // throughput (docs/performance.md). MALLOC_ARENA_MAX, if set, decides.
  if (!std::getenv("MALLOC_ARENA_MAX"))
    mallopt(M_ARENA_MAX, static_cast<int>(usable_cpus()));
  try {
    auto loaded = load_server_config(argc, argv, read_dotenv_file("."),
                                     process_environment());
    if (loaded.help) {
      std::cout << loaded.help_text;
      return 0;
    }
    setup_logging(loaded.config.log_level, loaded.config.log_fmt);
    return run_server(loaded.config);
  } catch (const config_error& err) {
    // Bad configuration: one clear line, no half-started server.
    std::cerr << "parley: " << err.what() << std::endl;
    return 2;
  }
}
