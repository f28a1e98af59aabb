#include "controller/revocation_list.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ikeless::controller {

std::string RevocationList::Normalize(const std::string& serial_hex) {
  std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(serial_hex));
  size_t first = s.find_first_not_of('0');
  return first == std::string::npos ? "0" : s.substr(first);
}

absl::Status RevocationList::RevokeName(const std::string& name, const std::string& why) {
  if (path_.empty()) {
    return absl::FailedPreconditionError("no revocation file: start the controller with one");
  }
  if (IsNameRevoked(name)) return absl::OkStatus();
  {
    std::ofstream out(path_, std::ios::app);
    out << "node:" << name << "  # " << why << "\n";
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat(path_, ": cannot append"));
  }
  auto reloaded = Reload();
  if (!reloaded.ok()) return reloaded.status();
  // Two writes within one mtime tick look unchanged to Reload: make sure.
  absl::MutexLock l(&mu_);
  names_.insert(name);
  return absl::OkStatus();
}

absl::StatusOr<bool> RevocationList::Reload() {
  if (path_.empty()) return false;
  struct stat st;
  int64_t size = -2;
  absl::Time mtime = absl::InfinitePast();
  if (stat(path_.c_str(), &st) == 0) {
    size = st.st_size;
    mtime = absl::TimeFromTimespec(st.st_mtim);
  }
  {
    absl::MutexLock l(&mu_);
    if (size == seen_size_ && mtime == seen_mtime_) return false;
  }
  absl::flat_hash_set<std::string> serials;
  absl::flat_hash_set<std::string> names;
  if (size >= 0) {
    std::ifstream in(path_);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::string text(absl::StripAsciiWhitespace(line.substr(0, line.find('#'))));
      if (text.empty()) continue;
      if (absl::StartsWith(text, "node:") && text.size() > 5) {
        names.insert(text.substr(5));
        continue;
      }
      if (text.size() > 64 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ":", n, ": not a certificate serial in hex"));
      }
      serials.insert(Normalize(text));
    }
  }
  absl::MutexLock l(&mu_);
  bool changed = serials != serials_ || names != names_;
  serials_ = std::move(serials);
  names_ = std::move(names);
  seen_size_ = size;
  seen_mtime_ = mtime;
  return changed;
}

bool RevocationList::IsRevoked(const std::string& serial_hex) const {
  if (serial_hex.empty()) return false;
  absl::MutexLock l(&mu_);
  return serials_.contains(Normalize(serial_hex));
}

bool RevocationList::IsNameRevoked(const std::string& name) const {
  if (name.empty()) return false;
  absl::MutexLock l(&mu_);
  return names_.contains(name);
}

size_t RevocationList::size() const {
  absl::MutexLock l(&mu_);
  return serials_.size() + names_.size();
}

}  // namespace ikeless::controller
