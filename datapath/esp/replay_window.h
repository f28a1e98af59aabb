#ifndef IKELESS_DATAPATH_ESP_REPLAY_WINDOW_H_
#define IKELESS_DATAPATH_ESP_REPLAY_WINDOW_H_

// The receiver's anti-replay window (RFC 4303 §3.4.3) with 64-bit extended
// sequence numbers (RFC 4303 §2.2.1, Appendix A2).
//
// Split in two so that forged packets cannot move the window (§3.4.3: "the
// receive window is updated only if the integrity verification succeeds"):
//   Check()  before the ICV: rebuilds the full 64-bit number from the low 32
//            bits on the wire (Appendix A2.2) and rejects duplicates and
//            packets left of the window;
//   Accept() after the ICV: records the number and slides the window.

#include <cstdint>
#include <vector>

namespace ikeless::datapath::esp {

class ReplayWindow {
 public:
  static constexpr uint32_t kMaxSize = 4096;
  static constexpr uint32_t kDefaultSize = 128;  // policy.proto: 0 = 128

  enum class Verdict {
    kOk,       // new: pass to the ICV check, then Accept()
    kReplay,   // already received
    kTooOld,   // left of the window (or outside the sequence space)
  };
  struct Result {
    Verdict verdict;
    uint64_t seq;  // the inferred full sequence number (for the ICV's seq_hi)
  };

  // `size` in [1, kMaxSize] packets (callers validate; out-of-range values
  // are clamped). Without ESN the sequence space is 32 bits.
  ReplayWindow(uint32_t size, bool esn);

  Result Check(uint32_t seq_lo) const;
  // Records `seq`, which a Check() returned kOk for and whose ICV verified.
  void Accept(uint64_t seq);

  uint32_t size() const { return size_; }
  uint64_t top() const { return top_; }  // highest accepted, 0 = none yet

 private:
  bool Seen(uint64_t seq) const;
  void Set(uint64_t seq);
  void Clear(uint64_t seq);

  uint32_t size_;
  bool esn_;
  uint64_t top_ = 0;
  // Ring of bits indexed by seq mod (64 * words); holds the last `size_`.
  std::vector<uint64_t> bits_;
};

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_REPLAY_WINDOW_H_
