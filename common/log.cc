#include "common/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ikeless {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

// logfmt quoting: bare when safe, else double-quoted with escapes. Control
// characters are escaped so that a hostile node name cannot forge lines.
void AppendValue(std::string& out, absl::string_view v) {
  bool bare = !v.empty();
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out.append(v.data(), v.size());
    return;
  }
  out.push_back('"');
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

}  // namespace

void SetMinLogLevel(LogLevel level) { min_level = static_cast<int>(level); }
LogLevel MinLogLevel() { return static_cast<LogLevel>(min_level.load()); }

bool SetMinLogLevelByName(absl::string_view name) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    if (name == LevelName(l)) {
      SetMinLogLevel(l);
      return true;
    }
  }
  return false;
}

LogLine::LogLine(LogLevel level, absl::string_view event)
    : enabled_(static_cast<int>(level) >= min_level.load()) {
  if (!enabled_) return;
  line_ = absl::StrCat("ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                               absl::UTCTimeZone()),
                       " level=", LevelName(level), " event=");
  AppendValue(line_, event);
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_.push_back('\n');
  // One write(2) per line keeps lines whole across threads.
  ssize_t ignored = ::write(STDERR_FILENO, line_.data(), line_.size());
  (void)ignored;
}

LogLine& LogLine::Kv(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  absl::StrAppend(&line_, " ", key, "=");
  AppendValue(line_, value);
  return *this;
}

LogLine& LogLine::Kv(absl::string_view key, int64_t value) {
  if (enabled_) absl::StrAppend(&line_, " ", key, "=", value);
  return *this;
}

LogLine& LogLine::Kv(absl::string_view key, uint64_t value) {
  if (enabled_) absl::StrAppend(&line_, " ", key, "=", value);
  return *this;
}

LogLine& LogLine::Kv(absl::string_view key, bool value) {
  if (enabled_) absl::StrAppend(&line_, " ", key, "=", value ? "true" : "false");
  return *this;
}

}  // namespace ikeless
