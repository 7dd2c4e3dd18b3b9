#include "transport/admin_auth.hpp"

#include <cctype>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace parley::transport {

namespace {

using digest = std::array<unsigned char, 32>;

digest sha256(std::string_view text) {
  digest result{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), result.data(), &size, EVP_sha256(),
                 nullptr)
        != 1
      || size != result.size())
    throw std::runtime_error("SHA-256 failed");
  return result;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

} // namespace

admin_credential::admin_credential(std::string_view token)
  : digest_(sha256(token)), set_(!token.empty()) {
  // nop
}

bool admin_credential::matches(std::string_view presented) const {
  // Hash first: the comparison then always covers 32 bytes, whatever the
  // lengths, and never exits early.
  auto other = sha256(presented);
  return CRYPTO_memcmp(digest_.data(), other.data(), digest_.size()) == 0
         && set_ && !presented.empty();
}

admin_auth authorize(const rest_match& match, std::string_view authorization,
                     const admin_credential& credential) {
  if (match.access == rest_access::anyone)
    return admin_auth::granted;
  while (!authorization.empty() && is_space(authorization.front()))
    authorization.remove_prefix(1);
  while (!authorization.empty() && is_space(authorization.back()))
    authorization.remove_suffix(1);
  if (authorization.empty())
    return admin_auth::missing;
  // credentials = auth-scheme 1*SP token68 (RFC 7235); the scheme is
  // case-insensitive.
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size()
      || !is_space(authorization[scheme.size()]))
    return admin_auth::invalid;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i]))
        != scheme[i])
      return admin_auth::invalid;
  auto token = authorization.substr(scheme.size());
  while (!token.empty() && is_space(token.front()))
    token.remove_prefix(1);
  return credential.matches(token) ? admin_auth::granted
                                   : admin_auth::invalid;
}

const char* refusal_message(admin_auth result) noexcept {
  switch (result) {
    case admin_auth::granted:
      return "";
    case admin_auth::missing:
      return "this endpoint needs the admin token (Authorization: Bearer "
             "<token>)";
    case admin_auth::invalid:
      break;
  }
  return "the admin token is wrong";
}

} // namespace parley::transport
