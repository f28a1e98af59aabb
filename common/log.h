#ifndef IKELESS_COMMON_LOG_H_
#define IKELESS_COMMON_LOG_H_

// Structured logging: one logfmt line per event on stderr,
//   ts=2026-11-27T03:56:53.123456Z level=info event=startup_sent peer=198.18.0.2
// Callers pass only values that are safe to print; key material has no
// overload here on purpose (SaParameters, Distribution cannot be logged).

#include <cstdint>
#include <sstream>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/strings/string_view.h"

namespace ikeless {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below this level are dropped. Default kInfo.
void SetMinLogLevel(LogLevel level);
// "debug", "info", "warning" or "error"; false (nothing changed) otherwise.
bool SetMinLogLevelByName(absl::string_view name);
LogLevel MinLogLevel();

// Builds one line and writes it, whole, when destroyed.
class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Kv(absl::string_view key, absl::string_view value);
  LogLine& Kv(absl::string_view key, const char* value) {
    return Kv(key, absl::string_view(value));
  }
  LogLine& Kv(absl::string_view key, const std::string& value) {
    return Kv(key, absl::string_view(value));
  }
  LogLine& Kv(absl::string_view key, int64_t value);
  LogLine& Kv(absl::string_view key, uint64_t value);
  LogLine& Kv(absl::string_view key, int value) { return Kv(key, int64_t{value}); }
  LogLine& Kv(absl::string_view key, unsigned value) { return Kv(key, uint64_t{value}); }
  LogLine& Kv(absl::string_view key, long long value) { return Kv(key, int64_t(value)); }
  LogLine& Kv(absl::string_view key, unsigned long long value) { return Kv(key, uint64_t(value)); }
  LogLine& Kv(absl::string_view key, bool value);

 private:
  bool enabled_;
  std::string line_;
};

inline LogLine LogInfo(absl::string_view event) { return LogLine(LogLevel::kInfo, event); }
inline LogLine LogWarning(absl::string_view event) { return LogLine(LogLevel::kWarning, event); }
inline LogLine LogError(absl::string_view event) { return LogLine(LogLevel::kError, event); }
inline LogLine LogDebug(absl::string_view event) { return LogLine(LogLevel::kDebug, event); }

}  // namespace ikeless

#endif  // IKELESS_COMMON_LOG_H_
