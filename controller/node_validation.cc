#include "controller/node_validation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "controller/pki/names.h"

namespace ikeless::controller {
namespace {

constexpr int kMaxAddresses = 64;
constexpr int kMaxSites = 256;
constexpr size_t kMaxDescription = 256;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

absl::Status NormalizeNode(v1::Node* node) {
  if (absl::Status s = pki::ValidateIdentityName(node->name(), "node.name"); !s.ok()) return s;
  if (node->addresses().empty()) return Invalid("node.addresses", "name at least one address");
  if (node->addresses_size() > kMaxAddresses) {
    return Invalid("node.addresses", absl::StrCat("at most ", kMaxAddresses));
  }
  for (int i = 0; i < node->addresses_size(); ++i) {
    const std::string field = absl::StrCat("node.addresses[", i, "]");
    auto a = CanonicalAddress(node->addresses(i), field);
    if (!a.ok()) return a.status();
    for (int j = 0; j < i; ++j) {
      if (node->addresses(j) == *a) return Invalid(field, absl::StrCat(*a, " is listed twice"));
    }
    node->set_addresses(i, *a);
  }
  if (node->sites_size() > kMaxSites) {
    return Invalid("node.sites", absl::StrCat("at most ", kMaxSites));
  }
  std::vector<AddressMatch> sites;
  for (int i = 0; i < node->sites_size(); ++i) {
    const std::string field = absl::StrCat("node.sites[", i, "]");
    auto m = AddressMatch::Parse(node->sites(i));
    if (!m.ok()) return Invalid(field, m.status().message());
    if (m->is_wildcard()) return Invalid(field, "name a prefix such as 198.18.10.0/24, not '*'");
    for (int j = 0; j < i; ++j) {
      if (sites[j].Overlaps(*m)) {
        return Invalid(field, absl::StrCat(m->ToCidr(), " overlaps ", sites[j].ToCidr()));
      }
    }
    node->set_sites(i, m->ToCidr());
    sites.push_back(*m);
  }
  if (node->description().size() > kMaxDescription) {
    return Invalid("node.description", absl::StrCat("at most ", kMaxDescription, " bytes"));
  }
  node->clear_revision();
  node->clear_create_time_unix();
  node->clear_update_time_unix();
  node->clear_status();
  return absl::OkStatus();
}

absl::Status CheckAgainstFleet(const v1::Node& node, const std::vector<v1::Node>& others) {
  for (const v1::Node& other : others) {
    if (other.name() == node.name()) continue;
    for (const std::string& a : node.addresses()) {
      if (std::find(other.addresses().begin(), other.addresses().end(), a) !=
          other.addresses().end()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "node.addresses: ", a, " belongs to node '", other.name(), "' already"));
      }
    }
    for (const std::string& s : node.sites()) {
      auto mine = AddressMatch::Parse(s);
      if (!mine.ok()) continue;  // normalised before; cannot happen
      for (const std::string& t : other.sites()) {
        auto theirs = AddressMatch::Parse(t);
        if (theirs.ok() && mine->Overlaps(*theirs)) {
          return absl::FailedPreconditionError(absl::StrCat("node.sites: ", s, " overlaps ", t,
                                                            " of node '", other.name(), "'"));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ikeless::controller
