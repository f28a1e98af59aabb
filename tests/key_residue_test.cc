// The running controller's memory holds no copy of the keys it handed out
// (issue #11, point 5; README: "wiped from memory when freed"). Before: a
// core taken 2 s after a setup held three copies of each key (serialized
// SaParameters). The test sets up one association through the controller
// binary, then reads the controller's writable memory (/proc/PID/mem) and
// searches it for both directions' keys.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/scripted_agent.h"
#include "tests/subprocess.h"
#include "tests/test_binaries.h"

namespace ikeless::testing {
namespace {

constexpr char kA[] = "198.18.1.1";
constexpr char kB[] = "198.18.2.1";

// Occurrences of `needle` in every readable, writable mapping of `pid`.
int CountInMemory(pid_t pid, const std::string& needle) {
  std::ifstream maps(absl::StrCat("/proc/", pid, "/maps"));
  const int mem = open(absl::StrCat("/proc/", pid, "/mem").c_str(), O_RDONLY);
  EXPECT_GE(mem, 0) << "cannot read the controller's memory: " << std::strerror(errno);
  if (mem < 0) return -1;
  int found = 0;
  for (std::string line; std::getline(maps, line);) {
    std::vector<std::string> f = absl::StrSplit(line, absl::ByAnyChar(" -"), absl::SkipEmpty());
    if (f.size() < 3 || f[2].substr(0, 2) != "rw") continue;
    const uint64_t start = std::stoull(f[0], nullptr, 16), end = std::stoull(f[1], nullptr, 16);
    // Sanitizer builds reserve terabytes of shadow memory: no heap or stack
    // is that large, and reading it would take hours.
    if (end - start > (uint64_t{1} << 30)) continue;
    // In 1 MiB steps that overlap by the needle's length, so no match is
    // split across two reads.
    constexpr uint64_t kStep = 1 << 20;
    std::string chunk;
    for (uint64_t at = start; at < end; at += kStep) {
      const uint64_t want = std::min<uint64_t>(end - at, kStep + needle.size() - 1);
      chunk.assign(want, '\0');
      ssize_t n = pread(mem, chunk.data(), chunk.size(), static_cast<off_t>(at));
      if (n <= 0) break;
      chunk.resize(static_cast<size_t>(n));
      for (size_t i = 0; (i = chunk.find(needle, i)) != std::string::npos; ++i) {
        if (i < kStep) ++found;  // a match in the overlap is the next step's
      }
    }
  }
  close(mem);
  return found;
}

TEST(KeyResidueTest, ControllerKeepsNoPlainCopyOfHandedOutKeys) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/residue");
  ASSERT_EQ(RunCommand({"/bin/mkdir", "-p", dir}).exit_code, 0);
  // A file database: SA keys at rest are sealed under kek.key (the default).
  auto p = Subprocess::Start({Binaries().controller, "--listen=127.0.0.1:0", "--insecure",
                              "--data_dir=" + dir});
  ASSERT_TRUE(p.ok()) << p.status();
  auto address = p->WaitForLine("listening on ", absl::Seconds(10));
  ASSERT_TRUE(address.has_value());
  // 256-bit keys, searched by 8-byte windows: a freed 16-byte string would
  // have its first 16 bytes overwritten by the allocator and escape a
  // whole-key search.
  ASSERT_EQ(RunCommand({Binaries().ipsecctl, "--controller", *address, "policy", "add", "a-b",
                        "--between", kA, kB, "--encryption", "chacha20-poly1305"})
                .exit_code,
            0);
  // Each direction's key and its successor's (DECISIONS 33).
  std::vector<std::string> keys;
  {
    ScriptedAgent a(*address), b(*address);
    ASSERT_TRUE(a.Hello("gw-a", {kA}));
    ASSERT_TRUE(b.Hello("gw-b", {kB}));
    ASSERT_TRUE(a.Next().has_value());
    ASSERT_TRUE(b.Next().has_value());
    ASSERT_TRUE(a.Request(1, kA, kB, 5100, {5101}));
    ASSERT_TRUE(b.Next().has_value());  // startup
    ASSERT_TRUE(b.Request(2, kB, kA, 6100, {6101}));
    auto d = a.Next();
    ASSERT_TRUE(d.has_value() && d->has_distribution());
    for (const v1::SaParameters& sa : {d->distribution().outbound(), d->distribution().inbound()}) {
      keys.push_back(sa.encryption_key());
      ASSERT_EQ(sa.successors_size(), 1);
      keys.push_back(sa.successors(0).encryption_key());
    }
    ASSERT_TRUE(b.Next().has_value());
  }
  absl::SleepFor(absl::Seconds(2));
  for (size_t k = 0; k < keys.size(); ++k) {
    ASSERT_EQ(keys[k].size(), 32u);
    for (size_t at = 0; at + 8 <= keys[k].size(); at += 8) {
      EXPECT_EQ(CountInMemory(p->pid(), keys[k].substr(at, 8)), 0)
          << "key " << k << " (a->b, its successor, b->a, its successor) bytes " << at;
    }
  }
}

}  // namespace
}  // namespace ikeless::testing
