#include "controller/intent_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/algorithms.h"
#include "controller/policy_enforcer.h"
#include "controller/spd_derivation.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"
#include "openssl/sha.h"

namespace ikeless::controller {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

// Fields the controller sets: a file never states them, so they never make
// a difference.
bool ServerSet(const FieldDescriptor* f) {
  return f->name() == "revision" || f->name() == "create_time_unix" ||
         f->name() == "update_time_unix" || f->name() == "status";
}

// The operator-set fields in which `a` and `b` differ, by proto name.
std::vector<std::string> ChangedFields(const Message& a, const Message& b) {
  std::vector<std::string> out;
  const google::protobuf::Descriptor* d = a.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (ServerSet(f)) continue;
    MessageDifferencer differ;
    if (!differ.CompareWithFields(a, b, {f}, {f})) out.push_back(f->name());
  }
  return out;
}

void Serialize(const Message& m, std::string* out) {
  google::protobuf::io::StringOutputStream stream(out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
}

template <typename T>
const T* FindByName(const std::vector<T>& items, const std::string& name) {
  for (const T& item : items) {
    if (item.name() == name) return &item;
  }
  return nullptr;
}

v1::IntentChange Change(v1::IntentChange::Kind kind, v1::IntentChange::Op op,
                        const std::string& name, std::vector<std::string> fields = {}) {
  v1::IntentChange c;
  c.set_kind(kind);
  c.set_op(op);
  c.set_name(name);
  for (std::string& f : fields) c.add_fields(std::move(f));
  return c;
}

// Records of one kind: puts for added and changed, deletes for the rest.
template <typename T>
void DiffRecords(const std::vector<T>& live, const std::vector<T>& desired,
                 v1::IntentChange::Kind kind, std::vector<T>* puts,
                 std::vector<std::string>* deletes, std::vector<v1::IntentChange>* changes) {
  for (const T& want : desired) {
    const T* have = FindByName(live, want.name());
    if (have == nullptr) {
      puts->push_back(want);
      changes->push_back(Change(kind, v1::IntentChange::ADD, want.name()));
      continue;
    }
    std::vector<std::string> fields = ChangedFields(*have, want);
    if (fields.empty()) continue;
    puts->push_back(want);
    changes->push_back(Change(kind, v1::IntentChange::CHANGE, want.name(), std::move(fields)));
  }
  for (const T& have : live) {
    if (FindByName(desired, have.name()) != nullptr) continue;
    deletes->push_back(have.name());
    changes->push_back(Change(kind, v1::IntentChange::REMOVE, have.name()));
  }
}

std::string ParamsOf(const v1::Policy& p) {
  const EncryptionInfo* e = FindEncryption(p.encryption());
  return absl::StrCat(e != nullptr ? e->name : "?", "/", p.encryption_key_bits(), " ",
                      p.mode() == v1::MODE_TRANSPORT ? "transport" : "tunnel");
}

}  // namespace

