#ifndef IKELESS_STORAGE_ASSOCIATION_H_
#define IKELESS_STORAGE_ASSOCIATION_H_

// One row of the association (management) table, FIG. 4/25/27: one SA pair
// being set up or in use between two nodes.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "proto/policy.pb.h"

namespace ikeless::storage {

// One node's half of a row: FIG. 4 "request source address", "request ID",
// "SPI". request_id == 0 means that side has not asked yet (S22 leaves the
// peer's side blank).
struct AssociationSide {
  AssociationSide() = default;
  AssociationSide(std::string address, uint64_t request_id, uint32_t spi)
      : address(std::move(address)), request_id(request_id), spi(spi) {}

  std::string address;  // canonical text
  uint64_t request_id = 0;
  uint32_t spi = 0;     // the SPI this side receives on
  // The SPIs this side reserved for successor SAs (SaRequest.successor_spis):
  // kept from S22 until S10 makes the successors.
  std::vector<uint32_t> successor_spis;
  bool filled() const { return request_id != 0; }
};

struct AssociationRow {
  uint64_t id = 0;        // assigned by the store on insert
  AssociationSide a;      // the side that asked first and opened the row (S22)
  AssociationSide b;      // the peer; blank until S9 fills it
  v1::Selector selector;
  // The inner traffic (IKE's TSi/TSr): the prefix behind a and the prefix
  // behind b, canonical CIDR; both empty when the requester did not state
  // them. Several SPD entries between one pair of nodes are told apart here.
  std::string a_prefix;
  std::string b_prefix;
  v1::Policy policy;      // S22: the distribution policy, copied in
  // S10: SA parameters for each direction (with keys); set once established.
  std::optional<v1::SaParameters> a_to_b;
  std::optional<v1::SaParameters> b_to_a;
  absl::Time create_time = absl::UnixEpoch();
  absl::Time establish_time = absl::InfinitePast();  // S10
  absl::Time expire_time = absl::InfiniteFuture();   // hard lifetime end
  uint32_t startups_sent = 0;                        // S23 repetitions
  absl::Time next_startup_time = absl::InfiniteFuture();

  bool established() const { return b.filled(); }

  AssociationRow() = default;
  AssociationRow(const AssociationRow&) = default;
  AssociationRow& operator=(const AssociationRow&) = default;
  AssociationRow(AssociationRow&&) = default;
  AssociationRow& operator=(AssociationRow&&) = default;
  ~AssociationRow();  // wipes the keys
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_ASSOCIATION_H_
