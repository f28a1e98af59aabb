#include "tools/ipsecctl/node_flags.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/address.h"

namespace ikeless::ipsecctl {
namespace {

constexpr OptionSpec kAddressSpec = {"--address", nullptr, 1, "ADDR"};
constexpr OptionSpec kSiteSpec = {"--site", nullptr, 1, "PREFIX"};
constexpr OptionSpec kAddSiteSpec = {"--add-site", nullptr, 1, "PREFIX"};
constexpr OptionSpec kRemoveSiteSpec = {"--remove-site", nullptr, 1, "PREFIX"};
constexpr OptionSpec kNoSitesSpec = {"--no-sites", nullptr, 0, ""};
constexpr OptionSpec kDescriptionSpec = {"--description", nullptr, 1, "TEXT"};

constexpr OptionSpec kSitesSpecs[] = {kSiteSpec};
constexpr OptionSpec kCreateSpecs[] = {kAddressSpec, kSiteSpec, kDescriptionSpec};
constexpr OptionSpec kUpdateSpecs[] = {kAddressSpec,    kSiteSpec,    kAddSiteSpec,
                                       kRemoveSiteSpec, kNoSitesSpec, kDescriptionSpec};

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Appends `value` to the list of option `name`, refusing a repeat: two
// equal --address or --site values are a typo more often than not.
absl::Status AddOnce(absl::string_view name, std::string value, std::vector<std::string>* list) {
  if (Contains(*list, value)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", value, " given twice"));
  }
  list->push_back(std::move(value));
  return absl::OkStatus();
}

// A stored site in the form CanonicalSite gives, so that "fd00:10:0::/64"
// from an older controller still matches --remove-site fd00:10::/64.
std::string Comparable(const std::string& stored) {
  auto site = CanonicalSite(stored);
  return site.ok() ? *site : stored;
}

}  // namespace

bool NodeEdits::empty() const {
  return addresses.empty() && sites.empty() && !no_sites && add_sites.empty() &&
         remove_sites.empty() && !description;
}

absl::Span<const OptionSpec> NodeOptionSpecs(NodeOptionSet set) {
  switch (set) {
    case NodeOptionSet::kNone: break;
    case NodeOptionSet::kSites: return kSitesSpecs;
    case NodeOptionSet::kCreate: return kCreateSpecs;
    case NodeOptionSet::kUpdate: return kUpdateSpecs;
  }
  return {};
}

absl::StatusOr<std::string> CanonicalSite(absl::string_view text) {
  auto match = AddressMatch::Parse(text);
  if (!match.ok()) return match.status();
  if (match->is_wildcard()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a prefix; name the network, e.g. 198.18.10.0/24"));
  }
  std::string site = match->ToString();
  if (site.find('/') == std::string::npos) {
    absl::StrAppend(&site, site.find(':') == std::string::npos ? "/32" : "/128");
  }
  return site;
}

absl::Status ParseNodeOption(const Option& option, NodeEdits* edits) {
  const std::string& name = option.name;
  if (name == kNoSitesSpec.name) {
    edits->no_sites = true;
    return absl::OkStatus();
  }
  const std::string& value = option.values.at(0);
  if (name == kDescriptionSpec.name) {
    edits->description = value;
    return absl::OkStatus();
  }
  if (name == kAddressSpec.name) {
    auto address = CanonicalAddress(value, name);  // "--address: 'x' is not ..."
    if (!address.ok()) return address.status();
    return AddOnce(name, *address, &edits->addresses);
  }
  std::vector<std::string>* list = name == kSiteSpec.name         ? &edits->sites
                                   : name == kAddSiteSpec.name    ? &edits->add_sites
                                   : name == kRemoveSiteSpec.name ? &edits->remove_sites
                                                                  : nullptr;
  if (list == nullptr) return absl::InvalidArgumentError(absl::StrCat(name, ": unknown option"));
  auto site = CanonicalSite(value);
  if (!site.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", site.status().message()));
  }
  return AddOnce(name, *site, list);
}

absl::Status CheckNodeEdits(const NodeEdits& edits) {
  bool edits_sites = !edits.add_sites.empty() || !edits.remove_sites.empty();
  if (edits.no_sites && (!edits.sites.empty() || edits_sites)) {
    return absl::InvalidArgumentError(
        "--no-sites: cannot be combined with --site, --add-site or --remove-site");
  }
  if (!edits.sites.empty() && edits_sites) {
    return absl::InvalidArgumentError(
        "--site: replaces the whole site list; cannot be combined with --add-site or "
        "--remove-site");
  }
  for (const std::string& site : edits.add_sites) {
    if (Contains(edits.remove_sites, site)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--add-site: ", site, " is also given to --remove-site"));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyNodeEdits(const NodeEdits& edits, v1::Node* node) {
  std::vector<std::string> sites;
  for (const std::string& stored : node->sites()) sites.push_back(Comparable(stored));
  if (edits.no_sites) sites.clear();
  if (!edits.sites.empty()) sites = edits.sites;
  for (const std::string& site : edits.remove_sites) {
    auto it = std::find(sites.begin(), sites.end(), site);
    if (it == sites.end()) {
      return absl::NotFoundError(absl::StrCat(
          "--remove-site: the node has no site ", site, " (its sites: ",
          sites.empty() ? "none" : absl::StrJoin(sites, ", "), ")"));
    }
    sites.erase(it);
  }
  for (const std::string& site : edits.add_sites) {
    if (!Contains(sites, site)) sites.push_back(site);
  }

  if (!edits.addresses.empty()) {
    node->clear_addresses();
    for (const std::string& address : edits.addresses) node->add_addresses(address);
  }
  bool site_edits = edits.no_sites || !edits.sites.empty() || !edits.add_sites.empty() ||
                    !edits.remove_sites.empty();
  if (site_edits) {
    node->clear_sites();
    for (const std::string& site : sites) node->add_sites(site);
  }
  if (edits.description) node->set_description(*edits.description);
  return absl::OkStatus();
}

}  // namespace ikeless::ipsecctl
