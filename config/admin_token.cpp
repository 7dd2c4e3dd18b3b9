#include "config/admin_token.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_error.hpp"
#include "config/server_config.hpp"

namespace fs = std::filesystem;

namespace parley {

namespace {

// A token file is one line; anything much longer is not one.
constexpr std::size_t max_token_file_bytes = 4096;

[[noreturn]] void fail_with_errno(const fs::path& path, const char* what,
                                  int err) {
  throw config_error("admin token: " + path.string() + ": " + what + ": "
                     + std::strerror(err));
}

/// Closes a file descriptor when it goes out of scope.
class fd_guard {
public:
  explicit fd_guard(int fd) : fd_(fd) {
    // nop
  }

  ~fd_guard() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;

  int get() const noexcept {
    return fd_;
  }

  /// Closes now, reporting the error a late write-back may cause.
  int close() noexcept {
    auto rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

private:
  int fd_;
};

std::string generate_token() {
  std::array<unsigned char, 32> bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw config_error("admin token: the system random generator failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  for (auto b : bytes) {
    result += digits[b >> 4];
    result += digits[b & 0x0F];
  }
  return result;
}

bool valid_token(const std::string& token) {
  if (token.size() < min_admin_token_length)
    return false;
  for (unsigned char c : token)
    if (c <= 0x20 || c >= 0x7f)
      return false;
  return true;
}

/// The token stored in `file`; nothing when there is no such file.
std::optional<admin_token_source> read_token_file(const fs::path& file) {
  // O_NOFOLLOW: a symlink planted in the folder must not redirect us.
  fd_guard fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (fd.get() < 0) {
    if (errno == ENOENT)
      return std::nullopt;
    if (errno == ENOTDIR)
      throw config_error("admin token: " + file.parent_path().string()
                         + " (PARLEY_DATA_DIR) is not a folder");
    fail_with_errno(file, "cannot be opened", errno);
  }
  struct stat info{};
  if (::fstat(fd.get(), &info) != 0)
    fail_with_errno(file, "cannot be examined", errno);
  if (!S_ISREG(info.st_mode))
    throw config_error("admin token: " + file.string()
                       + " is not a regular file");
  std::string text;
  std::array<char, 512> chunk;
  while (text.size() <= max_token_file_bytes) {
    auto got = ::read(fd.get(), chunk.data(), chunk.size());
    if (got < 0) {
      if (errno == EINTR)
        continue;
      fail_with_errno(file, "cannot be read", errno);
    }
    if (got == 0)
      break;
    text.append(chunk.data(), static_cast<std::size_t>(got));
  }
  while (!text.empty()
         && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.size() > max_token_file_bytes || !valid_token(text))
    throw config_error("admin token: " + file.string()
                       + " does not hold a token of at least "
                       + std::to_string(min_admin_token_length)
                       + " visible characters; delete it to generate a new "
                         "one, or set PARLEY_ADMIN_TOKEN");
  admin_token_source result;
  result.token = std::move(text);
  result.file = file.string();
  result.too_open = (info.st_mode & 077) != 0;
  return result;
}

/// Writes `token` to a private temporary file and links it into place: the
/// token file appears complete or not at all, and an existing one (another
/// server starting at the same moment) is never replaced. False when the
/// file already existed.
bool publish_token(const fs::path& dir, const fs::path& file,
                   const std::string& token) {
  auto tmp = dir / (".admin_token." + std::to_string(::getpid()) + ".tmp");
  ::unlink(tmp.c_str()); // left over from a crash of a process with our pid
  // Created with mode 0600 (the umask can only take more away): the token
  // is never readable by others, not even for a moment.
  fd_guard fd{::open(tmp.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                     S_IRUSR | S_IWUSR)};
  if (fd.get() < 0)
    fail_with_errno(tmp, "cannot be created", errno);
  auto line = token + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    auto wrote = ::write(fd.get(), line.data() + done, line.size() - done);
    if (wrote < 0) {
      if (errno == EINTR)
        continue;
      auto err = errno;
      ::unlink(tmp.c_str());
      fail_with_errno(tmp, "cannot be written", err);
    }
    done += static_cast<std::size_t>(wrote);
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) {
    auto err = errno;
    ::unlink(tmp.c_str());
    fail_with_errno(tmp, "cannot be written", err);
  }
  auto linked = ::link(tmp.c_str(), file.c_str());
  auto err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (err == EEXIST)
      return false;
    fail_with_errno(file, "cannot be created", err);
  }
  // The new name must survive a crash as well as the content does.
  fd_guard dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir_fd.get() >= 0)
    ::fsync(dir_fd.get());
  return true;
}

void create_data_dir(const fs::path& dir) {
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (fs::is_directory(status))
    return;
  if (fs::exists(status))
    throw config_error("admin token: " + dir.string()
                       + " (PARLEY_DATA_DIR) is not a folder");
  if (auto parent = dir.parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec)
      throw config_error("admin token: cannot create " + parent.string()
                         + ": " + ec.message());
  }
  if (::mkdir(dir.c_str(), S_IRWXU) != 0 && errno != EEXIST)
    fail_with_errno(dir, "cannot be created", errno);
}

} // namespace

admin_token_source resolve_admin_token(const std::string& configured,
                                       const std::string& data_dir) {
  if (!configured.empty()) {
    admin_token_source result;
    result.token = configured;
    return result;
  }
  fs::path dir{data_dir};
  auto file = dir / admin_token_file_name;
  if (auto stored = read_token_file(file))
    return std::move(*stored);
  create_data_dir(dir);
  auto token = generate_token();
  if (!publish_token(dir, file, token)) {
    // Another server was quicker: use its token.
    if (auto stored = read_token_file(file))
      return std::move(*stored);
    throw config_error("admin token: " + file.string()
                       + " vanished while it was being created");
  }
  admin_token_source result;
  result.token = std::move(token);
  result.file = file.string();
  result.generated = true;
  return result;
}

} // namespace parley
