// The generated admin token: where it is kept, with which mode, and that a
// later start reuses it.

#include "config/admin_token.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "config/config_error.hpp"
#include "tests/support/temp_dir.hpp"

using namespace parley;
using parley::test::temp_dir;

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

unsigned mode_of(const fs::path& file) {
  struct stat info{};
  EXPECT_EQ(::lstat(file.c_str(), &info), 0) << file;
  return info.st_mode & 07777;
}

bool is_hex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// The config_error message of a call that must fail.
std::string error_of(const std::string& configured, const std::string& dir) {
  try {
    resolve_admin_token(configured, dir);
  } catch (const config_error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "resolve_admin_token did not throw";
  return {};
}

} // namespace

TEST(admin_token, a_configured_token_is_used_as_is_and_nothing_is_written) {
  temp_dir tmp;
  auto data = tmp / "data";
  auto source = resolve_admin_token("a-configured-token-1234", data.string());
  EXPECT_EQ(source.token, "a-configured-token-1234");
  EXPECT_TRUE(source.file.empty());
  EXPECT_FALSE(source.generated);
  EXPECT_FALSE(fs::exists(data));
}

TEST(admin_token, the_first_start_generates_a_private_file) {
  temp_dir tmp;
  auto data = tmp / "nested" / "data"; // created with its parents
  auto source = resolve_admin_token("", data.string());
  EXPECT_TRUE(source.generated);
  EXPECT_FALSE(source.too_open);
  EXPECT_EQ(source.token.size(), 64u);
  EXPECT_TRUE(is_hex(source.token)) << "32 random bytes in hex";
  auto file = data / admin_token_file_name;
  EXPECT_EQ(source.file, file.string());
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(mode_of(data), 0700u) << "a folder made for a secret is private";
  EXPECT_EQ(read_all(file), source.token + "\n");
  // Nothing else is left in the folder (no temporary file).
  EXPECT_EQ(std::distance(fs::directory_iterator{data},
                          fs::directory_iterator{}),
            1);
}

TEST(admin_token, later_starts_reuse_it) {
  temp_dir tmp;
  auto first = resolve_admin_token("", tmp.str());
  auto second = resolve_admin_token("", tmp.str());
  EXPECT_TRUE(first.generated);
  EXPECT_FALSE(second.generated);
  EXPECT_EQ(second.token, first.token);
  EXPECT_EQ(second.file, first.file);
  // Another folder, another token.
  temp_dir other;
  EXPECT_NE(resolve_admin_token("", other.str()).token, first.token);
}

TEST(admin_token, a_token_written_by_hand_is_read) {
  temp_dir tmp;
  tmp.write(admin_token_file_name, "my-own-token-of-some-length\r\n");
  fs::permissions(tmp / admin_token_file_name, fs::perms::owner_read
                                                 | fs::perms::owner_write);
  auto source = resolve_admin_token("", tmp.str());
  EXPECT_EQ(source.token, "my-own-token-of-some-length");
  EXPECT_FALSE(source.generated);
  EXPECT_FALSE(source.too_open);
}

TEST(admin_token, a_file_others_can_read_is_reported) {
  temp_dir tmp;
  tmp.write(admin_token_file_name, "my-own-token-of-some-length\n");
  fs::permissions(tmp / admin_token_file_name,
                  fs::perms::owner_read | fs::perms::owner_write
                    | fs::perms::group_read | fs::perms::others_read);
  EXPECT_TRUE(resolve_admin_token("", tmp.str()).too_open);
}

TEST(admin_token, a_bad_file_stops_the_start_without_showing_it) {
  temp_dir tmp;
  tmp.write(admin_token_file_name, "short-secret\n");
  auto what = error_of("", tmp.str());
  EXPECT_NE(what.find((tmp / admin_token_file_name).string()),
            std::string::npos)
    << what;
  EXPECT_EQ(what.find("short-secret"), std::string::npos) << what;
  tmp.write(admin_token_file_name, "");
  EXPECT_NE(error_of("", tmp.str()).find("delete it"), std::string::npos);
  tmp.write(admin_token_file_name, "a token with spaces in it\n");
  EXPECT_EQ(error_of("", tmp.str()).find("spaces in"), std::string::npos);
}

TEST(admin_token, what_is_not_a_file_or_folder_stops_the_start) {
  temp_dir tmp;
  fs::create_directories(tmp / "dir" / admin_token_file_name);
  EXPECT_NE(error_of("", (tmp / "dir").string()).find("not a regular file"),
            std::string::npos);
  tmp.write("plain", "x");
  EXPECT_NE(error_of("", (tmp / "plain").string()).find("not a folder"),
            std::string::npos);
  // A symlink in place of the file is not followed.
  fs::create_directories(tmp / "link");
  tmp.write("elsewhere", "a-token-somewhere-else-1234\n");
  fs::create_symlink(tmp / "elsewhere", tmp / "link" / admin_token_file_name);
  EXPECT_FALSE(error_of("", (tmp / "link").string()).empty());
}
