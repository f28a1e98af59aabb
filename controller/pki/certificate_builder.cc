#include "controller/pki/certificate_builder.h"

#include "absl/strings/str_cat.h"

namespace ikeless::pki {
namespace {

absl::Status Fail(absl::string_view what) {
  return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("certificate: ", what));
}

absl::Status SetSubject(X509* cert, const std::string& common_name) {
  X509_NAME* name = X509_get_subject_name(cert);  // owned by cert
  if (name == nullptr ||
      X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return Fail("cannot set the subject common name");
  }
  return absl::OkStatus();
}

absl::Status SetTime(ASN1_TIME* field, absl::Time t, absl::string_view what) {
  if (ASN1_TIME_set(field, absl::ToTimeT(t)) == nullptr) {
    return Fail(absl::StrCat("cannot set ", what));
  }
  return absl::OkStatus();
}

// Adds one extension written in OpenSSL's config syntax. `value` is always a
// constant from this file, never caller text.
absl::Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Fail(absl::StrCat("cannot add extension ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

// Appends one name of `type` whose value is `bytes` (an IA5String for URI
// and DNS, an OCTET STRING for IP addresses).
absl::Status PushName(GENERAL_NAMES* names, int type, const void* bytes, size_t len) {
  Asn1StringPtr value(type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new());
  if (value == nullptr || ASN1_STRING_set(value.get(), bytes, static_cast<int>(len)) != 1) {
    return Fail("cannot build a subjectAltName entry");
  }
  GeneralNamePtr name(GENERAL_NAME_new());
  if (name == nullptr) return Fail("cannot build a subjectAltName entry");
  GENERAL_NAME_set0_value(name.get(), type, value.release());
  if (sk_GENERAL_NAME_push(names, name.get()) == 0) {
    return Fail("cannot build a subjectAltName entry");
  }
  name.release();  // owned by `names` now
  return absl::OkStatus();
}

absl::Status AddSubjectAltName(X509* cert, const CertificateSpec& spec) {
  if (spec.uris.empty() && spec.dns_names.empty() && spec.ip_addresses.empty()) {
    return absl::OkStatus();
  }
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return Fail("cannot build subjectAltName");
  for (const std::string& uri : spec.uris) {
    absl::Status s = PushName(names.get(), GEN_URI, uri.data(), uri.size());
    if (!s.ok()) return s;
  }
  for (const std::string& dns : spec.dns_names) {
    absl::Status s = PushName(names.get(), GEN_DNS, dns.data(), dns.size());
    if (!s.ok()) return s;
  }
  for (const IpAddress& ip : spec.ip_addresses) {
    absl::Status s = PushName(names.get(), GEN_IPADD, ip.bytes().data(), ip.is_v4() ? 4 : 16);
    if (!s.ok()) return s;
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return Fail("cannot add subjectAltName");
  }
  return absl::OkStatus();
}

absl::Status AddExtensions(X509* cert, X509* issuer, const CertificateSpec& spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
  struct Conf {
    int nid;
    const char* value;
  };
  std::vector<Conf> conf;
  if (spec.use == CertificateUse::kCa) {
    conf = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
            {NID_key_usage, "critical,keyCertSign,cRLSign"},
            {NID_subject_key_identifier, "hash"}};
  } else {
    conf = {{NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage, "critical,digitalSignature"},
            {NID_ext_key_usage, spec.use == CertificateUse::kServer ? "serverAuth" : "clientAuth"},
            {NID_subject_key_identifier, "hash"},
            {NID_authority_key_identifier, "keyid:always"}};
  }
  for (const Conf& c : conf) {
    absl::Status s = AddConfExtension(cert, &ctx, c.nid, c.value);
    if (!s.ok()) return s;
  }
  return AddSubjectAltName(cert, spec);
}

}  // namespace

absl::StatusOr<X509Ptr> BuildCertificate(const CertificateSpec& spec, EVP_PKEY* subject_key,
                                         const ASN1_INTEGER* serial, X509* issuer,
                                         EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (cert == nullptr) return Fail("cannot allocate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return Fail("cannot set version");
  if (X509_set_serialNumber(cert.get(), const_cast<ASN1_INTEGER*>(serial)) != 1) {
    return Fail("cannot set serial");
  }
  absl::Status s = SetSubject(cert.get(), spec.common_name);
  if (!s.ok()) return s;
  X509_NAME* issuer_name =
      issuer != nullptr ? X509_get_subject_name(issuer) : X509_get_subject_name(cert.get());
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1) return Fail("cannot set issuer");
  s = SetTime(X509_getm_notBefore(cert.get()), spec.not_before, "notBefore");
  if (!s.ok()) return s;
  s = SetTime(X509_getm_notAfter(cert.get()), spec.not_after, "notAfter");
  if (!s.ok()) return s;
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return Fail("cannot set public key");
  s = AddExtensions(cert.get(), issuer, spec);
  if (!s.ok()) return s;
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return Fail("signing failed");
  return cert;
}

}  // namespace ikeless::pki
