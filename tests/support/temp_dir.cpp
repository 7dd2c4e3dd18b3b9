#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace parley::test {

temp_dir::temp_dir(const std::string& prefix) {
  // mkdtemp picks the name and creates the folder atomically: no races with
  // other test processes.
  auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX"))
                   .string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw std::runtime_error("mkdtemp(" + pattern
                             + ") failed: " + std::strerror(errno));
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  if (std::getenv("PARLEY_TEST_KEEP_TEMP") != nullptr)
    return;
  std::error_code ec; // a destructor must not throw; leftovers are harmless
  std::filesystem::remove_all(path_, ec);
}

} // namespace parley::test
