#ifndef IKELESS_DATAPATH_ESP_ESP_PACKET_H_
#define IKELESS_DATAPATH_ESP_ESP_PACKET_H_

// ESP framing (RFC 4303 §2): the layout of one packet,
//
//   SPI (4) | sequence number, low 32 bits (4) | IV | payload | padding |
//   pad length (1) | next header (1) | ICV
//
// where payload .. next header is the part the cipher encrypts ("text"
// below). This file only moves bytes; transform.h encrypts them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace ikeless::datapath::esp {

inline constexpr size_t kEspHeaderSize = 8;   // SPI + sequence number
inline constexpr size_t kEspTrailerSize = 2;  // pad length + next header
inline constexpr size_t kMaxPadding = 255;    // RFC 4303 §2.4

// The per-SA sizes framing depends on (from the transform).
struct EspGeometry {
  size_t iv_size = 0;
  size_t icv_size = 0;
  size_t block_size = 4;  // alignment of the text; at least 4 (§2.4)
};

// Offsets of the parts of one packet.
struct EspLayout {
  size_t iv_offset = kEspHeaderSize;
  size_t text_offset = 0;  // payload .. next header
  size_t text_size = 0;
  size_t icv_offset = 0;
  size_t total_size = 0;
};

// Size of payload + padding + trailer: the smallest multiple of the block
// size (and of 4) that holds payload and trailer (RFC 4303 §2.4).
size_t EspTextSize(size_t payload_size, size_t block_size);

// Writes a whole packet into `out` (replacing its contents): header, IV
// (zeroed, for the transform to fill), payload, padding 1, 2, 3, ... (§2.4
// default padding), pad length, next header, ICV (zeroed).
EspLayout FrameEsp(uint32_t spi, uint32_t seq_lo, const EspGeometry& g,
                   std::span<const uint8_t> payload, uint8_t next_header,
                   std::vector<uint8_t>* out);

struct EspHeader {
  uint32_t spi = 0;
  uint32_t seq_lo = 0;
};
// The header of a received packet; nullopt if shorter than 8 octets.
std::optional<EspHeader> ParseEspHeader(std::span<const uint8_t> packet);

// Why a received packet is not acceptable.
enum class EspError {
  kOk,
  kTruncated,     // too short for header, IV, one block and ICV
  kMisaligned,    // text not a multiple of the block size (§2.4)
  kBadPadLength,  // pad length points before the text
  kBadPadding,    // padding octets are not 1, 2, 3, ... (§2.4)
  kDummy,         // next header 59: a dummy packet, to be discarded (§2.6)
};
const char* EspErrorName(EspError e);

// Where the parts of a received `packet_size`-octet packet lie for an SA of
// geometry `g`.
EspError LocateEsp(size_t packet_size, const EspGeometry& g, EspLayout* layout);

struct EspTrailer {
  size_t payload_size = 0;
  uint8_t next_header = 0;
};
// Reads and checks the trailer of decrypted `text` (§2.4-§2.6).
EspError ParseEspTrailer(std::span<const uint8_t> text, EspTrailer* trailer);

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_ESP_PACKET_H_
