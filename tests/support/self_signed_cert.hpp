#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace parley::test {

/// A self-signed server certificate and its private key, made at test time
/// and written as PEM files, for TLS servers in tests (the mock LLM, Parley
/// itself). Trusting it means pointing the client at `cert_file` (for
/// OpenSSL-based clients, SSL_CERT_FILE): being self-signed, it is its own
/// trust anchor.
struct self_signed_cert {
  std::filesystem::path cert_file; // PEM certificate
  std::filesystem::path key_file;  // PEM private key, unencrypted, mode 0600
  std::string cert_pem;            // the contents of cert_file
  std::vector<std::string> names;  // as asked for
};

/// Makes a fresh P-256 key and a certificate for `names`: each is a
/// subjectAltName, an IP address for an IPv4/IPv6 literal and a DNS name
/// otherwise; the first is also the common name. The certificate is a
/// server and client certificate (not a CA), valid from an hour ago (clock
/// skew) for `valid_for`. Writes `<stem>.crt` and `<stem>.key` into `dir`.
/// Throws std::invalid_argument for no names and std::runtime_error (with
/// OpenSSL's reason) when OpenSSL or the file system fails.
self_signed_cert
make_self_signed_cert(const std::filesystem::path& dir,
                      const std::vector<std::string>& names
                      = {"localhost", "127.0.0.1"},
                      const std::string& stem = "server",
                      std::chrono::hours valid_for = std::chrono::hours{24});

} // namespace parley::test
