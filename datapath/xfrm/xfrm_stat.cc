#include "datapath/xfrm/xfrm_stat.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace ikeless::datapath {

DropCounts ParseXfrmStat(absl::string_view text) {
  static const auto* kReason = new std::map<std::string, std::string, std::less<>>{
      {"XfrmInStateProtoError", "integrity"},  // ICV/AEAD check failed
      {"XfrmInStateSeqError", "replay"},
      {"XfrmInHdrError", "malformed"},
      {"XfrmInNoStates", "no_sa"},
      {"XfrmOutNoStates", "no_sa"},
      {"XfrmInTmplMismatch", "policy_mismatch"},
      {"XfrmInNoPols", "no_policy"},
      {"XfrmInPolBlock", "discard"},
      {"XfrmOutPolBlock", "discard"},
      {"XfrmOutStateSeqError", "seq_exhausted"},
      {"XfrmInStateExpired", "expired"},
      {"XfrmOutStateExpired", "expired"},
  };
  DropCounts out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint64_t value = 0;
    if (f.size() != 2 || !absl::SimpleAtoi(f[1], &value)) continue;
    auto it = kReason->find(f[0]);
    out[it != kReason->end() ? it->second : "other"] += value;
  }
  return out;
}

DropCounts ReadXfrmStat() {
  std::ifstream in("/proc/net/xfrm_stat");
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return ParseXfrmStat(text.str());
}

}  // namespace ikeless::datapath
