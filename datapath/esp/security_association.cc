#include "datapath/esp/security_association.h"

#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "datapath/esp/wire.h"

namespace ikeless::datapath::esp {
namespace {

absl::StatusOr<IpAddress> ParseField(const std::string& text, const char* field) {
  auto a = IpAddress::Parse(text);
  if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", a.status().message()));
  return a;
}

}  // namespace

std::string SpiText(uint32_t spi) { return absl::StrCat("0x", absl::Hex(spi, absl::kZeroPad8)); }

absl::StatusOr<std::unique_ptr<SecurityAssociation>> SecurityAssociation::Create(
    uint32_t spd_entry, Direction direction, const v1::SaParameters& params, absl::Time now,
    uint64_t ordinal, RandomSource* random) {
  std::unique_ptr<SecurityAssociation> sa(new SecurityAssociation());
  if (params.spi() < 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("spi: ", params.spi(), " is reserved (RFC 4303 §2.1: 0-255)"));
  }
  auto src = ParseField(params.source(), "source");
  if (!src.ok()) return src.status();
  auto dst = ParseField(params.destination(), "destination");
  if (!dst.ok()) return dst.status();
  if (src->is_v4() != dst->is_v4()) {
    return absl::InvalidArgumentError("source and destination are of different families");
  }
  switch (params.mode()) {
    case v1::MODE_UNSPECIFIED:
    case v1::MODE_TUNNEL:
      sa->tunnel_ = true;
      break;
    case v1::MODE_TRANSPORT:
      sa->tunnel_ = false;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat("mode: unknown mode ", params.mode()));
  }
  if (params.replay_window() > ReplayWindow::kMaxSize) {
    return absl::InvalidArgumentError(absl::StrCat("replay_window: ", params.replay_window(),
                                                   " exceeds the ESP engine's maximum of ",
                                                   ReplayWindow::kMaxSize));
  }
  const v1::Lifetime& lt = params.lifetime();
  if ((lt.soft_bytes() && lt.hard_bytes() && lt.soft_bytes() > lt.hard_bytes()) ||
      (lt.soft_packets() && lt.hard_packets() && lt.soft_packets() > lt.hard_packets()) ||
      (lt.soft_seconds() && lt.hard_seconds() && lt.soft_seconds() > lt.hard_seconds())) {
    return absl::InvalidArgumentError("lifetime: a soft limit exceeds its hard limit");
  }
  auto transform = MakeTransform(params, random);
  if (!transform.ok()) return transform.status();

  sa->key_ = SaKey{dst->ToString(), params.spi()};
  sa->spd_entry_ = spd_entry;
  sa->direction_ = direction;
  sa->esn_ = params.extended_sequence_numbers();
  sa->source_ = *src;
  sa->destination_ = *dst;
  sa->raw_source_ = RawAddress::From(*src);
  sa->raw_destination_ = RawAddress::From(*dst);
  sa->ordinal_ = ordinal;
  sa->transform_ = std::move(*transform);
  sa->geometry_ = {sa->transform_->iv_size(), sa->transform_->icv_size(),
                   sa->transform_->block_size()};
  if (direction == Direction::kInbound) {
    const uint32_t w = params.replay_window() == 0 ? ReplayWindow::kDefaultSize
                                                   : params.replay_window();
    sa->replay_.emplace(w, sa->esn_);
  }
  // §3.3.3: the counter never cycles. Rekey well before the end of the
  // space (the last 1/16); with ESN that is never reached in practice.
  sa->max_seq_ = sa->esn_ ? UINT64_MAX : UINT32_MAX;
  sa->soft_seq_ = sa->max_seq_ - sa->max_seq_ / 16;
  sa->lifetime_ = lt;
  if (lt.hard_seconds() > 0) {
    sa->hard_time_ = now + absl::Seconds(static_cast<int64_t>(lt.hard_seconds()));
  }
  if (lt.soft_seconds() > 0) {
    sa->soft_time_ = now + absl::Seconds(static_cast<int64_t>(lt.soft_seconds()));
  } else if (lt.hard_seconds() > 0) {
    // policy.proto: soft_seconds 0 = 90 % of hard_seconds.
    sa->soft_time_ = now + absl::Seconds(static_cast<int64_t>(lt.hard_seconds())) * 0.9;
  }
  return sa;
}

