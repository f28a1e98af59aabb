#include "tools/ipsecctl/fleet_file.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/lifetime_rules.h"
#include "tools/ipsecctl/duration.h"
#include "tools/ipsecctl/names.h"
#include "tools/ipsecctl/policy_flags.h"
#include "tools/ipsecctl/selector.h"
#include "yaml-cpp/yaml.h"

namespace ikeless::ipsecctl {
namespace {

// Where parsing is: the file, for "PATH:LINE: ..." errors.
class Reader {
 public:
  explicit Reader(FleetFile* file) : file_(file) {}

  // 1-based; a node without a position (made, not read) counts as line 1.
  static int Line(const YAML::Node& at) { return std::max(1, at.Mark().line + 1); }

  absl::Status Error(const YAML::Node& at, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(file_->path, ":", Line(at), ": ", what));
  }

  void Remember(const std::string& path, const YAML::Node& at) { file_->lines[path] = Line(at); }

  // One key of a map, with its value.
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  // The entries of the map at `path`, each key remembered as "path.key".
  // Keys must be plain names, each once: YAML parsers merge or override
  // repeated keys silently, which would apply something nobody reviewed.
  absl::StatusOr<std::vector<Entry>> Entries(const YAML::Node& map, const std::string& path) {
    std::vector<Entry> out;
    std::set<std::string> seen;
    const std::string where = path.empty() ? "file" : path;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty()) {
        return Error(kv.first, absl::StrCat(where, ": keys must be plain names"));
      }
      const std::string key = kv.first.Scalar();
      if (!seen.insert(key).second) {
        return Error(kv.first, absl::StrCat(where, ": key '", key.substr(0, 40), "' given twice"));
      }
      Remember(path.empty() ? key : absl::StrCat(path, ".", key), kv.first);
      out.push_back({key, kv.first, kv.second});
    }
    return out;
  }

  // A scalar as text, or an error naming `path`.
  absl::StatusOr<std::string> Scalar(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar()) return Error(n, absl::StrCat(path, ": must be a single value"));
    return n.Scalar();
  }

  // A list of scalars (a single scalar counts as a list of one).
  absl::StatusOr<std::vector<std::string>> List(const YAML::Node& n,
                                                const std::string& path) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) return Error(n, absl::StrCat(path, ": must be a list"));
    for (const YAML::Node& item : n) {
      auto s = Scalar(item, path);
      if (!s.ok()) return s.status();
      out.push_back(*s);
    }
    return out;
  }

  absl::Status ReadNode(const YAML::Node& n, const std::string& path, v1::Node* node);
  absl::Status ReadPolicy(const YAML::Node& n, const std::string& path, v1::Policy* policy);
  absl::Status ReadAssertion(const YAML::Node& n, const std::string& path,
                             v1::IntentAssertion* assertion);

 private:
  FleetFile* file_;
};

// "unknown key 'x' (known: a, b)".
std::string Unknown(const std::string& path, const std::string& key,
                    std::initializer_list<const char*> known) {
  return absl::StrCat(path, ": unknown key '", key.substr(0, 40),
                      "' (known: ", absl::StrJoin(known, ", "), ")");
}

absl::Status Reader::ReadNode(const YAML::Node& n, const std::string& path, v1::Node* node) {
  static constexpr std::initializer_list<const char*> kKeys = {"name", "addresses", "sites",
                                                               "description"};
  auto entries = Entries(n, path);
  if (!entries.ok()) return entries.status();
  for (const Entry& e : *entries) {
    const std::string at = absl::StrCat(path, ".", e.key);
    if (e.key == "name" || e.key == "description") {
      auto v = Scalar(e.value, at);
      if (!v.ok()) return v.status();
      e.key == "name" ? node->set_name(*v) : node->set_description(*v);
    } else if (e.key == "addresses" || e.key == "sites") {
      auto v = List(e.value, at);
      if (!v.ok()) return v.status();
      for (std::string& s : *v) e.key == "addresses" ? node->add_addresses(s) : node->add_sites(s);
    } else {
      return Error(e.key_node, Unknown(path, e.key, kKeys));
    }
  }
  if (node->name().empty()) return Error(n, absl::StrCat(path, ": missing name"));
  return absl::OkStatus();
}

