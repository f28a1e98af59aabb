#include "datapath/xfrm/xfrm_stat.h"

#include "gtest/gtest.h"

namespace ikeless::datapath {
namespace {

TEST(XfrmStat, KernelCountersMapToReasons) {
  // As Linux 6.1 prints it (a subset).
  const DropCounts d = ParseXfrmStat(
      "XfrmInError             \t0\n"
      "XfrmInNoStates          \t4\n"
      "XfrmInStateProtoError   \t3\n"
      "XfrmInStateSeqError     \t7\n"
      "XfrmInTmplMismatch      \t2\n"
      "XfrmOutNoStates         \t1\n"
      "XfrmFwdHdrError         \t5\n"
      "garbage line\n");
  EXPECT_EQ(d.at("integrity"), 3u);
  EXPECT_EQ(d.at("replay"), 7u);
  EXPECT_EQ(d.at("no_sa"), 5u);  // in and out
  EXPECT_EQ(d.at("policy_mismatch"), 2u);
  EXPECT_EQ(d.at("other"), 5u);  // XfrmInError + XfrmFwdHdrError
}

}  // namespace
}  // namespace ikeless::datapath
