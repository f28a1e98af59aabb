#include "datapath/xfrm/xfrm_spd.h"

#include <set>

namespace ikeless::datapath::xfrm {
namespace {

std::string HostPrefix(const std::string& address) {
  return address + (address.find(':') == std::string::npos ? "/32" : "/128");
}

}  // namespace

bool LooksLikeTransport(const SpdEntry& e) {
  return !e.setup_peer.empty() && e.local_prefix == HostPrefix(e.local_address) &&
         e.remote_prefix == HostPrefix(e.setup_peer);
}

std::vector<PolicySpec> PoliciesFor(const SpdEntry& e, uint32_t position, bool tunnel,
                                    const SpdMapping& mapping) {
  PolicySpec out;
  out.dir = XFRM_POLICY_OUT;
  out.source_prefix = e.local_prefix;
  out.destination_prefix = e.remote_prefix;
  out.protocol = static_cast<uint8_t>(e.protocol);
  out.destination_port = static_cast<uint16_t>(e.port);
  out.priority = mapping.priority_base + position;  // first match wins
  out.reqid = mapping.ReqidOf(e.id);
  switch (e.action) {
    case SpdEntry::Action::kProtect:
      out.tunnel = tunnel;
      if (tunnel) {
        out.tunnel_source = e.local_address;
        out.tunnel_destination = e.setup_peer;
      }
      break;
    case SpdEntry::Action::kBypass:
      out.has_template = false;
      out.tunnel = false;
      break;
    case SpdEntry::Action::kDiscard:
      out.block = true;
      out.tunnel = false;
      break;
  }
  PolicySpec in = out;
  in.dir = XFRM_POLICY_IN;
  std::swap(in.source_prefix, in.destination_prefix);
  std::swap(in.source_port, in.destination_port);
  std::swap(in.tunnel_source, in.tunnel_destination);
  std::vector<PolicySpec> policies = {out, in};
  // Transport-mode PROTECT traffic ends on this host: nothing to forward.
  if (e.action != SpdEntry::Action::kProtect || tunnel) {
    PolicySpec fwd = in;
    fwd.dir = XFRM_POLICY_FWD;
    policies.push_back(fwd);
  }
  return policies;
}

bool SameSlot(const PolicySpec& a, const PolicySpec& b) { return SlotOf(a) == SlotOf(b); }

PolicySlot SlotOf(const PolicySpec& p) {
  return {p.dir, p.source_prefix, p.destination_prefix, p.protocol, p.source_port, p.destination_port};
}

bool SamePolicy(const PolicySpec& a, const PolicySpec& b) {
  return SameSlot(a, b) && a.priority == b.priority && a.block == b.block &&
         a.has_template == b.has_template && a.reqid == b.reqid && a.tunnel == b.tunnel &&
         a.tunnel_source == b.tunnel_source && a.tunnel_destination == b.tunnel_destination;
}

PolicyChanges DiffPolicies(const std::map<PolicySlot, PolicySpec>& installed,
                           const std::vector<PolicySpec>& wanted) {
  PolicyChanges changes;
  std::set<PolicySlot> slots;
  for (const PolicySpec& p : wanted) {
    slots.insert(SlotOf(p));
    auto it = installed.find(SlotOf(p));
    if (it == installed.end() || !SamePolicy(it->second, p)) changes.put.push_back(p);
  }
  for (const auto& [slot, p] : installed) {
    if (slots.count(slot) == 0) changes.remove.push_back(p);
  }
  return changes;
}

}  // namespace ikeless::datapath::xfrm