std::string IntentDigest(const IntentSnapshot& live) {
  std::string bytes;
  for (const v1::Node& n : live.nodes) {
    v1::Node copy = n;
    copy.clear_status();
    std::string one;
    Serialize(copy, &one);
    absl::StrAppend(&bytes, "n", one.size(), ":", one);
  }
  for (const v1::Policy& p : live.policies) {
    std::string one;
    Serialize(p, &one);
    absl::StrAppend(&bytes, "p", one.size(), ":", one);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  // 64 bits: a guard against concurrent edits, not against an adversary
  // (who would need admin rights, and could edit directly).
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

IntentDiff DiffIntent(const IntentSnapshot& live, const IntentSnapshot& desired) {
  IntentDiff diff;
  DiffRecords(live.nodes, desired.nodes, v1::IntentChange::NODE, &diff.write.put_nodes,
              &diff.write.delete_nodes, &diff.changes);
  DiffRecords(live.policies, desired.policies, v1::IntentChange::POLICY,
              &diff.write.put_policies, &diff.write.delete_policies, &diff.changes);
  diff.removed_nodes = diff.write.delete_nodes;
  // Addresses no node has any more: rows on them go (policy_enforcer.h).
  std::set<std::string> still;
  for (const v1::Node& n : desired.nodes) still.insert(n.addresses().begin(), n.addresses().end());
  for (const v1::Node& n : live.nodes) {
    for (const std::string& a : n.addresses()) {
      if (still.count(a) == 0) diff.gone_addresses.push_back(a);
    }
  }
  return diff;
}

std::string DescribeRules(const std::vector<v1::PushedRule>& rules,
                          const std::vector<v1::Policy>& policies) {
  // (action, policy) -> rule count, in a stable order.
  std::map<std::pair<int, std::string>, int> groups;
  for (const v1::PushedRule& r : rules) {
    const int action = r.action() == v1::POLICY_ACTION_UNSPECIFIED ? v1::POLICY_ACTION_PROTECT
                                                                    : r.action();
    ++groups[{action, r.policy()}];
  }
  std::vector<std::string> parts;
  for (const auto& [key, count] : groups) {
    const auto& [action, policy] = key;
    std::string what = action == v1::POLICY_ACTION_PROTECT  ? "protect"
                       : action == v1::POLICY_ACTION_BYPASS ? "bypass"
                                                            : "discard";
    if (policy.empty()) {
      absl::StrAppend(&what, " (fail closed)");
    } else {
      absl::StrAppend(&what, " ", policy);
      const v1::Policy* p = FindByName(policies, policy);
      if (p != nullptr && action == v1::POLICY_ACTION_PROTECT) {
        absl::StrAppend(&what, " (", ParamsOf(*p), ")");
      }
    }
    parts.push_back(absl::StrCat(what, " ", count, count == 1 ? " rule" : " rules"));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, "; ");
}

std::vector<v1::PairChange> PairChanges(const IntentSnapshot& live,
                                        const IntentSnapshot& desired) {
  std::vector<v1::PairChange> out;
  // Every pair of nodes in both (a pair with a new or removed node is the
  // node's change, shown as such). n^2/2 derivations: a plan is rare.
  for (size_t i = 0; i < desired.nodes.size(); ++i) {
    const v1::Node* live_i = FindByName(live.nodes, desired.nodes[i].name());
    if (live_i == nullptr) continue;
    for (size_t j = i + 1; j < desired.nodes.size(); ++j) {
      const v1::Node* live_j = FindByName(live.nodes, desired.nodes[j].name());
      if (live_j == nullptr) continue;
      std::vector<v1::PushedRule> before = RulesToward(*live_i, *live_j, live.policies);
      std::vector<v1::PushedRule> after =
          RulesToward(desired.nodes[i], desired.nodes[j], desired.policies);
      // By rule identity (traffic and action), not by counting: a site that
      // moves keeps the count but changes the rules.
      std::map<std::string, const v1::PushedRule*> had, has;
      for (const v1::PushedRule& r : before) had[r.key()] = &r;
      for (const v1::PushedRule& r : after) has[r.key()] = &r;
      bool changed = had.size() != has.size();
      bool loses = false, gains = false;
      auto protects = [](const v1::PushedRule& r) {
        return r.action() == v1::POLICY_ACTION_PROTECT ||
               r.action() == v1::POLICY_ACTION_UNSPECIFIED;
      };
      for (const auto& [key, rule] : had) {
        auto it = has.find(key);
        changed |= it == has.end() || !RulesEqual(*rule, *it->second);
        loses |= protects(*rule) && it == has.end();
      }
      for (const auto& [key, rule] : has) {
        changed |= had.count(key) == 0;
        gains |= protects(*rule) && had.count(key) == 0;
      }
      // Same rules, other SA parameters (cipher, lifetime): shown by the
      // policy's description.
      std::string b = DescribeRules(before, live.policies);
      std::string a = DescribeRules(after, desired.policies);
      if (!changed && a == b) continue;
      v1::PairChange& c = out.emplace_back();
      c.set_a(desired.nodes[i].name());
      c.set_b(desired.nodes[j].name());
      c.set_before(std::move(b));
      c.set_after(std::move(a));
      c.set_loses_protection(loses);
      c.set_gains_protection(gains);
    }
  }
  return out;
}

std::vector<v1::AssociationImpact> AssociationImpacts(
    const std::vector<storage::AssociationRow>& rows, const IntentSnapshot& desired,
    const std::vector<std::string>& gone_addresses) {
  const std::set<std::string> gone(gone_addresses.begin(), gone_addresses.end());
  std::vector<v1::AssociationImpact> out;
  for (const storage::AssociationRow& row : rows) {
    const RowVerdict v = JudgeRow(row, desired.policies, gone);
    if (v.action == RowVerdict::Action::kTearDown || v.action == RowVerdict::Action::kRekey) {
      out.push_back(ImpactOf(row, v));
    }
  }
  return out;
}

std::vector<v1::AssertionResult> CheckAssertions(
    const IntentSnapshot& desired,
    const google::protobuf::RepeatedPtrField<v1::IntentAssertion>& assertions) {
  std::vector<v1::AssertionResult> out;
  for (int i = 0; i < assertions.size(); ++i) {
    const v1::IntentAssertion& want = assertions[i];
    v1::AssertionResult& r = out.emplace_back();
    r.set_index(static_cast<uint32_t>(i));
    const v1::Node* a = FindByName(desired.nodes, want.a());
    const v1::Node* b = FindByName(desired.nodes, want.b());
    if (a == nullptr || b == nullptr) {
      r.set_detail("names a node the intent does not have");
      continue;
    }
    const std::vector<v1::PushedRule> rules = RulesToward(*a, *b, desired.policies);
    const std::string found = DescribeRules(rules, desired.policies);
    const bool protect = want.expect() == v1::IntentAssertion::EXPECT_PROTECTED;
    const v1::PolicyAction needed = protect ? v1::POLICY_ACTION_PROTECT : v1::POLICY_ACTION_DISCARD;
    std::string why;
    for (const v1::PushedRule& rule : rules) {
      const v1::PolicyAction action =
          rule.action() == v1::POLICY_ACTION_UNSPECIFIED ? v1::POLICY_ACTION_PROTECT : rule.action();
      if (action != needed) {
        why = absl::StrCat(rule.local(), " <-> ", rule.remote(), " is not ",
                           protect ? "protected" : "discarded");
        break;
      }
      if (!protect) continue;
      const v1::Policy* p = FindByName(desired.policies, rule.policy());
      if (p == nullptr) continue;
      if (want.encryption() != v1::ENCRYPTION_UNSPECIFIED && p->encryption() != want.encryption()) {
        const EncryptionInfo* e = FindEncryption(p->encryption());
        why = absl::StrCat(rule.local(), " <-> ", rule.remote(), " uses ",
                           e != nullptr ? e->name : "?", " (policy ", p->name(), ")");
        break;
      }
      if (want.mode() != v1::MODE_UNSPECIFIED && p->mode() != want.mode()) {
        why = absl::StrCat(rule.local(), " <-> ", rule.remote(), " is in ",
                           p->mode() == v1::MODE_TRANSPORT ? "transport" : "tunnel",
                           " mode (policy ", p->name(), ")");
        break;
      }
    }
    if (rules.empty()) why = "no rule governs their traffic";
    r.set_ok(why.empty());
    r.set_detail(why.empty() ? found : absl::StrCat(why, "; found: ", found));
  }
  return out;
}

}  // namespace ikeless::controller