absl::Status Reader::ReadPolicy(const YAML::Node& n, const std::string& path,
                                v1::Policy* policy) {
  PolicyEdits edits;
  static const std::set<std::string> known = [] {
    std::set<std::string> keys;
    for (const OptionSpec& spec : PolicyOptionSpecs()) keys.insert(spec.name + 2);
    return keys;
  }();
  bool has_between = false;
  auto entries = Entries(n, path);
  if (!entries.ok()) return entries.status();
  for (const Entry& e : *entries) {
    const std::string& key = e.key;
    const std::string at = absl::StrCat(path, ".", key);
    if (key == "name") {
      auto v = Scalar(e.value, at);
      if (!v.ok()) return v.status();
      policy->set_name(*v);
      continue;
    }
    if (known.count(key) == 0) {
      return Error(e.key_node, absl::StrCat(path, ": unknown key '", key.substr(0, 40),
                                            "' (known: name, ", absl::StrJoin(known, ", "), ")"));
    }
    Option option{absl::StrCat("--", key), {}};
    if (key == "between") {
      auto v = List(e.value, at);
      if (!v.ok()) return v.status();
      if (v->size() != 2) return Error(e.value, absl::StrCat(at, ": needs two endpoints"));
      option.values = *std::move(v);
      has_between = true;
    } else {
      auto v = Scalar(e.value, at);
      if (!v.ok()) return v.status();
      option.values.push_back(*v);
    }
    // The option parser's error starts with "--key: "; the path says it.
    absl::Status s = ParsePolicyOption(option, &edits);
    if (!s.ok()) {
      std::string why(s.message());
      if (absl::StartsWith(why, option.name + ": ")) why.erase(0, option.name.size() + 2);
      return Error(e.value, absl::StrCat(at, ": ", why));
    }
  }
  if (policy->name().empty()) return Error(n, absl::StrCat(path, ": missing name"));
  if (!has_between) return Error(n, absl::StrCat(path, ": missing between"));
  if (!edits.hard_seconds) edits.hard_seconds = kDefaultHardLifetimeSeconds;  // as policy add
  ApplyPolicyEdits(edits, policy);
  return absl::OkStatus();
}

