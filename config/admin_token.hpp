#pragma once

#include <string>

namespace parley {

/// The file in the data folder that keeps a generated admin token.
inline constexpr const char* admin_token_file_name = "admin_token";

/// The admin token Parley runs with, and where it came from (for the
/// start-up log, which names the file but never shows the token).
struct admin_token_source {
  std::string token;
  std::string file;        // empty when the token came from the settings
  bool generated = false;  // written by this start
  bool too_open = false;   // the file is readable by group or others
};

/// `configured` when it is set (server_config validated it); otherwise the
/// token in `data_dir`/admin_token, which the first start generates (32
/// bytes from OpenSSL's CSPRNG, hex) and creates with mode 0600, creating
/// the folder (mode 0700) when it is missing. Two servers starting at once
/// end up with the same token. Throws config_error, one line without the
/// token, when the folder or file cannot be used or holds no valid token.
admin_token_source resolve_admin_token(const std::string& configured,
                                       const std::string& data_dir);

} // namespace parley