SecurityAssociation::ProtectResult SecurityAssociation::Protect(std::span<const uint8_t> packet,
                                                                const PacketInfo& info,
                                                                std::vector<uint8_t>* esp) {
  if (!tunnel_ && info.fragment) return ProtectResult::kTransportFragment;
  if (seq_spent_) return ProtectResult::kSeqExhausted;
  const uint64_t seq = next_seq_;
  if (seq == max_seq_) {
    seq_spent_ = true;  // this is the last number of the space
  } else {
    ++next_seq_;
  }

  // §3.1.1 transport mode: the payload follows the IP header, whose
  // protocol becomes the next header. §3.1.2 tunnel mode: the whole packet,
  // next header IPv4 (4) or IPv6 (41).
  std::span<const uint8_t> payload = packet.first(info.length);
  uint8_t next_header = info.version == 4 ? kProtoIpv4 : kProtoIpv6;
  if (!tunnel_) {
    payload = payload.subspan(info.header_size);
    next_header = info.header_protocol;
  }
  const EspLayout l =
      FrameEsp(key_.spi, static_cast<uint32_t>(seq), geometry_, payload, next_header, esp);
  std::span<uint8_t> p(*esp);
  std::span<uint8_t> iv = p.subspan(l.iv_offset, geometry_.iv_size);
  transform_->MakeIv(seq, iv);
  if (!transform_->Seal({key_.spi, seq, esn_}, iv, p.subspan(l.text_offset, l.text_size),
                        p.subspan(l.icv_offset, geometry_.icv_size))
           .ok()) {
    return ProtectResult::kError;
  }
  counters_.packets++;
  counters_.bytes += payload.size();
  return ProtectResult::kOk;
}

SecurityAssociation::UnprotectResult SecurityAssociation::Unprotect(std::span<uint8_t> packet,
                                                                    std::vector<uint8_t>* inner) {
  EspLayout l;
  switch (LocateEsp(packet.size(), geometry_, &l)) {
    case EspError::kOk:
      break;
    case EspError::kMisaligned:
      return UnprotectResult::kMisaligned;
    default:
      return UnprotectResult::kTruncated;
  }
  // §3.4.3: the replay check comes before the ICV check, the window update
  // after it.
  const ReplayWindow::Result r = replay_->Check(LoadBe32(packet.data() + 4));
  if (r.verdict != ReplayWindow::Verdict::kOk) {
    counters_.replay_drops++;
    return r.verdict == ReplayWindow::Verdict::kReplay ? UnprotectResult::kReplay
                                                       : UnprotectResult::kTooOld;
  }
  std::span<uint8_t> text = packet.subspan(l.text_offset, l.text_size);
  absl::Status opened = transform_->Open({key_.spi, r.seq, esn_},
                                         packet.subspan(l.iv_offset, geometry_.iv_size), text,
                                         packet.subspan(l.icv_offset, geometry_.icv_size));
  if (!opened.ok()) {
    if (opened.code() != absl::StatusCode::kDataLoss) return UnprotectResult::kError;
    counters_.integrity_failures++;
    return UnprotectResult::kIntegrity;
  }
  replay_->Accept(r.seq);

  EspTrailer trailer;
  switch (ParseEspTrailer(text, &trailer)) {
    case EspError::kOk:
      break;
    case EspError::kDummy:
      return UnprotectResult::kDummy;
    default:
      return UnprotectResult::kBadPadding;
  }
  std::span<const uint8_t> payload = text.first(trailer.payload_size);
  inner->clear();
  if (tunnel_) {
    const int version = payload.empty() ? 0 : payload[0] >> 4;
    if (!((trailer.next_header == kProtoIpv4 && version == 4) ||
          (trailer.next_header == kProtoIpv6 && version == 6))) {
      return UnprotectResult::kBadNextHeader;
    }
  } else {
    if (payload.size() > 65535 - 40) return UnprotectResult::kError;
    // §3.1.1: the receiver puts back an IP header from the SA's addresses.
    AppendIpHeader(raw_source_, raw_destination_, trailer.next_header, payload.size(), inner);
  }
  inner->insert(inner->end(), payload.begin(), payload.end());
  counters_.packets++;
  counters_.bytes += payload.size();
  return UnprotectResult::kOk;
}

SecurityAssociation::Expiry SecurityAssociation::CheckLifetime(absl::Time now) {
  const v1::Lifetime& lt = lifetime_;
  const bool seq_spent = direction_ == Direction::kOutbound && seq_spent_;
  if (now >= hard_time_ || (lt.hard_bytes() && counters_.bytes >= lt.hard_bytes()) ||
      (lt.hard_packets() && counters_.packets >= lt.hard_packets()) || seq_spent) {
    return Expiry::kHard;
  }
  if (soft_fired_) return Expiry::kNone;
  if (now >= soft_time_ || (lt.soft_bytes() && counters_.bytes >= lt.soft_bytes()) ||
      (lt.soft_packets() && counters_.packets >= lt.soft_packets()) ||
      (direction_ == Direction::kOutbound && next_seq_ >= soft_seq_)) {
    soft_fired_ = true;
    return Expiry::kSoft;
  }
  return Expiry::kNone;
}

}  // namespace ikeless::datapath::esp
