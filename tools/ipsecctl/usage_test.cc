#include "tools/ipsecctl/usage.h"

#include <vector>

#include "absl/strings/str_split.h"
#include "common/algorithms.h"
#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

TEST(Usage, NamesEveryCommandAndOption) {
  std::string text = UsageText();
  for (const char* word :
       {"policy add NAME --between A B", "policy get NAME", "policy list", "policy update NAME",
        "policy delete NAME", "nodes add NAME --address A", "nodes get NAME", "nodes list",
        "nodes set NAME", "nodes remove NAME [--keep-certificates]", "--address ADDR",
        "--site PREFIX", "--add-site PREFIX", "--remove-site PREFIX", "--no-sites",
        "agents enroll NAME --address A", "--action ACTION", "protect, bypass, discard",
        "assoc list [--address ADDR]", "assoc show ID", "assoc delete ID", "agents list",
        "watch", "help", "--controller ADDR", "-o, --output FORMAT", "--timeout SECONDS",
        "-h, --help", "--protocol", "--mode", "--encryption NAME", "--key-bits N",
        "--integrity NAME", "--lifetime DURATION", "--soft-lifetime DURATION",
        "--lifetime-bytes N", "--soft-lifetime-bytes N", "--selector SPEC", "--priority N",
        "--replay-window N", "--allow-legacy", "--description TEXT", "IKELESS_CONTROLLER",
        "127.0.0.1:50051"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word;
  }
}

TEST(Usage, ListsTheSharedAlgorithmNames) {
  std::string text = UsageText();
  for (absl::string_view name : absl::StrSplit(EncryptionNames() + ", " + IntegrityNames(), ", ")) {
    EXPECT_NE(text.find(std::string(name)), std::string::npos) << name;
  }
}

TEST(Usage, FitsEightyColumns) {
  for (absl::string_view line : absl::StrSplit(UsageText(), '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

}  // namespace
}  // namespace ikeless::ipsecctl