absl::Status Reader::ReadAssertion(const YAML::Node& n, const std::string& path,
                                   v1::IntentAssertion* assertion) {
  static constexpr std::initializer_list<const char*> kKeys = {"between", "expect", "encryption",
                                                               "mode"};
  auto entries = Entries(n, path);
  if (!entries.ok()) return entries.status();
  for (const Entry& e : *entries) {
    const std::string& key = e.key;
    const std::string at = absl::StrCat(path, ".", key);
    if (key == "between") {
      auto v = List(e.value, at);
      if (!v.ok()) return v.status();
      if (v->size() != 2) return Error(e.value, absl::StrCat(at, ": needs two node names"));
      assertion->set_a((*v)[0]);
      assertion->set_b((*v)[1]);
      continue;
    }
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      return Error(e.key_node, Unknown(path, key, kKeys));
    }
    auto v = Scalar(e.value, at);
    if (!v.ok()) return v.status();
    absl::Status s;
    if (key == "expect") {
      if (*v == "protected") {
        assertion->set_expect(v1::IntentAssertion::EXPECT_PROTECTED);
      } else if (*v == "unreachable") {
        assertion->set_expect(v1::IntentAssertion::EXPECT_UNREACHABLE);
      } else {
        s = absl::InvalidArgumentError(
            absl::StrCat("'", v->substr(0, 32), "' is not one of: protected, unreachable"));
      }
    } else if (key == "encryption") {
      auto enc = ParseEncryption(*v);
      s = enc.status();
      if (enc.ok()) assertion->set_encryption(*enc);
    } else {
      auto m = ParseMode(*v);
      s = m.status();
      if (m.ok()) assertion->set_mode(*m);
    }
    if (!s.ok()) return Error(e.value, absl::StrCat(at, ": ", s.message()));
  }
  if (assertion->a().empty()) return Error(n, absl::StrCat(path, ": missing between"));
  if (assertion->expect() == v1::IntentAssertion::EXPECT_UNSPECIFIED) {
    return Error(n, absl::StrCat(path, ": missing expect (protected or unreachable)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FleetFile> ParseFleetFile(absl::string_view text, const std::string& path) {
  FleetFile file;
  file.path = path;
  Reader reader(&file);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", std::max(1, e.mark.line + 1),
                                                   ": YAML syntax: ", e.msg));
  }
  if (documents.size() > 1) {
    return reader.Error(documents[1], "one YAML document per file (found a second after ---)");
  }
  const YAML::Node root = documents.empty() ? YAML::Node() : documents[0];
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":1: the file must be a map with nodes: and policies:"));
  }
  try {
    auto sections = reader.Entries(root, "");
    if (!sections.ok()) return sections.status();
    bool has_nodes = false, has_policies = false;
    for (const auto& e : *sections) {
      const std::string& key = e.key;
      const YAML::Node& list = e.value;
      if (key != "nodes" && key != "policies" && key != "assertions") {
        return reader.Error(e.key_node, Unknown("file", key, {"nodes", "policies", "assertions"}));
      }
      // An empty section ("nodes:" with every item commented out) would
      // remove every node: only an explicit [] says that.
      if (list.IsNull() && key != "assertions") {
        return reader.Error(e.key_node, absl::StrCat(key, ": is empty; write '", key,
                                                     ": []' to remove every one"));
      }
      if (!list.IsNull() && !list.IsSequence()) {
        return reader.Error(list, absl::StrCat(key, ": must be a list ([] for none)"));
      }
      has_nodes |= key == "nodes";
      has_policies |= key == "policies";
      int i = 0;
      for (const YAML::Node& item : list) {
        const std::string at = absl::StrCat(key, "[", i++, "]");
        reader.Remember(at, item);
        if (!item.IsMap()) return reader.Error(item, absl::StrCat(at, ": must be a map"));
        absl::Status s = key == "nodes" ? reader.ReadNode(item, at, file.intent.add_nodes())
                         : key == "policies"
                             ? reader.ReadPolicy(item, at, file.intent.add_policies())
                             : reader.ReadAssertion(item, at, file.intent.add_assertions());
        if (!s.ok()) return s;
      }
    }
    for (const auto& [present, key] : {std::pair{has_nodes, "nodes"}, {has_policies, "policies"}}) {
      if (!present) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ":1: missing ", key, ": (the file is the whole intent; write '", key,
            ": []' to remove every one)"));
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", std::max(1, e.mark.line + 1), ": ", e.msg));
  }
  return file;
}

std::string FleetFile::Locate(absl::string_view message) const {
  // "nodes[2] (gw-c): sites: ..." or "assertions[0].b: ..." -> the line of
  // "nodes[2].sites" / "assertions[0].b" if known, else of the item.
  const size_t close = message.find(']');
  if (close == absl::string_view::npos) return std::string(message);
  const std::string item(message.substr(0, close + 1));
  auto found = lines.find(item);
  if (found == lines.end()) return std::string(message);
  int line = found->second;
  absl::string_view rest = message.substr(close + 1);
  if (!absl::ConsumePrefix(&rest, ".")) {
    const size_t colon = rest.find(": ");
    rest = colon == absl::string_view::npos ? absl::string_view() : rest.substr(colon + 2);
  }
  std::string token;  // "sites", "lifetime.soft_seconds", "encryption_key_bits"
  for (char c : rest) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') break;
    token.push_back(c);
  }
  // The controller names proto fields; the file has policy add's keys.
  static const std::map<std::string, std::string> kFileKey = {
      {"a", "between"},
      {"b", "between"},
      {"encryption_key_bits", "key-bits"},
      {"lifetime.hard_seconds", "lifetime"},
      {"lifetime.soft_seconds", "soft-lifetime"},
      {"lifetime.hard_bytes", "lifetime-bytes"},
      {"lifetime.soft_bytes", "soft-lifetime-bytes"},
      {"replay_window", "replay-window"},
      {"allow_legacy_algorithms", "allow-legacy"},
  };
  std::string key = token.substr(0, token.find('.'));
  if (auto mapped = kFileKey.find(token); mapped != kFileKey.end()) {
    key = mapped->second;
  } else if (auto first = kFileKey.find(key); first != kFileKey.end()) {
    key = first->second;
  }
  auto field = lines.find(absl::StrCat(item, ".", key));
  if (!key.empty() && field != lines.end()) line = field->second;
  return absl::StrCat(path, ":", line, ": ", message);
}

