#include "controller/pki/identity.h"

#include <arpa/inet.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/address.h"
#include "controller/pki/csr.h"
#include "controller/pki/names.h"
#include "controller/pki/openssl_util.h"
#include "controller/pki/serial.h"

namespace ikeless::pki {
namespace {

absl::StatusOr<X509Ptr> ParseCertificate(absl::string_view text) {
  if (absl::StrContains(text, "-----BEGIN")) return CertificateFromPem(text, "certificate");
  if (text.empty()) return absl::InvalidArgumentError("certificate: empty");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(text.size())));
  if (cert == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "certificate: neither PEM nor a DER certificate");
  }
  if (p != end) {
    return absl::InvalidArgumentError("certificate: trailing bytes after the DER certificate");
  }
  return cert;
}

absl::string_view Asn1Text(const ASN1_STRING* s) {
  return absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string CommonName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  int i = subject != nullptr ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (i < 0) return std::string();
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    ClearOpenSslErrors();
    return std::string();
  }
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return cn;
}

absl::StatusOr<std::string> CanonicalIp(const ASN1_OCTET_STRING* ip) {
  absl::string_view bytes = Asn1Text(ip);
  char text[INET6_ADDRSTRLEN] = {0};
  int family = bytes.size() == 4 ? AF_INET : bytes.size() == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, bytes.data(), text, sizeof text) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("subjectAltName: IP entry of ", bytes.size(), " bytes (want 4 or 16)"));
  }
  return CanonicalAddress(text, "subjectAltName");
}

// Sets kind and name from an ikeless identity URI; ignores any other URI.
absl::Status ApplyUri(absl::string_view uri, PeerIdentity* id) {
  PeerKind kind;
  absl::string_view name = uri;
  if (absl::ConsumePrefix(&name, kNodeUriPrefix)) {
    kind = PeerKind::kNode;
  } else if (absl::ConsumePrefix(&name, kAdminUriPrefix)) {
    kind = PeerKind::kAdmin;
  } else {
    return absl::OkStatus();
  }
  if (id->kind != PeerKind::kUnknown) {
    return absl::InvalidArgumentError(
        "subjectAltName: more than one ikeless:// identity URI; a certificate names one identity");
  }
  absl::Status s = ValidateIdentityName(name, "subjectAltName URI name");
  if (!s.ok()) return s;
  id->kind = kind;
  id->name = std::string(name);
  return absl::OkStatus();
}

absl::Status ApplySubjectAltName(X509* cert, PeerIdentity* id) {
  int critical = -1;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, nullptr)));
  if (names == nullptr) {
    if (critical == -1) return absl::OkStatus();  // no SAN: nothing to report
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(critical == -2 ? "subjectAltName: the extension appears twice"
                                                     : "subjectAltName: malformed");
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(name, &type);
    absl::Status s;
    if (type == GEN_URI) {
      s = ApplyUri(Asn1Text(static_cast<const ASN1_STRING*>(value)), id);
    } else if (type == GEN_IPADD) {
      auto ip = CanonicalIp(static_cast<const ASN1_OCTET_STRING*>(value));
      if (ip.ok()) id->addresses.push_back(*std::move(ip));
      s = ip.status();
    } else if (type == GEN_DNS) {
      id->dns_names.emplace_back(Asn1Text(static_cast<const ASN1_STRING*>(value)));
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view PeerKindName(PeerKind kind) {
  switch (kind) {
    case PeerKind::kNode: return "node";
    case PeerKind::kAdmin: return "admin";
    case PeerKind::kUnknown: return "unknown";
  }
  return "unknown";
}

absl::StatusOr<PeerIdentity> ParsePeerIdentity(absl::string_view certificate) {
  auto cert = ParseCertificate(certificate);
  if (!cert.ok()) return cert.status();
  PeerIdentity id;
  auto serial = SerialHex(X509_get0_serialNumber(cert->get()));
  if (!serial.ok()) return serial.status();
  id.serial_hex = *std::move(serial);
  auto not_before = Asn1TimeToTime(X509_get0_notBefore(cert->get()), "notBefore");
  if (!not_before.ok()) return not_before.status();
  id.not_before = *not_before;
  auto not_after = Asn1TimeToTime(X509_get0_notAfter(cert->get()), "notAfter");
  if (!not_after.ok()) return not_after.status();
  id.not_after = *not_after;
  id.common_name = CommonName(cert->get());
  absl::Status s = ApplySubjectAltName(cert->get(), &id);
  if (!s.ok()) return s;
  return id;
}

absl::StatusOr<KeyAndCsr> GenerateKeyAndCsr(absl::string_view name) {
  absl::Status s = ValidateIdentityName(name, "name");
  if (!s.ok()) return s;
  auto key = GenerateEcP256Key();
  if (!key.ok()) return key.status();
  auto csr = MakeCsrPem(key->get(), name);
  if (!csr.ok()) return csr.status();
  auto pem = PrivateKeyToPem(key->get());
  if (!pem.ok()) return pem.status();
  KeyAndCsr out;
  out.private_key_pem = *std::move(pem);
  out.csr_pem = *std::move(csr);
  return out;
}

}  // namespace ikeless::pki
