#include "controller/authorization.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

Caller Node(const std::string& name, std::vector<std::string> addresses) {
  Caller c;
  c.kind = Caller::Kind::kNode;
  c.name = name;
  c.addresses = std::move(addresses);
  return c;
}

TEST(Authorization, NodeMayHelloOnlyAsItselfWithItsAddresses) {
  Caller a = Node("gw-a", {"198.18.0.1", "fd00::1"});
  EXPECT_TRUE(AuthorizeHello(a, "gw-a", {"198.18.0.1"}).ok());
  EXPECT_TRUE(AuthorizeHello(a, "gw-a", {"198.18.0.1", "fd00::1"}).ok());
  absl::Status s = AuthorizeHello(a, "gw-b", {"198.18.0.1"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("hello.node_name"), std::string::npos);
  s = AuthorizeHello(a, "gw-a", {"198.18.0.1", "198.18.0.2"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("hello.addresses[1]: 198.18.0.2"), std::string::npos);
}

TEST(Authorization, AdminsUsePolicyServiceNodesDoNot) {
  Caller admin;
  admin.kind = Caller::Kind::kAdmin;
  admin.name = "ops";
  EXPECT_TRUE(AuthorizeAdmin(admin).ok());
  EXPECT_EQ(AuthorizeHello(admin, "ops", {}).code(), absl::StatusCode::kPermissionDenied);
  Caller node = Node("gw-a", {"198.18.0.1"});
  absl::Status s = AuthorizeAdmin(node);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("gw-a"), std::string::npos);
  Caller unknown;
  unknown.kind = Caller::Kind::kUnknown;
  EXPECT_EQ(AuthorizeAdmin(unknown).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AuthorizeHello(unknown, "x", {}).code(), absl::StatusCode::kPermissionDenied);
}

TEST(Authorization, PlainTextControllerLetsEveryoneIn) {
  Caller anonymous;
  EXPECT_TRUE(AuthorizeAdmin(anonymous).ok());
  EXPECT_TRUE(AuthorizeHello(anonymous, "anything", {"198.18.0.9"}).ok());
}

TEST(Authorization, StandingChecksExpiryAndRevocation) {
  Caller a = Node("gw-a", {"198.18.0.1"});
  a.serial = "ab12";
  a.not_after = absl::FromUnixSeconds(2000);
  EXPECT_TRUE(CheckStanding(a, nullptr, absl::FromUnixSeconds(1999)).ok());
  EXPECT_EQ(CheckStanding(a, nullptr, absl::FromUnixSeconds(2000)).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(CheckStanding(Caller(), nullptr, absl::InfiniteFuture()).ok());  // anonymous
}

}  // namespace
}  // namespace ikeless::controller
