#include "tools/ipsecctl/node_flags.h"

#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

using google::protobuf::util::MessageDifferencer;
using Strings = std::vector<std::string>;

absl::Status Parse(const std::string& name, Strings values, NodeEdits* edits) {
  return ParseNodeOption(Option{name, std::move(values)}, edits);
}

// Parses each {name, value} in order into one NodeEdits.
NodeEdits ParseOk(std::vector<std::pair<std::string, std::string>> options) {
  NodeEdits edits;
  for (auto& [name, value] : options) {
    absl::Status s = Parse(name, name == "--no-sites" ? Strings{} : Strings{value}, &edits);
    EXPECT_TRUE(s.ok()) << name << " " << value << ": " << s;
  }
  return edits;
}

Strings ListOf(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return Strings(field.begin(), field.end());
}

v1::Node StoredNode() {
  v1::Node n;
  n.set_name("gw-a");
  n.add_addresses("198.18.0.1");
  n.add_sites("198.18.10.0/24");
  n.add_sites("fd00:10::/64");
  n.set_description("edge");
  n.set_revision(3);
  return n;
}

std::vector<std::string> SpecNames(NodeOptionSet set) {
  std::vector<std::string> names;
  for (const OptionSpec& spec : NodeOptionSpecs(set)) names.push_back(spec.name);
  return names;
}

TEST(NodeFlags, EachCommandItsOptions) {
  EXPECT_TRUE(SpecNames(NodeOptionSet::kNone).empty());
  EXPECT_EQ(SpecNames(NodeOptionSet::kSites), Strings{"--site"});
  EXPECT_EQ(SpecNames(NodeOptionSet::kCreate),
            (Strings{"--address", "--site", "--description"}));
  EXPECT_EQ(SpecNames(NodeOptionSet::kUpdate),
            (Strings{"--address", "--site", "--add-site", "--remove-site", "--no-sites",
                     "--description"}));
}

TEST(NodeFlags, EverySpecIsParsed) {
  for (const OptionSpec& spec : NodeOptionSpecs(NodeOptionSet::kUpdate)) {
    Strings values;
    if (spec.values == 1) values = {"198.18.0.0/16"};
    if (std::string(spec.name) == "--address") values = {"198.18.0.1"};
    NodeEdits edits;
    absl::Status s = Parse(spec.name, values, &edits);
    EXPECT_TRUE(s.ok()) << spec.name << ": " << s;
    EXPECT_FALSE(edits.empty()) << spec.name;
  }
}

TEST(CanonicalSite, PrefixesAndHosts) {
  EXPECT_EQ(*CanonicalSite("198.18.10.0/24"), "198.18.10.0/24");
  EXPECT_EQ(*CanonicalSite("fd00:10:0:0::/64"), "fd00:10::/64");
  EXPECT_EQ(*CanonicalSite("0.0.0.0/0"), "0.0.0.0/0");
  // A single address is that host's prefix, as in the agent's config.
  EXPECT_EQ(*CanonicalSite("198.18.10.7"), "198.18.10.7/32");
  EXPECT_EQ(*CanonicalSite("fd00::7"), "fd00::7/128");
  EXPECT_EQ(*CanonicalSite("198.18.10.7/32"), "198.18.10.7/32");
  for (const char* bad : {"", "*", "any", "198.18.10.1/24", "198.18.10.0/33", "198.18.10.0/",
                          "198.18.10.0/+8", "fd00::/129", "lan", "198.18.10.0/24/8"}) {
    EXPECT_FALSE(CanonicalSite(bad).ok()) << bad;
  }
}

TEST(NodeFlags, ErrorsNameTheOption) {
  struct Bad {
    const char* name;
    const char* value;
    const char* error;
  };
  const Bad cases[] = {
      {"--address", "198.18.0.256", "--address: '198.18.0.256' is not an IPv4 or IPv6 address"},
      {"--address", "", "--address: empty address"},
      {"--site", "198.18.10.1/24",
       "--site: '198.18.10.1/24' has host bits set; did you mean the network address?"},
      {"--add-site", "fd00::/200", "--add-site: prefix length '200' must be 0..128"},
      {"--remove-site", "*",
       "--remove-site: '*' is not a prefix; name the network, e.g. 198.18.10.0/24"},
  };
  for (const Bad& c : cases) {
    NodeEdits edits;
    absl::Status s = Parse(c.name, {c.value}, &edits);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name << " " << c.value;
    EXPECT_EQ(s.message(), c.error);
    EXPECT_TRUE(edits.empty()) << "a failed option must not be recorded: " << c.name;
  }
}

