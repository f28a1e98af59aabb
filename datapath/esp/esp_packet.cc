#include "datapath/esp/esp_packet.h"

#include <algorithm>
#include <cstring>

#include "datapath/esp/ip_packet.h"
#include "datapath/esp/wire.h"

namespace ikeless::datapath::esp {

size_t EspTextSize(size_t payload_size, size_t block_size) {
  const size_t align = std::max<size_t>(block_size, 4);
  const size_t raw = payload_size + kEspTrailerSize;
  return (raw + align - 1) / align * align;
}

EspLayout FrameEsp(uint32_t spi, uint32_t seq_lo, const EspGeometry& g,
                   std::span<const uint8_t> payload, uint8_t next_header,
                   std::vector<uint8_t>* out) {
  EspLayout l;
  l.iv_offset = kEspHeaderSize;
  l.text_offset = kEspHeaderSize + g.iv_size;
  l.text_size = EspTextSize(payload.size(), g.block_size);
  l.icv_offset = l.text_offset + l.text_size;
  l.total_size = l.icv_offset + g.icv_size;

  out->resize(l.total_size);
  uint8_t* p = out->data();
  StoreBe32(p, spi);
  StoreBe32(p + 4, seq_lo);
  std::memset(p + l.iv_offset, 0, g.iv_size);
  if (!payload.empty()) std::memcpy(p + l.text_offset, payload.data(), payload.size());
  const size_t pad = l.text_size - payload.size() - kEspTrailerSize;
  uint8_t* padding = p + l.text_offset + payload.size();
  for (size_t i = 0; i < pad; ++i) padding[i] = static_cast<uint8_t>(i + 1);
  padding[pad] = static_cast<uint8_t>(pad);
  padding[pad + 1] = next_header;
  std::memset(p + l.icv_offset, 0, g.icv_size);
  return l;
}

std::optional<EspHeader> ParseEspHeader(std::span<const uint8_t> packet) {
  if (packet.size() < kEspHeaderSize) return std::nullopt;
  return EspHeader{LoadBe32(packet.data()), LoadBe32(packet.data() + 4)};
}

const char* EspErrorName(EspError e) {
  switch (e) {
    case EspError::kOk: return "ok";
    case EspError::kTruncated: return "truncated";
    case EspError::kMisaligned: return "misaligned";
    case EspError::kBadPadLength: return "bad_pad_length";
    case EspError::kBadPadding: return "bad_padding";
    case EspError::kDummy: return "dummy";
  }
  return "unknown";
}

EspError LocateEsp(size_t packet_size, const EspGeometry& g, EspLayout* l) {
  const size_t align = std::max<size_t>(g.block_size, 4);
  const size_t fixed = kEspHeaderSize + g.iv_size + g.icv_size;
  if (packet_size < fixed + align) return EspError::kTruncated;
  l->iv_offset = kEspHeaderSize;
  l->text_offset = kEspHeaderSize + g.iv_size;
  l->text_size = packet_size - fixed;
  l->icv_offset = l->text_offset + l->text_size;
  l->total_size = packet_size;
  if (l->text_size % align != 0) return EspError::kMisaligned;
  return EspError::kOk;
}

EspError ParseEspTrailer(std::span<const uint8_t> text, EspTrailer* t) {
  if (text.size() < kEspTrailerSize) return EspError::kTruncated;
  const size_t pad = text[text.size() - 2];
  t->next_header = text[text.size() - 1];
  if (pad + kEspTrailerSize > text.size()) return EspError::kBadPadLength;
  t->payload_size = text.size() - kEspTrailerSize - pad;
  // §2.4: with the default padding the receiver SHOULD check the octets.
  for (size_t i = 0; i < pad; ++i) {
    if (text[t->payload_size + i] != static_cast<uint8_t>(i + 1)) return EspError::kBadPadding;
  }
  if (t->next_header == kProtoNoNext) return EspError::kDummy;
  return EspError::kOk;
}

}  // namespace ikeless::datapath::esp
