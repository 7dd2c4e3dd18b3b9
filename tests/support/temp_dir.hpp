#pragma once

#include <filesystem>
#include <string>

namespace parley::test {

/// A fresh, uniquely named folder under the system's temporary directory,
/// removed with everything in it when this object goes away. Tests that run
/// in parallel each get their own, so databases and logs never collide.
/// Setting PARLEY_TEST_KEEP_TEMP keeps the folder for a post-mortem.
class temp_dir {
public:
  explicit temp_dir(const std::string& prefix = "parley-test");
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept {
    return path_;
  }

  std::string str() const {
    return path_.string();
  }

  std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

  /// Creates (or replaces) the file `name` in the folder with `text`.
  void write(const std::string& name, const std::string& text) const;

private:
  std::filesystem::path path_;
};

} // namespace parley::test
