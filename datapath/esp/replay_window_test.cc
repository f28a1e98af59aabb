#include "datapath/esp/replay_window.h"

#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

using Verdict = ReplayWindow::Verdict;

// Check then Accept, as the receiver does for a packet whose ICV verifies.
Verdict Receive(ReplayWindow& w, uint32_t seq_lo) {
  ReplayWindow::Result r = w.Check(seq_lo);
  if (r.verdict == Verdict::kOk) w.Accept(r.seq);
  return r.verdict;
}

TEST(ReplayWindowTest, InOrder) {
  ReplayWindow w(128, false);
  for (uint32_t s = 1; s <= 1000; ++s) ASSERT_EQ(Receive(w, s), Verdict::kOk) << s;
  EXPECT_EQ(w.top(), 1000u);
}

TEST(ReplayWindowTest, ZeroIsNeverValid) {
  ReplayWindow w(64, false);
  EXPECT_EQ(w.Check(0).verdict, Verdict::kTooOld);
  ReplayWindow e(64, true);
  EXPECT_EQ(e.Check(0).verdict, Verdict::kTooOld);
}

TEST(ReplayWindowTest, Duplicates) {
  ReplayWindow w(64, false);
  for (uint32_t s = 1; s <= 10; ++s) Receive(w, s);
  EXPECT_EQ(w.Check(5).verdict, Verdict::kReplay);
  EXPECT_EQ(w.Check(10).verdict, Verdict::kReplay);
  EXPECT_EQ(w.Check(1).verdict, Verdict::kReplay);
  EXPECT_EQ(w.Check(11).verdict, Verdict::kOk);
}

TEST(ReplayWindowTest, OutOfOrderWithinWindow) {
  ReplayWindow w(64, false);
  EXPECT_EQ(Receive(w, 100), Verdict::kOk);
  EXPECT_EQ(Receive(w, 50), Verdict::kOk);
  EXPECT_EQ(Receive(w, 50), Verdict::kReplay);
  EXPECT_EQ(Receive(w, 99), Verdict::kOk);
  EXPECT_EQ(Receive(w, 37), Verdict::kOk);   // 100 - 37 = 63 < 64
  EXPECT_EQ(Receive(w, 36), Verdict::kTooOld);
  EXPECT_EQ(w.top(), 100u);
  EXPECT_EQ(Receive(w, 101), Verdict::kOk);
  EXPECT_EQ(Receive(w, 37), Verdict::kTooOld);  // slid out
}

TEST(ReplayWindowTest, EdgesForEachSize) {
  for (uint32_t size : {32u, 64u, 100u, 128u, 1024u, 4096u}) {
    SCOPED_TRACE(size);
    ReplayWindow w(size, false);
    const uint32_t top = size + 10;
    ASSERT_EQ(Receive(w, top), Verdict::kOk);
    EXPECT_EQ(w.Check(top - (size - 1)).verdict, Verdict::kOk);   // last slot in the window
    EXPECT_EQ(w.Check(top - size).verdict, Verdict::kTooOld);     // first one out
    EXPECT_EQ(w.Check(top).verdict, Verdict::kReplay);
    // Fill the whole window out of order, then every one is a replay.
    for (uint32_t s = top - (size - 1); s < top; ++s) ASSERT_EQ(Receive(w, s), Verdict::kOk);
    for (uint32_t s = top - (size - 1); s <= top; ++s) {
      ASSERT_EQ(w.Check(s).verdict, Verdict::kReplay) << s;
    }
  }
}

TEST(ReplayWindowTest, SizeIsClamped) {
  EXPECT_EQ(ReplayWindow(0, false).size(), 1u);
  EXPECT_EQ(ReplayWindow(100000, false).size(), ReplayWindow::kMaxSize);
}

TEST(ReplayWindowTest, SlidingClearsReusedSlots) {
  // The ring has 64 slots for a 64-packet window: after sliding by less than
  // the ring, slots of numbers that slid in must read as unseen.
  ReplayWindow w(64, false);
  for (uint32_t s = 1; s <= 64; ++s) Receive(w, s);
  EXPECT_EQ(Receive(w, 100), Verdict::kOk);
  for (uint32_t s = 65; s < 100; ++s) EXPECT_EQ(w.Check(s).verdict, Verdict::kOk) << s;
  for (uint32_t s = 37; s <= 64; ++s) EXPECT_EQ(w.Check(s).verdict, Verdict::kReplay) << s;
  // A jump beyond the whole ring clears everything.
  EXPECT_EQ(Receive(w, 100000), Verdict::kOk);
  for (uint32_t s = 100000 - 63; s < 100000; ++s) {
    ASSERT_EQ(w.Check(s).verdict, Verdict::kOk) << s;
  }
}

