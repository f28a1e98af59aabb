#include "controller/pki/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"

namespace ikeless::pki {
namespace {

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::string QuoteForError(absl::string_view text) {
  constexpr size_t kShown = 64;
  std::string quoted = absl::StrCat("'", absl::CHexEscape(text.substr(0, kShown)), "'");
  if (text.size() > kShown) quoted += "...";
  return quoted;
}

absl::Status ValidateIdentityName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  if (name.size() > kMaxIdentityName) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be at most ", kMaxIdentityName,
                                                   " characters (got ", name.size(), ")"));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", QuoteForError(name), " may use only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDnsName(absl::string_view name, absl::string_view field) {
  constexpr size_t kMaxDnsName = 253;
  constexpr size_t kMaxLabel = 63;
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  if (name.size() > kMaxDnsName) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be at most ", kMaxDnsName,
                                                   " characters (got ", name.size(), ")"));
  }
  if (IpAddress::Parse(name).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", QuoteForError(name), " is an IP address; give it as an IP entry instead"));
  }
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    absl::string_view label =
        name.substr(start, dot == absl::string_view::npos ? absl::string_view::npos : dot - start);
    std::string why;
    if (label.empty()) {
      why = "has an empty label (leading, trailing or doubled '.')";
    } else if (label.size() > kMaxLabel) {
      why = absl::StrCat("has a label longer than ", kMaxLabel, " characters");
    } else if (label.front() == '-' || label.back() == '-') {
      why = "has a label that starts or ends with '-'";
    } else {
      for (char c : label) {
        if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
          why = "may use only letters, digits, '-' and '.' between labels";
          break;
        }
      }
    }
    if (!why.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", QuoteForError(name), " ", why));
    }
    if (dot == absl::string_view::npos) break;
    start = dot + 1;
  }
  return absl::OkStatus();
}

}  // namespace ikeless::pki
