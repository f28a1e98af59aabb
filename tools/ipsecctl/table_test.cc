#include "tools/ipsecctl/table.h"

#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

TEST(Table, AlignsColumnsToTheWidestCell) {
  Table t({"NAME", "A", "REV"});
  t.AddRow({"web", "198.18.0.0/24", "1"});
  t.AddRow({"database-east", "*", "12"});
  EXPECT_EQ(t.Render(),
            "NAME           A              REV\n"
            "web            198.18.0.0/24  1\n"
            "database-east  *              12\n");
}

TEST(Table, EmptyCellsAndShortRowsShowADash) {
  Table t({"A", "B", "C"});
  t.AddRow({"x", "", "z"});
  t.AddRow({"only"});
  EXPECT_EQ(t.Render(),
            "A     B  C\n"
            "x     -  z\n"
            "only  -  -\n");
}

TEST(Table, HeaderOnlyWhenThereAreNoRows) {
  Table t({"ID", "STATE"});
  EXPECT_EQ(t.Render(), "ID  STATE\n");
}

TEST(Table, NoHeaderForKeyValueViews) {
  Table t({});
  t.AddRow({"NAME", "web"});
  t.AddRow({"DESCRIPTION", "front ends"});
  EXPECT_EQ(t.Render(),
            "NAME         web\n"
            "DESCRIPTION  front ends\n");
}

TEST(Table, ControlCharactersCannotBreakLinesOrReachTheTerminal) {
  Table t({"NODE", "V"});
  t.AddRow({"evil\n\x1b[2Jnode", "1\t2"});
  std::string out = t.Render();
  EXPECT_EQ(out, "NODE           V\nevil??[2Jnode  1?2\n");
}

TEST(Table, WidthCountsCharactersNotBytes) {
  EXPECT_EQ(DisplayWidth("knoten-ü"), 8u);
  Table t({"N", "X"});
  t.AddRow({"ü", "1"});
  t.AddRow({"ab", "2"});
  EXPECT_EQ(t.Render(), "N   X\nü   1\nab  2\n");
}

}  // namespace
}  // namespace ikeless::ipsecctl
