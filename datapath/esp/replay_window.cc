#include "datapath/esp/replay_window.h"

#include <algorithm>

namespace ikeless::datapath::esp {

ReplayWindow::ReplayWindow(uint32_t size, bool esn)
    : size_(std::clamp<uint32_t>(size, 1, kMaxSize)), esn_(esn), bits_((size_ + 63) / 64, 0) {}

ReplayWindow::Result ReplayWindow::Check(uint32_t seq_lo) const {
  uint64_t seq = seq_lo;
  if (esn_) {
    // RFC 4303 Appendix A2.2: which 2^32 subspace does seq_lo belong to?
    // T = top, W = window size; Tl/Th its halves.
    const uint32_t tl = static_cast<uint32_t>(top_);
    const uint32_t th = static_cast<uint32_t>(top_ >> 32);
    const uint32_t bottom = tl - (size_ - 1);  // Tl - W + 1, mod 2^32
    uint32_t seq_hi;
    if (tl >= size_ - 1) {
      // Case A: the window lies within one subspace.
      if (seq_lo >= bottom) {
        seq_hi = th;
      } else {
        if (th == UINT32_MAX) return {Verdict::kTooOld, 0};  // space exhausted
        seq_hi = th + 1;
      }
    } else {
      // Case B: the window spans two subspaces.
      if (seq_lo >= bottom) {
        if (th == 0) return {Verdict::kTooOld, 0};  // before the first packet
        seq_hi = th - 1;
      } else {
        seq_hi = th;
      }
    }
    seq = (uint64_t{seq_hi} << 32) | seq_lo;
  }
  if (seq == 0) return {Verdict::kTooOld, 0};  // never sent (§3.3.3 starts at 1)
  if (seq > top_) return {Verdict::kOk, seq};
  if (top_ - seq >= size_) return {Verdict::kTooOld, seq};
  return {Seen(seq) ? Verdict::kReplay : Verdict::kOk, seq};
}

void ReplayWindow::Accept(uint64_t seq) {
  if (seq > top_) {
    const uint64_t ring = uint64_t{64} * bits_.size();
    if (seq - top_ >= ring) {
      std::fill(bits_.begin(), bits_.end(), 0);
    } else {
      // Bits of the numbers sliding in reuse slots of ones that slid out.
      for (uint64_t s = top_ + 1; s < seq; ++s) Clear(s);
    }
    top_ = seq;
  }
  Set(seq);
}

bool ReplayWindow::Seen(uint64_t seq) const {
  const uint64_t bit = seq % (uint64_t{64} * bits_.size());
  return (bits_[bit / 64] >> (bit % 64)) & 1;
}

void ReplayWindow::Set(uint64_t seq) {
  const uint64_t bit = seq % (uint64_t{64} * bits_.size());
  bits_[bit / 64] |= uint64_t{1} << (bit % 64);
}

void ReplayWindow::Clear(uint64_t seq) {
  const uint64_t bit = seq % (uint64_t{64} * bits_.size());
  bits_[bit / 64] &= ~(uint64_t{1} << (bit % 64));
}

}  // namespace ikeless::datapath::esp
