#include "tests/support/mock_llm_process.hpp"

#include <chrono>
#include <filesystem>
#include <regex>
#include <stdexcept>

namespace parley::test {

namespace {

std::vector<std::string> with_address(std::vector<std::string> args,
                                      std::uint16_t port) {
  args.insert(args.end(),
              {"--host", "127.0.0.1", "--port", std::to_string(port)});
  return args;
}

} // namespace

mock_llm_process::mock_llm_process(std::vector<std::string> args,
                                   std::uint16_t port)
  : server_process(executable_path(), with_address(std::move(args), port)) {
  // The whole line, as the mock's README promises it.
  static const std::regex pattern{
    R"(^mock llm listening on (\[[^\]]+\]|[^\s:\[\]]+):([0-9]+)$)"};
  if (!wait_for_address(pattern, std::chrono::seconds{10}))
    throw std::runtime_error("the mock LLM did not start listening on port "
                             + std::to_string(port) + ":\n" + log());
}

std::string mock_llm_process::executable_path() {
  auto parley = std::filesystem::path{server_process::default_executable()};
  return (parley.parent_path() / "parley-mock-llm").string();
}

} // namespace parley::test
