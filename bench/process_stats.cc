#include "bench/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ikeless::bench {
namespace {

std::string ProcPath(pid_t pid, const char* file) {
  return pid == 0 ? absl::StrCat("/proc/self/", file) : absl::StrCat("/proc/", pid, "/", file);
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The number after `key` (e.g. "VmRSS:") in /proc/PID/status.
absl::StatusOr<int64_t> StatusField(pid_t pid, absl::string_view key) {
  const std::string path = ProcPath(pid, "status");
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (!absl::ConsumePrefix(&line, key)) continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    int64_t value = 0;
    if (!words.empty() && absl::SimpleAtoi(words[0], &value)) return value;
  }
  return absl::NotFoundError(absl::StrCat(path, ": no ", key));
}

}  // namespace

absl::StatusOr<CpuTimes> ProcessCpuTimes(pid_t pid) {
  const std::string path = ProcPath(pid, "stat");
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  // The command name may contain spaces; fields are counted after its ')'.
  size_t paren = text->rfind(')');
  if (paren == std::string::npos) return absl::InternalError(path + ": unexpected format");
  std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(*text).substr(paren + 1), ' ', absl::SkipWhitespace());
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  uint64_t utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) || !absl::SimpleAtoi(f[12], &stime)) {
    return absl::InternalError(path + ": unexpected format");
  }
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return CpuTimes{static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

absl::StatusOr<double> CpuSeconds(pid_t pid) {
  auto t = ProcessCpuTimes(pid);
  if (!t.ok()) return t.status();
  return t->user + t->system;
}

absl::StatusOr<int64_t> ResidentBytes(pid_t pid) {
  auto kb = StatusField(pid, "VmRSS:");
  if (!kb.ok()) return kb.status();
  return *kb * 1024;
}

absl::StatusOr<int> ThreadCount(pid_t pid) {
  auto n = StatusField(pid, "Threads:");
  if (!n.ok()) return n.status();
  return static_cast<int>(*n);
}

absl::StatusOr<int> OpenFdCount(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (std::filesystem::directory_iterator it(ProcPath(pid, "fd"), ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  if (ec) return absl::InternalError(absl::StrCat(ProcPath(pid, "fd"), ": ", ec.message()));
  return n;
}

absl::StatusOr<uint64_t> RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("getrlimit: ", std::strerror(errno)));
  }
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("setrlimit: ", std::strerror(errno)));
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

}  // namespace ikeless::bench
