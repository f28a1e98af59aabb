#include "tools/ipsecctl/output.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "tools/ipsecctl/duration.h"
#include "tools/ipsecctl/names.h"
#include "tools/ipsecctl/selector.h"
#include "tools/ipsecctl/table.h"

namespace ikeless::ipsecctl {
namespace {

// "aes-gcm-16/256", or just the name when the key size is the default.
std::string EncryptionCell(const v1::Policy& policy) {
  std::string name = EncryptionName(policy.encryption());
  if (policy.encryption_key_bits() == 0) return name;
  return absl::StrCat(name, "/", policy.encryption_key_bits());
}

// Seconds; 0 means the controller's default, shown as "-".
std::string SecondsCell(uint64_t seconds) {
  return seconds == 0 ? "-" : FormatDurationSeconds(seconds);
}

// A byte or packet limit; 0 means none.
std::string LimitCell(uint64_t limit) { return limit == 0 ? "unlimited" : absl::StrCat(limit); }

std::string NumberOrDefault(uint64_t n) { return n == 0 ? "-" : absl::StrCat(n); }

// "198.18.0.1 id=1001 spi=0x000013ec (5100)"; id and SPI are "-" while
// that side has not asked yet (FIG. 4: half-open row).
std::string SideCell(const v1::AssociationSide& side) {
  return absl::StrCat(side.address().empty() ? "-" : side.address(),
                      " id=", side.request_id() == 0 ? "-" : absl::StrCat(side.request_id()),
                      " spi=", side.spi() == 0 ? "-" : FormatSpi(side.spi()));
}

// "198.18.10.0/24 <-> 198.18.20.0/24", the inner traffic of an association
// (a's side first); "" when neither side stated it.
std::string TrafficCell(const v1::Association& a) {
  if (a.a_prefix().empty() && a.b_prefix().empty()) return "";
  return absl::StrCat(a.a_prefix().empty() ? "-" : a.a_prefix(), " <-> ",
                      a.b_prefix().empty() ? "-" : a.b_prefix());
}

// "7/7": the revision the agent applied over the one last pushed to it;
// "-" before anything was pushed.
std::string SpdCell(const v1::NodeStatus& status) {
  if (status.spd_revision() == 0 && status.applied_revision() == 0) return "-";
  return absl::StrCat(status.applied_revision(), "/", status.spd_revision());
}

// Whether the agent runs what was pushed; unknowable while it is away.
std::string SyncCell(const v1::NodeStatus& status) {
  if (!status.connected()) return "-";
  return status.in_sync() ? "yes" : "no";
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

// Width of the longest event kind name, so `watch` lines align.
size_t KindWidth() {
  static const size_t width = [] {
    size_t w = 0;
    const auto* type = v1::Event::Kind_descriptor();
    for (int i = 0; i < type->value_count(); ++i) {
      w = std::max(w, EventKindName(static_cast<v1::Event::Kind>(type->value(i)->number())).size());
    }
    return w;
  }();
  return width;
}

}  // namespace

std::string FormatTime(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

std::string FormatTimeMicros(int64_t unix_micros) {
  if (unix_micros == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

std::string FormatSpi(uint32_t spi) { return absl::StrFormat("0x%08x (%u)", spi, spi); }

std::string PolicyTable(const v1::ListPoliciesResponse& response) {
  Table table({"NAME", "A", "B", "SELECTOR", "ACTION", "MODE", "ENCRYPTION", "INTEGRITY",
               "LIFETIME", "PRIORITY", "REV"});
  for (const v1::Policy& p : response.policies()) {
    table.AddRow({p.name(), p.a().address(), p.b().address(), FormatSelector(p.selector()),
                  ActionName(p.action()), ModeName(p.mode()), EncryptionCell(p),
                  IntegrityName(p.integrity()),
                  SecondsCell(p.lifetime().hard_seconds()), absl::StrCat(p.priority()),
                  absl::StrCat(p.revision())});
  }
  return table.Render();
}

std::string AssociationTable(const v1::ListAssociationsResponse& response) {
  // Associations of agents whose SPD the controller does not push state no
  // prefixes; a fleet of only those keeps the table it always had.
  bool traffic = std::any_of(response.associations().begin(), response.associations().end(),
                             [](const v1::Association& a) { return !TrafficCell(a).empty(); });
  std::vector<std::string> header = {"ID", "STATE", "A", "B", "POLICY", "EXPIRES"};
  if (traffic) header.insert(header.begin() + 4, "TRAFFIC");
  Table table(header);
  for (const v1::Association& a : response.associations()) {
    std::vector<std::string> row = {absl::StrCat(a.id()), StateName(a.state()), SideCell(a.a()),
                                    SideCell(a.b()), a.policy_name(),
                                    FormatTime(a.expire_time_unix())};
    if (traffic) row.insert(row.begin() + 4, TrafficCell(a));
    table.AddRow(std::move(row));
  }
  return table.Render();
}

std::string AgentTable(const v1::ListAgentsResponse& response) {
  Table table({"NODE", "ADDRESSES", "CONNECTED", "VERSION", "DATAPATH", "LAST-SEEN"});
  for (const v1::Agent& a : response.agents()) {
    table.AddRow({a.node_name(), absl::StrJoin(a.addresses(), ","), a.connected() ? "yes" : "no",
                  a.agent_version(), a.datapath(), FormatTime(a.last_seen_unix())});
  }
  return table.Render();
}

std::string NodeTable(const v1::ListNodesResponse& response) {
  Table table({"NAME", "ADDRESSES", "SITES", "CONNECTED", "SPD", "SYNC", "RULES", "DATAPATH"});
  for (const v1::Node& n : response.nodes()) {
    const v1::NodeStatus& s = n.status();
    table.AddRow({n.name(), absl::StrJoin(n.addresses(), ","), absl::StrJoin(n.sites(), ","),
                  YesNo(s.connected()), SpdCell(s), SyncCell(s), absl::StrCat(s.spd_rules()),
                  s.datapath()});
  }
  return table.Render();
}

std::string PolicyDetail(const v1::Policy& p) {
  const v1::Lifetime& l = p.lifetime();
  Table table({});
  table.AddRow({"NAME", p.name()});
  table.AddRow({"A", p.a().address()});
  table.AddRow({"B", p.b().address()});
  table.AddRow({"SELECTOR", FormatSelector(p.selector())});
  table.AddRow({"ACTION", ActionName(p.action())});
  table.AddRow({"PROTOCOL", ProtocolName(p.protocol())});
  table.AddRow({"MODE", ModeName(p.mode())});
  table.AddRow({"ENCRYPTION", EncryptionCell(p)});
  table.AddRow({"INTEGRITY", IntegrityName(p.integrity())});
  table.AddRow({"LIFETIME", SecondsCell(l.hard_seconds())});
  table.AddRow({"SOFT-LIFETIME", SecondsCell(l.soft_seconds())});
  table.AddRow({"LIFETIME-BYTES", LimitCell(l.hard_bytes())});
  table.AddRow({"SOFT-LIFETIME-BYTES", LimitCell(l.soft_bytes())});
  table.AddRow({"LIFETIME-PACKETS", LimitCell(l.hard_packets())});
  table.AddRow({"SOFT-LIFETIME-PACKETS", LimitCell(l.soft_packets())});
  table.AddRow({"PRIORITY", absl::StrCat(p.priority())});
  table.AddRow({"REPLAY-WINDOW", NumberOrDefault(p.replay_window())});
  table.AddRow({"ALLOW-LEGACY", p.allow_legacy_algorithms() ? "yes" : "no"});
  table.AddRow({"DESCRIPTION", p.description()});
  table.AddRow({"REVISION", absl::StrCat(p.revision())});
  table.AddRow({"CREATED", FormatTime(p.create_time_unix())});
  table.AddRow({"UPDATED", FormatTime(p.update_time_unix())});
  return table.Render();
}

std::string AssociationDetail(const v1::Association& a) {
  Table table({});
  table.AddRow({"ID", absl::StrCat(a.id())});
  table.AddRow({"STATE", StateName(a.state())});
  table.AddRow({"POLICY", a.policy_name()});
  table.AddRow({"SELECTOR", FormatSelector(a.selector())});
  table.AddRow({"A", SideCell(a.a())});
  table.AddRow({"B", SideCell(a.b())});
  std::string traffic = TrafficCell(a);
  if (!traffic.empty()) table.AddRow({"TRAFFIC", traffic});
  table.AddRow({"CREATED", FormatTime(a.create_time_unix())});
  table.AddRow({"ESTABLISHED", FormatTime(a.establish_time_unix())});
  table.AddRow({"EXPIRES", FormatTime(a.expire_time_unix())});
  table.AddRow({"STARTUPS-SENT", absl::StrCat(a.startups_sent())});
  return table.Render();
}

std::string NodeDetail(const v1::Node& n) {
  Table table({});
  table.AddRow({"NAME", n.name()});
  table.AddRow({"ADDRESSES", absl::StrJoin(n.addresses(), ",")});
  table.AddRow({"SITES", absl::StrJoin(n.sites(), ",")});
  table.AddRow({"DESCRIPTION", n.description()});
  table.AddRow({"REVISION", absl::StrCat(n.revision())});
  table.AddRow({"CREATED", FormatTime(n.create_time_unix())});
  table.AddRow({"UPDATED", FormatTime(n.update_time_unix())});
  if (n.has_status()) {
    const v1::NodeStatus& s = n.status();
    table.AddRow({"CONNECTED", YesNo(s.connected())});
    table.AddRow({"SPD", SpdCell(s)});
    table.AddRow({"SYNC", SyncCell(s)});
    table.AddRow({"RULES", absl::StrCat(s.spd_rules())});
    table.AddRow({"LAST-ERROR", s.last_error()});
    table.AddRow({"DATAPATH", s.datapath()});
    table.AddRow({"VERSION", s.agent_version()});
    table.AddRow({"LAST-SEEN", FormatTime(s.last_seen_unix())});
    if (s.report_time_unix() != 0) {
      // Issue #11 point 3: what the datapath dropped, and each SA's count.
      std::vector<std::string> drops;
      std::map<std::string, uint64_t> sorted(s.drops().begin(), s.drops().end());
      for (const auto& [reason, count] : sorted) drops.push_back(absl::StrCat(reason, "=", count));
      table.AddRow({"DROPS", drops.empty() ? "none" : absl::StrJoin(drops, " ")});
      table.AddRow({"REPORTED", FormatTime(s.report_time_unix())});
      if (s.sas_omitted() > 0) {
        table.AddRow({"SA", absl::StrCat(s.sas_omitted(), " more not reported")});
      }
      for (const v1::SaReport& sa : s.sas()) {
        table.AddRow({"SA", absl::StrCat("assoc ", sa.association_id(), sa.inbound() ? " in " : " out ",
                                        FormatSpi(sa.spi()), " packets=", sa.packets(),
                                        " bytes=", sa.bytes(),
                                        sa.inbound() ? absl::StrCat(" replay=", sa.replay_drops(),
                                                                    " integrity=",
                                                                    sa.integrity_failures())
                                                     : "")});
      }
    }
  }
  return table.Render();
}

std::string EventLine(const v1::Event& event) {
  std::string kind = EventKindName(event.kind());
  kind.resize(std::max(kind.size(), KindWidth()), ' ');
  std::string line = absl::StrCat(FormatTimeMicros(event.time_unix_micros()), "  ", kind, "  ",
                                  event.subject().empty() ? "-" : SanitizeCell(event.subject()),
                                  "  ", SanitizeCell(event.detail()));
  // An event without detail must not leave trailing spaces.
  absl::StripTrailingAsciiWhitespace(&line);
  return line + "\n";
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, JsonStyle style) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = style == JsonStyle::kIndented;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print JSON: ", status.ToString()));
  }
  absl::StripTrailingAsciiWhitespace(&out);
  return out + "\n";
}

}  // namespace ikeless::ipsecctl
