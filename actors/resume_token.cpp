#include "actors/resume_token.hpp"

#include <array>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace parley {

namespace {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    result += digits[bytes[i] >> 4];
    result += digits[bytes[i] & 0x0F];
  }
  return result;
}

} // namespace

std::string make_resume_token() {
  std::array<unsigned char, 32> bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("the system random generator failed");
  return to_hex(bytes.data(), bytes.size());
}

std::string hash_resume_token(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
  unsigned int size = 0;
  if (EVP_Digest(token.data(), token.size(), digest.data(), &size,
                 EVP_sha256(), nullptr)
      != 1)
    throw std::runtime_error("SHA-256 failed");
  return to_hex(digest.data(), size);
}

bool resume_token_matches(std::string_view token,
                          std::string_view expected_hash) {
  auto actual = hash_resume_token(token);
  return actual.size() == expected_hash.size()
         && CRYPTO_memcmp(actual.data(), expected_hash.data(), actual.size())
              == 0;
}

} // namespace parley