TEST(ReplayWindowTest, CheckAloneDoesNotMoveTheWindow) {
  // A forged packet far ahead must not slide the window: only Accept() does.
  ReplayWindow w(64, false);
  Receive(w, 10);
  EXPECT_EQ(w.Check(1'000'000).verdict, Verdict::kOk);
  EXPECT_EQ(w.top(), 10u);
  EXPECT_EQ(w.Check(9).verdict, Verdict::kOk);
  EXPECT_EQ(w.Check(10).verdict, Verdict::kReplay);
}

TEST(ReplayWindowTest, WithoutEsnTheLowHalfDoesNotWrap) {
  ReplayWindow w(64, false);
  EXPECT_EQ(Receive(w, 0xfffffff0), Verdict::kOk);
  EXPECT_EQ(w.Check(3).verdict, Verdict::kTooOld);
  ReplayWindow::Result r = w.Check(0xffffffff);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.seq, 0xffffffffu);
}

// RFC 4303 Appendix A2.2 case A and case B across the 2^32 boundary.
TEST(ReplayWindowTest, EsnInfersHighHalfAcrossWrap) {
  ReplayWindow w(64, true);
  w.Accept(0xfffffff0);  // as if a stream had come this far
  EXPECT_EQ(w.top(), 0xfffffff0u);

  // Case A (window within subspace 0): numbers below the window belong to
  // the next subspace.
  ReplayWindow::Result r = w.Check(0xfffffff5);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.seq, 0xfffffff5u);
  r = w.Check(3);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.seq, (uint64_t{1} << 32) | 3);
  w.Accept(r.seq);
  EXPECT_EQ(w.top(), (uint64_t{1} << 32) | 3);

  // Case B (window spans subspaces 0 and 1).
  r = w.Check(0xfffffff8);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.seq, 0xfffffff8u);
  w.Accept(r.seq);
  EXPECT_EQ(w.Check(0xfffffff8).verdict, Verdict::kReplay);
  EXPECT_EQ(w.Check(0xfffffff0).verdict, Verdict::kReplay);
  // One below the window's bottom is read as far ahead in subspace 1 (A2.2):
  // if it really was an old packet, its ICV fails with that guess.
  r = w.Check(0xffffffc3);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.seq, (uint64_t{1} << 32) | 0xffffffc3);
  r = w.Check(0xffffffc4);
  EXPECT_EQ(r.verdict, Verdict::kOk);  // 63 behind
  EXPECT_EQ(r.seq, 0xffffffc4u);
  r = w.Check(2);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.seq, (uint64_t{1} << 32) | 2);
  r = w.Check(0x7fffffff);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.seq, (uint64_t{1} << 32) | 0x7fffffff);
  EXPECT_EQ(w.Check(3).verdict, Verdict::kReplay);
}

TEST(ReplayWindowTest, EsnContinuousStreamThroughSeveralWraps) {
  ReplayWindow w(128, true);
  uint64_t seq = 0xffffff00;
  w.Accept(seq);
  for (int i = 0; i < 1000; ++i) {
    seq += 1;
    ReplayWindow::Result r = w.Check(static_cast<uint32_t>(seq));
    ASSERT_EQ(r.verdict, Verdict::kOk) << seq;
    ASSERT_EQ(r.seq, seq);
    w.Accept(r.seq);
  }
  // Slightly reordered delivery across the next wrap.
  seq = (uint64_t{5} << 32) - 20;
  w.Accept(seq);
  for (uint64_t s : {seq + 30, seq + 25, seq + 21, seq + 29, seq + 1, seq + 20}) {
    ReplayWindow::Result r = w.Check(static_cast<uint32_t>(s));
    ASSERT_EQ(r.verdict, Verdict::kOk) << s;
    ASSERT_EQ(r.seq, s);
    w.Accept(r.seq);
  }
  EXPECT_EQ(w.Check(static_cast<uint32_t>(seq + 25)).verdict, Verdict::kReplay);
}

TEST(ReplayWindowTest, EsnBeforeTheFirstPacket) {
  // At the start (T = 0) a low half near 2^32 would be subspace -1.
  ReplayWindow w(64, true);
  EXPECT_EQ(w.Check(0xffffffff).verdict, Verdict::kTooOld);
  EXPECT_EQ(w.Check(1).verdict, Verdict::kOk);
}

}  // namespace
}  // namespace ikeless::datapath::esp
