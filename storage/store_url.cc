#include "storage/store_url.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ikeless::storage {
namespace {

constexpr char kMemory[] = ":memory:";

constexpr char kAcceptedForms[] =
    "use sqlite:///ABSOLUTE/PATH.db, sqlite:RELATIVE/PATH.db or sqlite::memory:";

absl::Status Invalid(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--store: '", RedactStoreUrl(url), "' ", why, "; ", kAcceptedForms));
}

// '%', '?' and '#' in a path, percent-encoded so the URL parses back to it;
// nothing else is encoded or decoded.
constexpr std::pair<char, const char*> kEscapes[] = {{'%', "%25"}, {'?', "%3F"}, {'#', "%23"}};

std::string EscapePath(absl::string_view path) {
  std::string out;
  for (char c : path) {
    const auto* e = std::find_if(std::begin(kEscapes), std::end(kEscapes),
                                 [c](const auto& x) { return x.first == c; });
    if (e != std::end(kEscapes)) {
      out += e->second;
    } else {
      out += c;
    }
  }
  return out;
}

std::string UnescapePath(absl::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    const auto* e = std::find_if(std::begin(kEscapes), std::end(kEscapes), [&](const auto& x) {
      return absl::EqualsIgnoreCase(path.substr(i, 3), x.second);
    });
    if (e != std::end(kEscapes)) {
      out += e->first;
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<StoreUrl> ParseStoreUrl(absl::string_view url) {
  const std::string lower = absl::AsciiStrToLower(url);
  if (absl::StartsWith(lower, "postgres://") || absl::StartsWith(lower, "postgresql://")) {
    return absl::UnimplementedError(absl::StrCat(
        "--store: '", RedactStoreUrl(url),
        "': the PostgreSQL backend is issue #15 and is not built yet; ", kAcceptedForms));
  }
  if (!absl::StartsWith(lower, "sqlite:")) {
    if (url.find("://") == absl::string_view::npos && !url.empty()) {
      // Not a URL at all (a libpq "host=... password=..." string, say):
      // not echoed, it may hold a secret.
      return absl::InvalidArgumentError(
          absl::StrCat("--store: names no known store (not a URL); ", kAcceptedForms));
    }
    return Invalid(url, url.empty() ? "is empty" : "names no known store");
  }
  absl::string_view rest = url.substr(std::string_view("sqlite:").size());
  StoreUrl out;
  if (rest == kMemory) {
    out.sqlite_path = kMemory;
    return out;
  }
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return Invalid(url, "has a query or fragment (SQLite's options are flags)");
  }
  if (absl::ConsumePrefix(&rest, "//")) {
    if (rest.empty()) return Invalid(url, "has no database path");
    // sqlite://HOST/PATH: only the empty host, i.e. three slashes.
    if (!absl::StartsWith(rest, "/")) {
      return Invalid(url, "names a host (an absolute path needs three slashes)");
    }
  }
  if (rest.empty() || rest == "/") return Invalid(url, "has no database path");
  out.sqlite_path = UnescapePath(rest);
  return out;
}

std::string SqliteStoreUrl(absl::string_view path) {
  if (path == kMemory) return absl::StrCat("sqlite:", path);
  // An absolute path gets the sqlite:/// form; a relative one stays
  // relative (sqlite:REL).
  return absl::StartsWith(path, "/") ? absl::StrCat("sqlite://", EscapePath(path))
                                     : absl::StrCat("sqlite:", EscapePath(path));
}

std::string RedactStoreUrl(absl::string_view url) {
  std::string out;
  absl::string_view rest = url;
  // User info: scheme://user:password@host -> scheme://user@host.
  if (size_t scheme_end = rest.find("://"); scheme_end != absl::string_view::npos) {
    const size_t authority = scheme_end + 3;
    const size_t authority_end = std::min(rest.find_first_of("/?#", authority), rest.size());
    absl::string_view host_part = rest.substr(authority, authority_end - authority);
    absl::StrAppend(&out, rest.substr(0, authority));
    if (size_t at = host_part.rfind('@'); at != absl::string_view::npos) {
      absl::string_view user_info = host_part.substr(0, at);
      absl::StrAppend(&out, user_info.substr(0, user_info.find(':')), host_part.substr(at));
    } else {
      absl::StrAppend(&out, host_part);
    }
    rest = rest.substr(authority_end);
  }
  // Query parameters named password (libpq's ?password=...).
  const size_t query = rest.find('?');
  if (query == absl::string_view::npos) return absl::StrCat(out, rest);
  absl::StrAppend(&out, rest.substr(0, query + 1));
  absl::string_view params = rest.substr(query + 1);
  absl::string_view fragment;
  if (size_t hash = params.find('#'); hash != absl::string_view::npos) {
    fragment = params.substr(hash);
    params = params.substr(0, hash);
  }
  std::vector<absl::string_view> kept;
  for (absl::string_view p : absl::StrSplit(params, '&')) {
    absl::string_view key = p.substr(0, p.find('='));
    // password, sslpassword, ...: any key that names a password.
    if (!absl::EndsWithIgnoreCase(key, "password")) kept.push_back(p);
  }
  absl::StrAppend(&out, absl::StrJoin(kept, "&"), fragment);
  return out;
}

}  // namespace ikeless::storage
