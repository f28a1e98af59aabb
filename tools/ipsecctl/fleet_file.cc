#include "tools/ipsecctl/fleet_file.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  Reader(FleetFile* file) : file_(file) {}

  absl::Status Error(const YAML::Node& at, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(file_->path, ":", at.Mark().line + 1, ": ", what));
  }

  void Remember(const std::string& path, const YAML::Node& at) {
    file_->lines[path] = at.Mark().line + 1;
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
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const std::string at = absl::StrCat(path, ".", key);
    Remember(at, kv.first);
    if (key == "name" || key == "description") {
      auto v = Scalar(kv.second, at);
      if (!v.ok()) return v.status();
      key == "name" ? node->set_name(*v) : node->set_description(*v);
    } else if (key == "addresses" || key == "sites") {
      auto v = List(kv.second, at);
      if (!v.ok()) return v.status();
      for (std::string& s : *v) key == "addresses" ? node->add_addresses(s) : node->add_sites(s);
    } else {
      return Error(kv.first, Unknown(path, key, kKeys));
    }
  }
  if (node->name().empty()) return Error(n, absl::StrCat(path, ": missing name"));
  return absl::OkStatus();
}

absl::Status Reader::ReadPolicy(const YAML::Node& n, const std::string& path,
                                v1::Policy* policy) {
  PolicyEdits edits;
  std::set<std::string> known;
  for (const OptionSpec& spec : PolicyOptionSpecs()) known.insert(spec.name + 2);
  bool has_between = false;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const std::string at = absl::StrCat(path, ".", key);
    Remember(at, kv.first);
    if (key == "name") {
      auto v = Scalar(kv.second, at);
      if (!v.ok()) return v.status();
      policy->set_name(*v);
      continue;
    }
    if (known.count(key) == 0) {
      return Error(kv.first, absl::StrCat(path, ": unknown key '", key.substr(0, 40),
                                          "' (known: name, ", absl::StrJoin(known, ", "), ")"));
    }
    Option option{absl::StrCat("--", key), {}};
    if (key == "between") {
      auto v = List(kv.second, at);
      if (!v.ok()) return v.status();
      if (v->size() != 2) return Error(kv.second, absl::StrCat(at, ": needs two endpoints"));
      option.values = *std::move(v);
      has_between = true;
    } else {
      auto v = Scalar(kv.second, at);
      if (!v.ok()) return v.status();
      option.values.push_back(*v);
    }
    // The option parser's error starts with "--key: "; the path says it.
    absl::Status s = ParsePolicyOption(option, &edits);
    if (!s.ok()) {
      std::string why(s.message());
      if (absl::StartsWith(why, option.name + ": ")) why.erase(0, option.name.size() + 2);
      return Error(kv.second, absl::StrCat(at, ": ", why));
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
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const std::string at = absl::StrCat(path, ".", key);
    Remember(at, kv.first);
    if (key == "between") {
      auto v = List(kv.second, at);
      if (!v.ok()) return v.status();
      if (v->size() != 2) return Error(kv.second, absl::StrCat(at, ": needs two node names"));
      assertion->set_a((*v)[0]);
      assertion->set_b((*v)[1]);
      continue;
    }
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      return Error(kv.first, Unknown(path, key, kKeys));
    }
    auto v = Scalar(kv.second, at);
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
      auto e = ParseEncryption(*v);
      s = e.status();
      if (e.ok()) assertion->set_encryption(*e);
    } else {
      auto m = ParseMode(*v);
      s = m.status();
      if (m.ok()) assertion->set_mode(*m);
    }
    if (!s.ok()) return Error(kv.second, absl::StrCat(at, ": ", s.message()));
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
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", e.mark.line + 1, ": YAML syntax: ", e.msg));
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":1: the file must be a map with nodes: and policies:"));
  }
  try {
    bool has_nodes = false, has_policies = false;
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& list = kv.second;
      if (key != "nodes" && key != "policies" && key != "assertions") {
        return reader.Error(kv.first, Unknown("file", key, {"nodes", "policies", "assertions"}));
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
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
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
  std::string key;
  for (char c : rest) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') break;
    key.push_back(c == '_' ? '-' : c);  // proto field name -> file key
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
    if (p.lifetime().soft_seconds() != 0) {
      kv("soft-lifetime", FormatDurationSeconds(p.lifetime().soft_seconds()));
    }
    if (p.lifetime().hard_bytes() != 0) kv("lifetime-bytes", absl::StrCat(p.lifetime().hard_bytes()));
    if (p.lifetime().soft_bytes() != 0) {
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
