#include "agent/datapath_factory.h"

#include "datapath/esp/esp_datapath.h"
#include "datapath/xfrm/xfrm_datapath.h"

namespace ikeless::agent {

absl::StatusOr<std::unique_ptr<datapath::Datapath>> MakeDatapath(const v1::AgentConfig& config) {
  if (config.has_xfrm()) {
    const v1::XfrmConfig& x = config.xfrm();
    datapath::xfrm::XfrmDatapath::Options o;
    o.mapping.reqid_base = x.reqid_base();
    o.mapping.priority_base = x.priority_base();
    o.udp_port = x.raw_esp() ? 0 : static_cast<uint16_t>(x.udp_port());
    o.hold_first_packets = !x.drop_first_packets();
    auto dp = datapath::xfrm::XfrmDatapath::Create(o);
    if (!dp.ok()) return dp.status();
    return std::unique_ptr<datapath::Datapath>(std::move(*dp));
  }
  datapath::esp::EspDatapath::Options o;
  const v1::EspEngineConfig& esp = config.esp();
  o.tun_name = esp.tun_name();
  o.mtu = static_cast<int>(esp.mtu());
  o.encapsulation = esp.raw_esp() ? datapath::esp::EspDatapath::Encapsulation::kRawIp
                                  : datapath::esp::EspDatapath::Encapsulation::kUdp;
  o.bind_address = esp.listen_address();
  o.udp_port = static_cast<uint16_t>(esp.udp_port());
  o.peer_udp_port = static_cast<uint16_t>(esp.udp_port());
  o.socket_mark = esp.socket_mark();
  auto dp = datapath::esp::EspDatapath::Create(o);
  if (!dp.ok()) return dp.status();
  return std::unique_ptr<datapath::Datapath>(std::move(*dp));
}

}  // namespace ikeless::agent