TEST(NodeFlags, RepeatsAccumulateButNotTwiceTheSame) {
  NodeEdits e = ParseOk({{"--site", "198.18.10.0/24"}, {"--site", "fd00:10::/64"}});
  EXPECT_EQ(e.sites, (Strings{"198.18.10.0/24", "fd00:10::/64"}));
  // The same prefix spelled differently is still the same prefix.
  absl::Status twice = Parse("--site", {"fd00:10:0::/64"}, &e);
  EXPECT_EQ(twice.message(), "--site: fd00:10::/64 given twice");
}

TEST(CheckNodeEdits, CombinationsThatContradict) {
  EXPECT_TRUE(CheckNodeEdits(NodeEdits()).ok());
  EXPECT_TRUE(CheckNodeEdits(ParseOk({{"--no-sites", ""}, {"--address", "198.18.0.2"}})).ok());
  EXPECT_TRUE(CheckNodeEdits(ParseOk({{"--add-site", "198.18.11.0/24"},
                                      {"--remove-site", "198.18.10.0/24"}}))
                  .ok());
  EXPECT_EQ(CheckNodeEdits(ParseOk({{"--no-sites", ""}, {"--site", "198.18.11.0/24"}})).message(),
            "--no-sites: cannot be combined with --site, --add-site or --remove-site");
  EXPECT_EQ(
      CheckNodeEdits(ParseOk({{"--site", "198.18.11.0/24"}, {"--add-site", "198.18.12.0/24"}}))
          .message(),
      "--site: replaces the whole site list; cannot be combined with --add-site or "
      "--remove-site");
  EXPECT_EQ(CheckNodeEdits(ParseOk({{"--remove-site", "198.18.11.0/24"},
                                    {"--add-site", "198.18.11.0/24"}}))
                .message(),
            "--add-site: 198.18.11.0/24 is also given to --remove-site");
}

TEST(ApplyNodeEdits, NoEditsChangeNothing) {
  v1::Node n = StoredNode();
  ASSERT_TRUE(ApplyNodeEdits(NodeEdits(), &n).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(n, StoredNode()));
}

TEST(ApplyNodeEdits, GivenListsReplace) {
  v1::Node n = StoredNode();
  ASSERT_TRUE(ApplyNodeEdits(ParseOk({{"--address", "198.18.0.2"},
                                      {"--address", "fd00::2"},
                                      {"--site", "10.1.0.0/16"},
                                      {"--description", ""}}),
                             &n)
                  .ok());
  EXPECT_EQ(ListOf(n.addresses()), (Strings{"198.18.0.2", "fd00::2"}));
  EXPECT_EQ(ListOf(n.sites()), Strings{"10.1.0.0/16"});
  EXPECT_EQ(n.description(), "");
  EXPECT_EQ(n.revision(), 3u);

  v1::Node host = StoredNode();
  ASSERT_TRUE(ApplyNodeEdits(ParseOk({{"--no-sites", ""}}), &host).ok());
  EXPECT_EQ(host.sites_size(), 0);
  EXPECT_EQ(ListOf(host.addresses()), Strings{"198.18.0.1"});
}

TEST(ApplyNodeEdits, AddAndRemoveEditTheListRead) {
  v1::Node n = StoredNode();
  ASSERT_TRUE(ApplyNodeEdits(ParseOk({{"--remove-site", "198.18.10.0/24"},
                                      {"--add-site", "198.18.12.0/24"},
                                      {"--add-site", "fd00:10::/64"}}),  // has it: no-op
                             &n)
                  .ok());
  EXPECT_EQ(ListOf(n.sites()), (Strings{"fd00:10::/64", "198.18.12.0/24"}));
  EXPECT_EQ(n.description(), "edge");
}

TEST(ApplyNodeEdits, RemovingASiteTheNodeLacksNamesIt) {
  v1::Node n = StoredNode();
  absl::Status s = ApplyNodeEdits(
      ParseOk({{"--add-site", "198.18.12.0/24"}, {"--remove-site", "198.18.11.0/24"}}), &n);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "--remove-site: the node has no site 198.18.11.0/24 (its sites: 198.18.10.0/24, "
            "fd00:10::/64)");
  EXPECT_TRUE(MessageDifferencer::Equals(n, StoredNode()));

  v1::Node host = StoredNode();
  host.clear_sites();
  s = ApplyNodeEdits(ParseOk({{"--remove-site", "198.18.11.0/24"}}), &host);
  EXPECT_EQ(s.message(), "--remove-site: the node has no site 198.18.11.0/24 (its sites: none)");
}

TEST(ApplyNodeEdits, StoredSitesCompareCanonically) {
  // A site stored in another spelling still matches its canonical form.
  v1::Node n = StoredNode();
  n.set_sites(1, "fd00:10:0::/64");
  ASSERT_TRUE(ApplyNodeEdits(ParseOk({{"--remove-site", "fd00:10::/64"}}), &n).ok());
  EXPECT_EQ(ListOf(n.sites()), Strings{"198.18.10.0/24"});
}

}  // namespace
}  // namespace ikeless::ipsecctl
