#pragma once

#include <string>
#include <string_view>

namespace parley {

/// A new resume token: 32 random bytes from OpenSSL's CSPRNG, hex-encoded.
std::string make_resume_token();

/// Hex SHA-256 of a token. Only the hash is stored, so a leaked database
/// does not let anyone resume a session.
std::string hash_resume_token(std::string_view token);

/// Whether `token` hashes to `expected_hash`, compared in constant time.
bool resume_token_matches(std::string_view token,
                          std::string_view expected_hash);

} // namespace parley
