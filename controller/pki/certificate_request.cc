#include "controller/pki/certificate_request.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "controller/pki/names.h"

namespace ikeless::pki {
namespace {

absl::Status CheckCount(size_t n, absl::string_view field) {
  if (n > kMaxSanEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxSanEntries, " entries (got ", n, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IpAddress>> ParseAddresses(const std::vector<std::string>& texts) {
  absl::Status s = CheckCount(texts.size(), "addresses");
  if (!s.ok()) return s;
  std::vector<IpAddress> out;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string field = absl::StrCat("addresses[", i, "]");
    auto a = IpAddress::Parse(texts[i]);
    if (!a.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", a.status().message()));
    }
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j] == *a) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": ", a->ToString(), " is already addresses[", j, "]"));
      }
    }
    out.push_back(*a);
  }
  return out;
}

absl::Status CheckDnsNames(const std::vector<std::string>& names) {
  absl::Status s = CheckCount(names.size(), "dns_names");
  if (!s.ok()) return s;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string field = absl::StrCat("dns_names[", i, "]");
    s = ValidateDnsName(names[i], field);
    if (!s.ok()) return s;
    for (size_t j = 0; j < i; ++j) {
      if (absl::EqualsIgnoreCase(names[j], names[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": ", names[i], " is already dns_names[", j, "]"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view CertificateKindName(CertificateKind kind) {
  switch (kind) {
    case CertificateKind::kNode: return "node";
    case CertificateKind::kAdmin: return "admin";
    case CertificateKind::kServer: return "server";
  }
  return "unknown";
}

absl::Duration RequestedValidity(const CertificateRequest& request) {
  if (request.validity.has_value()) return *request.validity;
  return request.kind == CertificateKind::kServer ? kDefaultServerValidity : kDefaultClientValidity;
}

absl::StatusOr<CertificateSpec> SpecForRequest(const CertificateRequest& request) {
  absl::Status s = ValidateIdentityName(request.name, "name");
  if (!s.ok()) return s;
  auto addresses = ParseAddresses(request.addresses);
  if (!addresses.ok()) return addresses.status();
  s = CheckDnsNames(request.dns_names);
  if (!s.ok()) return s;

  CertificateSpec spec;
  spec.common_name = request.name;
  spec.ip_addresses = *std::move(addresses);
  absl::string_view kind = CertificateKindName(request.kind);
  if (request.kind != CertificateKind::kServer && !request.dns_names.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dns_names: only server certificates carry DNS names (this is a ", kind, " certificate)"));
  }
  switch (request.kind) {
    case CertificateKind::kNode:
      if (spec.ip_addresses.empty()) {
        return absl::InvalidArgumentError(
            "addresses: a node certificate needs at least one address of the node");
      }
      spec.use = CertificateUse::kClient;
      spec.uris = {absl::StrCat(kNodeUriPrefix, request.name)};
      break;
    case CertificateKind::kAdmin:
      if (!spec.ip_addresses.empty()) {
        return absl::InvalidArgumentError("addresses: admin certificates carry no addresses");
      }
      spec.use = CertificateUse::kClient;
      spec.uris = {absl::StrCat(kAdminUriPrefix, request.name)};
      break;
    case CertificateKind::kServer:
      spec.use = CertificateUse::kServer;
      spec.dns_names = request.dns_names;
      if (spec.dns_names.empty() && spec.ip_addresses.empty()) {
        spec.dns_names = {"localhost"};
        spec.ip_addresses = {*IpAddress::Parse("127.0.0.1"), *IpAddress::Parse("::1")};
      }
      break;
  }
  return spec;
}

}  // namespace ikeless::pki
