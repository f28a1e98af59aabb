#include "agent/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace ikeless::agent {
namespace {

// Collects the parser's first error with its line and column.
class ErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first.empty()) first = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
  }
  std::string first;
};

absl::Status Invalid(const std::string& origin, absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(origin, ": ", field, ": ", why));
}

// "198.18.10.0/24" or a single address -> canonical CIDR.
absl::StatusOr<std::string> Prefix(const std::string& text) {
  auto m = AddressMatch::Parse(text);
  if (!m.ok()) return m.status();
  if (m->is_wildcard()) return absl::InvalidArgumentError("use a prefix such as 0.0.0.0/0, not '*'");
  std::string s = m->ToString();
  if (s.find('/') == std::string::npos) {
    s += s.find(':') == std::string::npos ? "/32" : "/128";
  }
  return s;
}

}  // namespace

absl::StatusOr<LoadedConfig> ParseConfig(const std::string& text, const std::string& origin) {
  LoadedConfig out;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &out.config)) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", errors.first));
  }
  v1::AgentConfig& c = out.config;
  if (c.node_name().empty()) return Invalid(origin, "node_name", "is required");
  if (c.controller().empty()) return Invalid(origin, "controller", "is required (host:port)");
  if (c.addresses().empty()) return Invalid(origin, "addresses", "name at least one address");
  for (int i = 0; i < c.addresses_size(); ++i) {
    auto a = CanonicalAddress(c.addresses(i), absl::StrCat("addresses[", i, "]"));
    if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat(origin, ": ", a.status().message()));
    c.set_addresses(i, *a);
  }
  v1::EspEngineConfig* esp = c.mutable_esp();
  if (esp->tun_name().empty()) esp->set_tun_name("ikl0");
  if (esp->tun_name().size() > 15) return Invalid(origin, "esp.tun_name", "at most 15 characters");
  if (esp->mtu() == 0) esp->set_mtu(1400);
  if (esp->mtu() < 576 || esp->mtu() > 9000) return Invalid(origin, "esp.mtu", "must be 576..9000");
  if (esp->udp_port() == 0) esp->set_udp_port(4500);
  if (esp->udp_port() > 65535) return Invalid(origin, "esp.udp_port", "must be 1..65535");
  if (esp->socket_mark() == 0) esp->set_socket_mark(0x1e5);
  if (esp->listen_address().empty()) esp->set_listen_address(c.addresses(0));
  if (!esp->has_manage_routes()) esp->set_manage_routes(true);
  if (esp->route_table() == 0) esp->set_route_table(0x1e5);
  if (esp->route_table() >= 253 && esp->route_table() <= 255) {
    return Invalid(origin, "esp.route_table", "253..255 are the kernel's default, main and local tables");
  }
  if (esp->route_rule_priority() == 0) esp->set_route_rule_priority(0x1e5);
  if (esp->route_rule_priority() >= 32766) {
    return Invalid(origin, "esp.route_rule_priority", "must be 1..32765 (before the main table's rule)");
  }
  if (c.has_xfrm()) {
    v1::XfrmConfig* x = c.mutable_xfrm();
    if (x->reqid_base() == 0) x->set_reqid_base(0x1e50000);
    if (x->reqid_base() > 0xffffffffu - 0xffff) {
      return Invalid(origin, "xfrm.reqid_base", "leaves no room for 65536 reqids");
    }
    if (x->priority_base() == 0) x->set_priority_base(1000);
    if (x->priority_base() > 0xffffffffu - 0xffff) {
      return Invalid(origin, "xfrm.priority_base", "leaves no room for 65536 priorities");
    }
    if (x->raw_esp() && x->udp_port() != 0) return Invalid(origin, "xfrm.udp_port", "not with raw_esp");
    if (!x->raw_esp() && x->udp_port() == 0) x->set_udp_port(4500);
    if (x->udp_port() > 65535) return Invalid(origin, "xfrm.udp_port", "must be 1..65535");
  }
  const v1::TlsConfig& tls = c.tls();
  const bool any_tls = !tls.ca_file().empty() || !tls.cert_file().empty() || !tls.key_file().empty();
  if (c.report_interval_seconds() > 3600) {
    return Invalid(origin, "report_interval_seconds", "at most 3600");
  }
  if (c.insecure() && any_tls) return Invalid(origin, "insecure", "do not combine with tls");
  if (!c.insecure()) {
    if (tls.ca_file().empty()) return Invalid(origin, "tls.ca_file", "is required (or insecure: true)");
    if (tls.cert_file().empty()) return Invalid(origin, "tls.cert_file", "is required (or insecure: true)");
    if (tls.key_file().empty()) return Invalid(origin, "tls.key_file", "is required (or insecure: true)");
  }
  if (tls.server_name().empty()) c.mutable_tls()->set_server_name("ikeless-controller");
  if (c.setup().resend_interval_ms() == 0) c.mutable_setup()->set_resend_interval_ms(5000);
  if (c.setup().max_attempts() == 0) c.mutable_setup()->set_max_attempts(6);
  if (!c.setup().has_successor_keys()) c.mutable_setup()->set_successor_keys(3);
  if (c.setup().successor_keys() > 8) return Invalid(origin, "setup.successor_keys", "at most 8");

  for (int i = 0; i < c.spd_size(); ++i) {
    const v1::SpdRule& r = c.spd(i);
    const std::string field = absl::StrCat("spd[", i, "]");
    datapath::SpdEntry e;
    e.id = static_cast<uint32_t>(i + 1);
    e.name = r.name().empty() ? absl::StrCat("spd-", i + 1) : r.name();
    auto local = Prefix(r.local());
    if (!local.ok()) return Invalid(origin, field + ".local", local.status().message());
    auto remote = Prefix(r.remote());
    if (!remote.ok()) return Invalid(origin, field + ".remote", remote.status().message());
    if ((local->find(':') == std::string::npos) != (remote->find(':') == std::string::npos)) {
      return Invalid(origin, field + ".remote", "must be of the same family as local");
    }
    e.local_prefix = *local;
    e.remote_prefix = *remote;
    if (r.protocol() > 255) return Invalid(origin, field + ".protocol", "must be 0..255");
    if (r.port() > 65535) return Invalid(origin, field + ".port", "must be 0..65535");
    if (r.port() != 0 && r.protocol() != 6 && r.protocol() != 17) {
      return Invalid(origin, field + ".port", "needs protocol 6 (tcp) or 17 (udp)");
    }
    e.protocol = r.protocol();
    e.port = r.port();
    switch (r.action()) {
      case v1::SpdRule::ACTION_UNSPECIFIED:
      case v1::SpdRule::PROTECT: e.action = datapath::SpdEntry::Action::kProtect; break;
      case v1::SpdRule::BYPASS: e.action = datapath::SpdEntry::Action::kBypass; break;
      case v1::SpdRule::DISCARD: e.action = datapath::SpdEntry::Action::kDiscard; break;
      default: return Invalid(origin, field + ".action", "unknown action");
    }
    e.local_address = r.local_address().empty() ? c.addresses(0) : r.local_address();
    auto la = CanonicalAddress(e.local_address, field + ".local_address");
    if (!la.ok()) return absl::InvalidArgumentError(absl::StrCat(origin, ": ", la.status().message()));
    if (std::find(c.addresses().begin(), c.addresses().end(), *la) == c.addresses().end()) {
      return Invalid(origin, field + ".local_address", "must be one of addresses");
    }
    e.local_address = *la;
    if (e.action == datapath::SpdEntry::Action::kProtect) {
      if (r.setup_peer().empty()) {
        return Invalid(origin, field + ".setup_peer",
                       "a PROTECT rule needs the peer node to ask the controller about");
      }
      auto peer = CanonicalAddress(r.setup_peer(), field + ".setup_peer");
      if (!peer.ok()) return absl::InvalidArgumentError(absl::StrCat(origin, ": ", peer.status().message()));
      if (*peer == e.local_address) return Invalid(origin, field + ".setup_peer", "is this node");
      e.setup_peer = *peer;
    }
    out.spd.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<LoadedConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the file"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace ikeless::agent
