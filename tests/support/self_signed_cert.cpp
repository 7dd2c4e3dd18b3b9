#include "tests/support/self_signed_cert.hpp"

#include <array>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace parley::test {

namespace {

template <class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* ptr) const noexcept {
    Free(ptr);
  }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BIGNUM, BN_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION,
                                deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using names_ptr
  = std::unique_ptr<GENERAL_NAMES, deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using name_ptr
  = std::unique_ptr<GENERAL_NAME, deleter<GENERAL_NAME, GENERAL_NAME_free>>;

/// Throws with `what` and every reason OpenSSL queued (then clears them).
[[noreturn]] void fail(const std::string& what) {
  std::string reasons;
  while (auto code = ::ERR_get_error()) {
    std::array<char, 256> buf{};
    ::ERR_error_string_n(code, buf.data(), buf.size());
    reasons += reasons.empty() ? ": " : "; ";
    reasons += buf.data();
  }
  throw std::runtime_error("make_self_signed_cert: " + what + reasons);
}

void check(int ok, const char* what) {
  if (ok != 1)
    fail(what);
}

void add_extension(X509* cert, int nid, const char* value) {
  // The certificate is its own issuer: authorityKeyIdentifier refers to the
  // subjectKeyIdentifier added before it.
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ext_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)};
  if (!ext)
    fail(std::string{"extension "} + OBJ_nid2sn(nid) + "=" + value);
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

/// subjectAltName built entry by entry (not from a config string, whose
/// syntax a name with a comma would break).
void add_alt_names(X509* cert, const std::vector<std::string>& names) {
  names_ptr sans{sk_GENERAL_NAME_new_null()};
  if (!sans)
    fail("sk_GENERAL_NAME_new_null");
  for (const auto& name : names) {
    name_ptr entry{GENERAL_NAME_new()};
    if (!entry)
      fail("GENERAL_NAME_new");
    if (auto* ip = a2i_IPADDRESS(name.c_str())) {
      GENERAL_NAME_set0_value(entry.get(), GEN_IPADD, ip);
    } else {
      ::ERR_clear_error(); // not an IP literal: a DNS name
      auto* dns = ASN1_IA5STRING_new();
      if (dns == nullptr
          || ASN1_STRING_set(dns, name.data(), static_cast<int>(name.size()))
               != 1) {
        ASN1_IA5STRING_free(dns);
        fail("DNS name " + name);
      }
      GENERAL_NAME_set0_value(entry.get(), GEN_DNS, dns);
    }
    if (sk_GENERAL_NAME_push(sans.get(), entry.get()) == 0)
      fail("sk_GENERAL_NAME_push");
    entry.release(); // owned by sans now
  }
  check(X509_add1_ext_i2d(cert, NID_subject_alt_name, sans.get(), 0,
                          X509V3_ADD_DEFAULT),
        "subjectAltName");
}

std::string to_pem(const std::function<int(BIO*)>& write, const char* what) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio || write(bio.get()) != 1)
    fail(what);
  char* data = nullptr;
  auto size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void write_file(const std::filesystem::path& path, const std::string& text,
                std::filesystem::perms perms) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out)
      throw std::runtime_error("make_self_signed_cert: cannot write "
                               + path.string());
  }
  std::filesystem::permissions(path, perms,
                               std::filesystem::perm_options::replace);
}

} // namespace

self_signed_cert make_self_signed_cert(const std::filesystem::path& dir,
                                       const std::vector<std::string>& names,
                                       const std::string& stem,
                                       std::chrono::hours valid_for) {
  if (names.empty())
    throw std::invalid_argument("make_self_signed_cert: no names");
  ::ERR_clear_error();
  // P-256: generated in a millisecond (an RSA key takes far longer), and
  // accepted by every TLS stack.
  pkey_ptr key{EVP_EC_gen("P-256")};
  if (!key)
    fail("EVP_EC_gen(P-256)");
  x509_ptr cert{X509_new()};
  if (!cert)
    fail("X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");
  // A random serial: certificates made in turn for the same name must not
  // share issuer and serial (browsers refuse that).
  bn_ptr serial{BN_new()};
  if (!serial
      || BN_rand(serial.get(), 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1
      || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))
           == nullptr)
    fail("serial number");
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60) == nullptr
      || X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                         static_cast<long>(valid_for.count()) * 60 * 60)
           == nullptr)
    fail("validity");
  check(X509_set_pubkey(cert.get(), key.get()), "X509_set_pubkey");
  auto* subject = X509_get_subject_name(cert.get());
  const auto& cn = names.front();
  check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(
                                     "Parley tests"),
                                   -1, -1, 0),
        "subject O");
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(
                                     cn.c_str()),
                                   -1, -1, 0),
        "subject CN");
  check(X509_set_issuer_name(cert.get(), subject), "X509_set_issuer_name");
  // A leaf, not a CA: as its own trust anchor it needs no CA rights. The key
  // identifiers keep strict verifiers (Python's VERIFY_X509_STRICT) happy.
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), NID_authority_key_identifier, "keyid:always");
  add_alt_names(cert.get(), names);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    fail("X509_sign");

  self_signed_cert result;
  result.names = names;
  result.cert_pem = to_pem(
    [&cert](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); },
    "PEM_write_bio_X509");
  auto key_pem = to_pem(
    [&key](BIO* bio) {
      return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0,
                                      nullptr, nullptr);
    },
    "PEM_write_bio_PrivateKey");
  result.cert_file = dir / (stem + ".crt");
  result.key_file = dir / (stem + ".key");
  using std::filesystem::perms;
  write_file(result.cert_file, result.cert_pem,
             perms::owner_read | perms::owner_write | perms::group_read
               | perms::others_read);
  write_file(result.key_file, key_pem, perms::owner_read | perms::owner_write);
  return result;
}

} // namespace parley::test
