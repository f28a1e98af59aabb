// Store URLs: each accepted form names the database it documents, every
// other form is refused with an error naming --store, and passwords never
// reach a log line.
#include "storage/store_url.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ikeless::storage {
namespace {

std::string PathOf(absl::string_view url) {
  absl::StatusOr<StoreUrl> parsed = ParseStoreUrl(url);
  EXPECT_TRUE(parsed.ok()) << url << ": " << parsed.status();
  if (!parsed.ok()) return "(error)";
  EXPECT_EQ(parsed->backend, StoreUrl::Backend::kSqlite);
  return parsed->sqlite_path;
}

TEST(StoreUrl, SqliteForms) {
  EXPECT_EQ(PathOf("sqlite:///var/lib/ikeless/controller.db"), "/var/lib/ikeless/controller.db");
  EXPECT_EQ(PathOf("sqlite:data/controller.db"), "data/controller.db");
  EXPECT_EQ(PathOf("sqlite:controller.db"), "controller.db");
  EXPECT_EQ(PathOf("sqlite:/abs/controller.db"), "/abs/controller.db");
  EXPECT_EQ(PathOf("sqlite::memory:"), ":memory:");
  EXPECT_EQ(PathOf("SQLite:///x.db"), "/x.db");
  EXPECT_EQ(PathOf("sqlite:///dir with space/c.db"), "/dir with space/c.db");
}

TEST(StoreUrl, SqliteUrlOfAPathParsesBack) {
  for (const char* path : {"/var/lib/ikeless/controller.db", "rel/c.db", ":memory:"}) {
    EXPECT_EQ(PathOf(SqliteStoreUrl(path)), path);
  }
  // '?', '#' and '%' are legal in file names; --database took them before.
  for (const char* path : {"/srv/db#2/c.db", "/srv/what?.db", "/srv/100%/c.db", "r%3F.db"}) {
    EXPECT_EQ(PathOf(SqliteStoreUrl(path)), path);
  }
  EXPECT_EQ(SqliteStoreUrl("/srv/db#2/c.db"), "sqlite:///srv/db%232/c.db");
  EXPECT_EQ(SqliteStoreUrl("/a/b.db"), "sqlite:///a/b.db");
  EXPECT_EQ(SqliteStoreUrl("b.db"), "sqlite:b.db");
  EXPECT_EQ(SqliteStoreUrl(":memory:"), "sqlite::memory:");
}

TEST(StoreUrl, PostgresIsUnimplementedNamingTheIssue) {
  for (const char* url : {"postgres://db.example/ikeless", "postgresql://u:pw@db/ikeless",
                          "PostgreSQL://db/ikeless"}) {
    absl::StatusOr<StoreUrl> parsed = ParseStoreUrl(url);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kUnimplemented) << url;
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "issue #15")) << parsed.status();
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "--store")) << parsed.status();
    EXPECT_FALSE(absl::StrContains(parsed.status().message(), "pw")) << parsed.status();
  }
}

TEST(StoreUrl, AnythingElseIsInvalidNamingTheFlagAndTheForms) {
  for (const char* url : {"", "/var/lib/ikeless/controller.db", "controller.db", "mysql://db/x",
                          "sqlite:", "sqlite://", "sqlite:///", "sqlite://host/x.db",
                          "sqlite:///x.db?mode=ro", "sqlite:x.db#frag", "file:///x.db", "memory"}) {
    absl::StatusOr<StoreUrl> parsed = ParseStoreUrl(url);
    ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << "'" << url << "'";
    EXPECT_TRUE(absl::StartsWith(parsed.status().message(), "--store: ")) << parsed.status();
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "sqlite:///")) << parsed.status();
    EXPECT_TRUE(absl::StrContains(parsed.status().message(), "sqlite::memory:")) << parsed.status();
  }
}

TEST(StoreUrl, RedactRemovesPasswords) {
  EXPECT_EQ(RedactStoreUrl("postgresql://ike:s3cret@db.example:5432/ikeless"),
            "postgresql://ike@db.example:5432/ikeless");
  EXPECT_EQ(RedactStoreUrl("postgres://ike:s3cret@db"), "postgres://ike@db");
  EXPECT_EQ(RedactStoreUrl("postgres://db/x?sslmode=require&password=s3cret&user=ike"),
            "postgres://db/x?sslmode=require&user=ike");
  EXPECT_EQ(RedactStoreUrl("postgres://db/x?PASSWORD=s3cret#f"), "postgres://db/x?#f");
  EXPECT_EQ(RedactStoreUrl("postgres://db/x?sslpassword=s3cret&a=b"), "postgres://db/x?a=b");
  // Nothing secret: unchanged.
  for (const char* url : {"sqlite:///var/lib/ikeless/controller.db", "sqlite::memory:",
                          "sqlite:rel/c.db", "postgres://ike@db/x", "postgres://db/x?a=b"}) {
    EXPECT_EQ(RedactStoreUrl(url), url);
  }
}

// A libpq keyword string is no URL: refused without being echoed.
TEST(StoreUrl, NonUrlIsNotEchoed) {
  absl::StatusOr<StoreUrl> parsed = ParseStoreUrl("host=db user=ike password=s3cret");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(parsed.status().message(), "s3cret")) << parsed.status();
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "not a URL")) << parsed.status();
}

TEST(StoreUrl, EmptyAuthorityHasNoPath) {
  EXPECT_TRUE(absl::StrContains(ParseStoreUrl("sqlite://").status().message(),
                                "has no database path"));
}

}  // namespace
}  // namespace ikeless::storage
