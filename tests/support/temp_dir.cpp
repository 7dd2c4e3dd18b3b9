#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
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
  // Tests may have locked a subfolder; open everything up before removing.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec))
    std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

void temp_dir::write(const std::string& name, const std::string& text) const {
  std::ofstream out(path_ / name, std::ios::binary);
  out << text;
  if (!out)
    throw std::runtime_error("cannot write " + (path_ / name).string());
}

} // namespace parley::test
