#include "controller/revocation_list.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

std::string Path() { return absl::StrCat(std::getenv("TEST_TMPDIR"), "/revoked.txt"); }

TEST(RevocationList, ReadsSerialsAndNoticesChanges) {
  std::remove(Path().c_str());
  RevocationList list(Path());
  EXPECT_FALSE(*list.Reload());  // missing file: empty, unchanged
  EXPECT_FALSE(list.IsRevoked("ab12"));
  std::ofstream(Path()) << "# revoked\n00AB12  # gw-a, stolen\n\nff\n";
  EXPECT_TRUE(*list.Reload());
  EXPECT_TRUE(list.IsRevoked("ab12"));
  EXPECT_TRUE(list.IsRevoked("0000AB12"));
  EXPECT_TRUE(list.IsRevoked("FF"));
  EXPECT_FALSE(list.IsRevoked("ab13"));
  EXPECT_EQ(list.size(), 2u);
  EXPECT_FALSE(*list.Reload());  // unchanged file
  std::ofstream(Path()) << "ff\n";
  EXPECT_TRUE(*list.Reload());
  EXPECT_FALSE(list.IsRevoked("ab12"));
}

TEST(RevocationList, RevokeNameAppendsAndKeepsTheRest) {
  std::remove(Path().c_str());
  std::ofstream(Path()) << "ab12\n";
  RevocationList list(Path());
  ASSERT_TRUE(list.Reload().ok());
  ASSERT_TRUE(list.RevokeName("gw-e", "removed by ipsecctl nodes remove").ok());
  EXPECT_TRUE(list.IsNameRevoked("gw-e"));
  EXPECT_TRUE(list.IsRevoked("ab12"));
  RevocationList again(Path());  // what a restarted controller reads
  ASSERT_TRUE(again.Reload().ok());
  EXPECT_TRUE(again.IsNameRevoked("gw-e"));
  EXPECT_FALSE(again.IsNameRevoked("gw-a"));
  RevocationList none("");
  EXPECT_EQ(none.RevokeName("gw-e", "x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RevocationList, MalformedLineKeepsThePreviousList) {
  std::ofstream(Path()) << "ab12\n";
  RevocationList list(Path());
  ASSERT_TRUE(list.Reload().ok());
  std::ofstream(Path()) << "ab12\nnot-a-serial\n";
  auto r = list.Reload();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("revoked.txt:2"), std::string::npos);
  EXPECT_TRUE(list.IsRevoked("ab12"));
}

TEST(RevocationList, NodeNames) {
  std::ofstream(Path()) << "node:gw-a\nab12\n";
  RevocationList list(Path());
  ASSERT_TRUE(*list.Reload());
  EXPECT_TRUE(list.IsNameRevoked("gw-a"));
  EXPECT_FALSE(list.IsNameRevoked("gw-b"));
  EXPECT_FALSE(list.IsNameRevoked(""));
  EXPECT_TRUE(list.IsRevoked("ab12"));
  EXPECT_EQ(list.size(), 2u);
}

TEST(RevocationList, EmptyPathRevokesNothing) {
  RevocationList list("");
  EXPECT_FALSE(*list.Reload());
  EXPECT_FALSE(list.IsRevoked("ab12"));
}

}  // namespace
}  // namespace ikeless::controller
