#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/server_process.hpp"

namespace parley::test {

/// The mock LLM server (build/parley-mock-llm, tools/mock_llm/README.md) as
/// a child process on 127.0.0.1, ready once constructed: the constructor
/// waits for its `mock llm listening on HOST:PORT` line, and host() and
/// port() say where it listens. Everything else (log, kill, wait_exit, ...)
/// is server_process's; the destructor kills and reaps it.
class mock_llm_process : public server_process {
public:
  /// `args` are the mock's own flags (--protocol, --chunks, --tls-cert,
  /// ...); `--host 127.0.0.1 --port PORT` are added, PORT 0 picking a free
  /// one. Throws std::runtime_error, with the mock's output, when it does
  /// not listen within 10 s (a bad flag, a port in use).
  explicit mock_llm_process(std::vector<std::string> args,
                            std::uint16_t port = 0);

  /// parley-mock-llm, next to server_process::default_executable().
  static std::string executable_path();
};

} // namespace parley::test
