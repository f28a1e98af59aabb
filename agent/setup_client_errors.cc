// The setup client's answer to the controller's SetupError (FIG. 19
// S47-S49, FIG. 20 S58-S60), code by code: CONFLICT re-chooses id and SPI
// (S48), UNAVAILABLE lets the resends go on, the rest end the setup.
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/setup_client.h"
#include "common/log.h"

namespace ikeless::agent {

SetupOutput SetupClient::OnError(const v1::SetupError& error) {
  SetupOutput out;
  auto it = FindByRequestId(error.request_id());
  if (it == setups_.end()) {
    LogDebug("setup_error_ignored")
        .Kv("request_id", error.request_id())
        .Kv("code", v1::SetupError::Code_Name(error.code()));
    return out;
  }
  Setup& s = it->second;
  switch (error.code()) {
    case v1::SetupError::CONFLICT: {
      // S47 -> S48: the controller holds rows from an earlier life of this
      // node; choose id and SPI outside its entry list and ask afresh.
      if (s.conflict_rounds >= options_.max_conflict_rounds) {
        out.results.push_back(Fail(it,
                                   absl::AbortedError(absl::StrCat(
                                       "CONFLICT ", s.conflict_rounds + 1,
                                       " times: ", error.message())),
                                   error.code()));
        return out;
      }
      std::set<uint64_t> ids;
      std::set<uint32_t> spis;
      for (const v1::SetupError::Entry& entry : error.entries()) {
        ids.insert(entry.id());
        spis.insert(entry.spi());
      }
      const uint32_t old_spi = s.spi;
      std::optional<uint32_t> spi = NewSpi(spis);
      if (!spi) {
        out.results.push_back(Fail(it, absl::ResourceExhaustedError("no free SPI"), error.code()));
        return out;
      }
      spis_in_use_.erase(old_spi);
      const uint64_t old_id = s.request_id;
      s.spi = *spi;
      s.request_id = NewRequestId(ids);
      ++s.conflict_rounds;
      s.attempts = 1;  // a fresh request: its own six tries
      s.next_send = clock_->Monotonic() + options_.resend_interval;
      LogInfo("setup_conflict")
          .Kv("entry", it->first)
          .Kv("old_request_id", old_id)
          .Kv("request_id", s.request_id)
          .Kv("spi", s.spi)
          .Kv("listed", static_cast<uint64_t>(error.entries_size()))
          .Kv("round", s.conflict_rounds);
      out.requests.push_back(RequestFor(it->first, s));
      return out;
    }
    case v1::SetupError::RESOURCE_EXHAUSTED:
      // A limit of the controller's (this node's request rate, its
      // unanswered associations, rows per pair) that frees up with time:
      // the resends go on, on their normal schedule (S43), as for
      // UNAVAILABLE; only the last one failing ends the setup.
      LogInfo("setup_controller_busy")
          .Kv("entry", it->first)
          .Kv("request_id", s.request_id)
          .Kv("message", error.message());
      return out;
    case v1::SetupError::UNAVAILABLE:
      // The controller could not process it now: the resends go on.
      LogInfo("setup_controller_unavailable")
          .Kv("entry", it->first)
          .Kv("request_id", s.request_id)
          .Kv("message", error.message());
      return out;
    case v1::SetupError::NO_POLICY:  // S47 -> S49 (S58/S60)
      out.results.push_back(
          Fail(it, absl::NotFoundError(absl::StrCat("NO_POLICY: ", error.message())), error.code()));
      return out;
    case v1::SetupError::PEER_UNREACHABLE:  // S47 -> S49 (S58/S60)
      out.results.push_back(Fail(
          it, absl::UnavailableError(absl::StrCat("PEER_UNREACHABLE: ", error.message())),
          error.code()));
      return out;
    case v1::SetupError::INVALID_ARGUMENT:
      // Our request was malformed: a bug or a bad SPD; resending won't help.
      LogError("setup_rejected")
          .Kv("entry", it->first)
          .Kv("code", "INVALID_ARGUMENT")
          .Kv("message", error.message());
      out.results.push_back(
          Fail(it, absl::InvalidArgumentError(error.message()), error.code()));
      return out;
    case v1::SetupError::PERMISSION_DENIED:
      // The controller does not let this node speak for the source address.
      LogError("setup_rejected")
          .Kv("entry", it->first)
          .Kv("code", "PERMISSION_DENIED")
          .Kv("message", error.message());
      out.results.push_back(
          Fail(it, absl::PermissionDeniedError(error.message()), error.code()));
      return out;
    default:
      LogError("setup_rejected")
          .Kv("entry", it->first)
          .Kv("code", static_cast<int64_t>(error.code()))
          .Kv("message", error.message());
      out.results.push_back(Fail(
          it, absl::UnknownError(absl::StrCat("error code ", error.code(), ": ", error.message())),
          error.code()));
      return out;
  }
}

}  // namespace ikeless::agent
