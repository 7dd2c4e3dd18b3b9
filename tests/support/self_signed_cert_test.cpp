// The self-signed certificate helper (self_signed_cert.hpp): what it writes
// loads into a TLS server context, carries the asked-for names, and is
// trusted by OpenSSL's verification once it is in the trust store.

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "tests/support/self_signed_cert.hpp"
#include "tests/support/temp_dir.hpp"

using namespace parley::test;
namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;

namespace {

struct x509_free {
  void operator()(X509* x) const noexcept {
    X509_free(x);
  }
};

using x509_ptr = std::unique_ptr<X509, x509_free>;

x509_ptr parse(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
    BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free};
  x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  if (!cert)
    throw std::runtime_error("not a PEM certificate");
  return cert;
}

/// The subjectAltName entries as "DNS:name" and "IP:a.b.c.d" (IPv4 only).
std::vector<std::string> alt_names(X509* cert) {
  std::vector<std::string> result;
  auto* sans = static_cast<GENERAL_NAMES*>(
    X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr)
    return result;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const auto* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type == GEN_DNS) {
      const auto* s = name->d.dNSName;
      result.push_back("DNS:"
                       + std::string(reinterpret_cast<const char*>(
                                       ASN1_STRING_get0_data(s)),
                                     static_cast<std::size_t>(
                                       ASN1_STRING_length(s))));
    } else if (name->type == GEN_IPADD
               && ASN1_STRING_length(name->d.iPAddress) == 4) {
      const auto* b = ASN1_STRING_get0_data(name->d.iPAddress);
      result.push_back("IP:" + std::to_string(b[0]) + "." + std::to_string(b[1])
                       + "." + std::to_string(b[2]) + "."
                       + std::to_string(b[3]));
    } else {
      result.push_back("other");
    }
  }
  GENERAL_NAMES_free(sans);
  return result;
}

/// X509_verify_cert with only `trusted` in the store, checking `host`:
/// X509_V_OK or the reason it failed.
int verify(X509* cert, X509* trusted, const std::string& host) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store{
    X509_STORE_new(), &X509_STORE_free};
  X509_STORE_add_cert(store.get(), trusted);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx{
    X509_STORE_CTX_new(), &X509_STORE_CTX_free};
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx.get()),
                              host.c_str(), host.size());
  if (X509_verify_cert(ctx.get()) == 1)
    return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

TEST(self_signed_cert, loads_into_a_tls_server_context) {
  temp_dir tmp{"parley-cert"};
  auto made = make_self_signed_cert(tmp.path());
  EXPECT_EQ(made.cert_file, tmp / "server.crt");
  EXPECT_EQ(made.key_file, tmp / "server.key");
  EXPECT_EQ((fs::status(made.key_file).permissions() & fs::perms::all),
            fs::perms::owner_read | fs::perms::owner_write)
    << "a private key readable by others";
  ssl::context ctx{ssl::context::tls_server};
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(made.cert_file.string(), ec);
  ASSERT_FALSE(ec) << ec.message();
  ctx.use_private_key_file(made.key_file.string(), ssl::context::pem, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(SSL_CTX_check_private_key(ctx.native_handle()), 1)
    << "the key does not belong to the certificate";
}

TEST(self_signed_cert, names_localhost_and_127_0_0_1_by_default) {
  temp_dir tmp{"parley-cert"};
  auto made = make_self_signed_cert(tmp.path());
  auto cert = parse(made.cert_pem);
  EXPECT_EQ(alt_names(cert.get()),
            (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1"}));
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "example.test", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ca(cert.get()), 0) << "a leaf, not a CA";
  EXPECT_EQ(X509_cmp_current_time(X509_get0_notBefore(cert.get())), -1);
  EXPECT_EQ(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 1);
}

TEST(self_signed_cert, is_trusted_as_its_own_anchor_for_its_names_only) {
  temp_dir tmp{"parley-cert"};
  auto made = make_self_signed_cert(tmp.path());
  auto cert = parse(made.cert_pem);
  EXPECT_EQ(verify(cert.get(), cert.get(), "localhost"), X509_V_OK);
  EXPECT_EQ(verify(cert.get(), cert.get(), "example.test"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  // Another certificate for the same name is no anchor for this one.
  auto other = make_self_signed_cert(tmp.path(), {"localhost"}, "other");
  auto other_cert = parse(other.cert_pem);
  EXPECT_NE(verify(cert.get(), other_cert.get(), "localhost"), X509_V_OK);
}

TEST(self_signed_cert, takes_any_names_and_file_stem) {
  temp_dir tmp{"parley-cert"};
  auto made = make_self_signed_cert(tmp.path(), {"example.test", "10.1.2.3"},
                                    "elsewhere");
  EXPECT_TRUE(fs::exists(tmp / "elsewhere.crt"));
  EXPECT_TRUE(fs::exists(tmp / "elsewhere.key"));
  auto cert = parse(made.cert_pem);
  EXPECT_EQ(alt_names(cert.get()),
            (std::vector<std::string>{"DNS:example.test", "IP:10.1.2.3"}));
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 0);
  EXPECT_EQ(verify(cert.get(), cert.get(), "example.test"), X509_V_OK);
  EXPECT_THROW(make_self_signed_cert(tmp.path(), {}), std::invalid_argument);
}

} // namespace