std::string WriteFleetFile(const std::vector<v1::Node>& nodes,
                           const std::vector<v1::Policy>& policies) {
  YAML::Emitter out;
  out << YAML::Comment(
      "ikeless fleet: every node and policy (ipsecctl export). `ipsecctl plan -f` shows what "
      "applying it would change; what is not listed here is removed by `ipsecctl apply -f`.");
  out << YAML::BeginMap;
  out << YAML::Key << "nodes" << YAML::Value << YAML::BeginSeq;
  for (const v1::Node& n : nodes) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << n.name();
    out << YAML::Key << "addresses" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& a : n.addresses()) out << a;
    out << YAML::EndSeq;
    out << YAML::Key << "sites" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& s : n.sites()) out << s;
    out << YAML::EndSeq;
    if (!n.description().empty()) out << YAML::Key << "description" << YAML::Value << n.description();
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "policies" << YAML::Value << YAML::BeginSeq;
  for (const v1::Policy& p : policies) {
    auto kv = [&out](const char* key, const std::string& value) {
      out << YAML::Key << key << YAML::Value << value;
    };
    out << YAML::BeginMap;
    kv("name", p.name());
    out << YAML::Key << "between" << YAML::Value << YAML::Flow << YAML::BeginSeq << p.a().address()
        << p.b().address() << YAML::EndSeq;
    kv("action", ActionName(p.action()));
    if (p.selector().protocol() != 0) kv("selector", FormatSelector(p.selector()));
    if (p.priority() != 0) kv("priority", absl::StrCat(p.priority()));
    if (p.protocol() != v1::IPSEC_PROTOCOL_UNSPECIFIED) kv("protocol", ProtocolName(p.protocol()));
    if (p.mode() != v1::MODE_UNSPECIFIED) kv("mode", ModeName(p.mode()));
    if (p.encryption() != v1::ENCRYPTION_UNSPECIFIED) kv("encryption", EncryptionName(p.encryption()));
    if (p.encryption_key_bits() != 0) kv("key-bits", absl::StrCat(p.encryption_key_bits()));
    if (p.integrity() != v1::INTEGRITY_UNSPECIFIED) kv("integrity", IntegrityName(p.integrity()));
    kv("lifetime", FormatDurationSeconds(p.lifetime().hard_seconds()));
    // A soft limit the controller derived (90 %) is left out, so that an
    // edited lifetime gets its own derived soft one, as `policy update` does.
    if (p.lifetime().soft_seconds() != 0 &&
        p.lifetime().soft_seconds() != DerivedSoftLimit(p.lifetime().hard_seconds())) {
      kv("soft-lifetime", FormatDurationSeconds(p.lifetime().soft_seconds()));
    }
    if (p.lifetime().hard_bytes() != 0) kv("lifetime-bytes", absl::StrCat(p.lifetime().hard_bytes()));
    if (p.lifetime().soft_bytes() != 0 &&
        p.lifetime().soft_bytes() != DerivedSoftLimit(p.lifetime().hard_bytes())) {
      kv("soft-lifetime-bytes", absl::StrCat(p.lifetime().soft_bytes()));
    }
    if (p.replay_window() != 0) kv("replay-window", absl::StrCat(p.replay_window()));
    if (p.allow_legacy_algorithms()) kv("allow-legacy", "true");
    if (!p.description().empty()) kv("description", p.description());
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace ikeless::ipsecctl
