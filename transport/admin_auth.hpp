#pragma once

#include <array>
#include <string_view>

#include "transport/rest_routes.hpp"

// Who may call the admin API: the holder of the admin token. Pure (no
// Beast, no CAF); http_session applies it before any actor is involved.
namespace parley::transport {

/// The admin token, kept only as its SHA-256 digest. Comparing digests of
/// fixed size in constant time tells an attacker neither how much of a
/// guess was right nor how long the token is.
class admin_credential {
public:
  /// A credential nothing matches (no token configured).
  admin_credential() = default;

  explicit admin_credential(std::string_view token);

  /// Whether `presented` is the token, in time independent of both.
  bool matches(std::string_view presented) const;

private:
  std::array<unsigned char, 32> digest_{};
  bool set_ = false;
};

enum class admin_auth {
  granted, // a public endpoint, or the right token
  missing, // no Authorization header, or an empty one
  invalid, // not "Bearer <token>", or the wrong token
};

/// Decides a request to `match` (matched or bad_id) from its Authorization
/// header (`authorization`, empty when absent): public endpoints need
/// nothing, the others "Bearer <admin token>" (scheme in any case).
admin_auth authorize(const rest_match& match, std::string_view authorization,
                     const admin_credential& credential);

/// The error message of a refusal, for the 401 body. Never shows what the
/// client sent.
const char* refusal_message(admin_auth result) noexcept;

/// The WWW-Authenticate header of a 401 (RFC 6750).
inline constexpr const char* admin_challenge = "Bearer realm=\"parley\"";

} // namespace parley::transport
