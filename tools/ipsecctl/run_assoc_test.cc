// RunCommand for `assoc delete` against the scripted PolicyService of
// run_test_fixture.h: the id sent, the one-line result, and the exit code
// and message of a refusal.
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tools/ipsecctl/command.h"
#include "tools/ipsecctl/run.h"
#include "tools/ipsecctl/run_test_fixture.h"

namespace ikeless::ipsecctl {
namespace {

using testing_fixture::RunTest;

TEST_F(RunTest, AssocDeletePrintsOneLineNamingTheRow) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.association.mutable_a()->set_address("198.18.0.1");
    service_.association.mutable_b()->set_address("198.18.0.2");
  }
  Result r = Run("assoc delete 42");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "deleted association 42 (198.18.0.1 <-> 198.18.0.2); both nodes told to remove "
            "its SAs\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.delete_association.id(), 42u);
  EXPECT_EQ(service_.calls.back(), "DeleteAssociation");
}

TEST_F(RunTest, AssocDeleteAsJsonIsOneLine) {
  Result r = Run("assoc delete 7 -o json");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("\"id\":\"7\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
}

TEST_F(RunTest, AssocDeleteOfAnUnknownIdFailsWithTheControllersMessage) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.delete_association_status =
        grpc::Status(grpc::StatusCode::NOT_FOUND, "association 99 not found");
  }
  Result r = Run("assoc delete 99");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ipsecctl: assoc delete 99: NOT_FOUND: association 99 not found\n");
}

TEST(AssocDeleteGrammar, TakesOneNumericId) {
  auto ok = ParseInvocation(std::vector<std::string>{"assoc", "delete", "18446744073709551615"}, "");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->command.kind, Command::Kind::kAssocDelete);
  EXPECT_EQ(ok->command.association_id, 18446744073709551615u);
  EXPECT_EQ(ok->command.Subject(), "assoc delete 18446744073709551615");
  auto bad = ParseInvocation(std::vector<std::string>{"assoc", "delete", "x"}, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "assoc delete: ID: 'x' is not a number");
  EXPECT_FALSE(ParseInvocation(std::vector<std::string>{"assoc", "delete"}, "").ok());
}

}  // namespace
}  // namespace ikeless::ipsecctl
