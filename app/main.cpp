#include <iostream>

#include "app/server.hpp"
#include "config/config_error.hpp"
#include "config/logging.hpp"
#include "config/server_config.hpp"

int main(int argc, char** argv) {
  using namespace parley;
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
