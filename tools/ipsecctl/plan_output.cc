#include "tools/ipsecctl/plan_output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/ipsecctl/table.h"

namespace ikeless::ipsecctl {
namespace {

int Count(const v1::IntentPlan& plan, v1::IntentChange::Kind kind, v1::IntentChange::Op op) {
  int n = 0;
  for (const auto& c : plan.changes()) n += c.kind() == kind && c.op() == op;
  return n;
}

std::string Counts(const v1::IntentPlan& plan, v1::IntentChange::Kind kind, bool done) {
  return absl::StrCat(Count(plan, kind, v1::IntentChange::ADD), done ? " added, " : " to add, ",
                      Count(plan, kind, v1::IntentChange::CHANGE),
                      done ? " changed, " : " to change, ",
                      Count(plan, kind, v1::IntentChange::REMOVE), done ? " removed" : " to remove");
}

// `path` as one shell word: the line is meant to be copied.
std::string ShellQuoted(const std::string& path) {
  if (path.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-+=:,") ==
      std::string::npos) {
    return path;
  }
  std::string out = "'";
  for (char c : SanitizeCell(path)) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string PlanText(const v1::IntentPlan& plan, const FleetFile& file, PlanMode mode) {
  const bool done = mode == PlanMode::kApply;
  std::string out;
  if (plan.changes().empty()) {
    absl::StrAppend(&out, "No changes: the live nodes and policies are what ", file.path,
                    " says (state ", plan.state(), ").\n");
  } else {
    absl::StrAppend(&out, done ? "Applied " : "Plan for ", file.path, " against live state ",
                    plan.state(), ":\n");
    absl::StrAppend(&out, "  nodes:    ", Counts(plan, v1::IntentChange::NODE, done), "\n");
    absl::StrAppend(&out, "  policies: ", Counts(plan, v1::IntentChange::POLICY, done), "\n");
    for (const auto& c : plan.changes()) {
      const char* sign = c.op() == v1::IntentChange::ADD      ? "+"
                         : c.op() == v1::IntentChange::CHANGE ? "~"
                                                              : "-";
      absl::StrAppend(&out, "  ", sign, " ", c.kind() == v1::IntentChange::NODE ? "node " : "policy ",
                      SanitizeCell(c.name()));
      if (!c.fields().empty()) absl::StrAppend(&out, " (", absl::StrJoin(c.fields(), ", "), ")");
      absl::StrAppend(&out, "\n");
    }
  }
  for (const std::string& name : plan.certificates_revoked()) {
    absl::StrAppend(&out, "  ", done ? "revoked" : "will revoke", " the certificates of node:",
                    SanitizeCell(name), "\n");
  }
  if (!plan.pairs().empty()) {
    int lose = 0, gain = 0;
    for (const auto& p : plan.pairs()) {
      lose += p.loses_protection();
      gain += p.gains_protection();
    }
    absl::StrAppend(&out, "Pairs of nodes: ", plan.pairs_size(), " change, ", lose,
                    " lose protection, ", gain, " gain it\n");
    for (const auto& p : plan.pairs()) {
      absl::StrAppend(&out, p.loses_protection() ? "  ! " : "    ", SanitizeCell(p.a()), " <-> ",
                      SanitizeCell(p.b()), ": ", SanitizeCell(p.before()), " -> ",
                      SanitizeCell(p.after()), "\n");
    }
  }
  int torn = 0, rekeyed = 0;
  for (const auto& a : plan.associations()) {
    torn += a.action() == v1::AssociationImpact::TEAR_DOWN;
    rekeyed += a.action() == v1::AssociationImpact::REKEY;
  }
  if (!plan.changes().empty() || !plan.associations().empty()) {
    absl::StrAppend(&out, "Live associations: ", torn, done ? " torn down, " : " to tear down, ",
                    rekeyed, done ? " rekeyed\n" : " to rekey\n");
  }
  for (const auto& a : plan.associations()) {
    absl::StrAppend(&out, "  ", a.action() == v1::AssociationImpact::TEAR_DOWN ? "tear down" : "rekey",
                    " ", a.id(), " ", SanitizeCell(a.a()), " <-> ", SanitizeCell(a.b()), ": ",
                    SanitizeCell(a.reason()), "\n");
  }
  if (!plan.assertions().empty()) {
    int failed = 0;
    for (const auto& r : plan.assertions()) failed += !r.ok();
    absl::StrAppend(&out, "Assertions: ", plan.assertions_size() - failed, " hold, ", failed,
                    " fail\n");
    for (const auto& r : plan.assertions()) {
      const std::string located = file.Locate(absl::StrCat("assertions[", r.index(), "]: "));
      absl::StrAppend(&out, r.ok() ? "  ok   " : "  FAIL ", located, SanitizeCell(r.detail()), "\n");
    }
  }
  for (const std::string& w : plan.warnings()) absl::StrAppend(&out, "WARNING: ", SanitizeCell(w), "\n");
  if (mode == PlanMode::kPlan && !plan.changes().empty()) {
    absl::StrAppend(&out, "To apply exactly this: ipsecctl apply -f ", ShellQuoted(file.path),
                    " --state ", plan.state(), "\n");
  }
  return out;
}

}  // namespace ikeless::ipsecctl
