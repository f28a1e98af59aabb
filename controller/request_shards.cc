#include "controller/request_shards.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/address.h"
#include "common/log.h"

namespace ikeless::controller {
namespace {

// The canonical text of an address, or the text itself when it does not
// parse (the processor rejects such a request; any shard may do that).
std::string Canonical(absl::string_view address) {
  auto parsed = IpAddress::Parse(address);
  return parsed.ok() ? parsed->ToString() : std::string(address);
}

}  // namespace

RequestShards::RequestShards(Options options, RequestProcessor* processor,
                             Dispatcher* dispatcher)
    : options_(std::move(options)), processor_(processor), dispatcher_(dispatcher) {
  const size_t n = std::max<size_t>(1, options_.shards);
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
  for (size_t i = 0; i < n; ++i) shards_[i]->thread = std::thread([this, i] { Run(i); });
}

RequestShards::~RequestShards() {
  for (auto& s : shards_) {
    absl::MutexLock l(&s->mu);
    // A thread deciding inline still uses the shard: let it finish.
    while (s->deciding && !s->thread_owns) s->released.Wait(&s->mu);
    s->stopping = true;
    s->handed_over.Signal();
  }
  for (auto& s : shards_) s->thread.join();
}

size_t RequestShards::ShardOf(absl::string_view a, absl::string_view b) const {
  if (shards_.size() == 1) return 0;
  std::string x = Canonical(a), y = Canonical(b);
  if (y < x) std::swap(x, y);
  return absl::HashOf(x, y) % shards_.size();
}

void RequestShards::Submit(v1::SaRequest request, std::shared_ptr<AgentSession> from) {
  const size_t index = ShardOf(request.source(), request.peer());
  Shard& s = *shards_[index];
  size_t queued = 0;
  {
    absl::MutexLock l(&s.mu);
    queued = s.queue.size();
    if (queued < options_.max_queued || options_.max_queued == 0) {
      s.queue.push_back(Pending{std::move(request), std::move(from)});
      if (s.deciding) return;  // the shard's loop takes it with its next batch
      s.deciding = true;
      queued = 0;
    }
  }
  if (queued != 0) {
    if (auto held = log_limiter_.Admit("shard_queue_full", std::chrono::steady_clock::now())) {
      LogWarning("shard_queue_full").Kv("shard", uint64_t{index}).Kv("queued", uint64_t{queued})
          .Kv("suppressed", *held);
    }
    Refuse(request, from, v1::SetupError::RESOURCE_EXHAUSTED,
           absl::StrCat("controller busy: ", queued, " requests wait to be decided; retry"));
    return;
  }
  if (Drain(index, options_.inline_batches)) return;
  // A busy spell: the shard's thread goes on; this one goes back to its
  // stream.
  absl::MutexLock l(&s.mu);
  s.thread_owns = true;
  s.handed_over.Signal();
}

RequestShards::Counts RequestShards::counts() const {
  Counts c;
  for (const auto& s : shards_) {
    absl::MutexLock l(&s->mu);
    c.batches += s->batches;
    c.requests += s->requests;
  }
  return c;
}

bool RequestShards::Drain(size_t index, size_t max_batches) {
  Shard& s = *shards_[index];
  std::vector<Pending> batch;
  for (size_t decided = 0;; ++decided) {
    {
      absl::MutexLock l(&s.mu);
      if (s.queue.empty()) {
        s.deciding = false;  // the next Submit starts the loop again
        s.thread_owns = false;
        s.released.SignalAll();
        return true;
      }
      // Handed over only while more waits: the thread never wakes for
      // nothing.
      if (max_batches != 0 && decided == max_batches) return false;
      if (s.queue.size() <= options_.max_batch || options_.max_batch == 0) {
        batch.swap(s.queue);
      } else {
        auto end = s.queue.begin() + static_cast<std::ptrdiff_t>(options_.max_batch);
        batch.assign(std::make_move_iterator(s.queue.begin()), std::make_move_iterator(end));
        s.queue.erase(s.queue.begin(), end);
      }
      ++s.batches;
      s.requests += batch.size();
    }
    Decide(index, batch);
    batch.clear();
  }
}

void RequestShards::Run(size_t index) {
  Shard& s = *shards_[index];
  for (;;) {
    {
      absl::MutexLock l(&s.mu);
      while (!s.thread_owns && !s.stopping) s.handed_over.Wait(&s.mu);
      if (!s.thread_owns) return;  // stopping, and no busy spell to finish
    }
    Drain(index, 0);
  }
}

void RequestShards::Decide(size_t index, std::vector<Pending>& batch) {
  std::vector<v1::SaRequest> requests;
  requests.reserve(batch.size());
  for (Pending& p : batch) requests.push_back(std::move(p.request));
  if (options_.observe_batch) options_.observe_batch(index, requests);
  // The batch, or if storage fails on one request, the ones before it as a
  // batch, that one alone, and the rest as a batch again: a request that
  // keeps failing (a row storage cannot read, say) costs its own
  // transaction, not its whole batch's.
  for (size_t begin = 0; begin < requests.size();) {
    const absl::Span<const v1::SaRequest> rest =
        absl::MakeConstSpan(requests).subspan(begin);
    size_t failed = rest.size();
    auto out = processor_->HandleBatch(rest, &failed);
    if (out.ok()) {
      dispatcher_->Deliver(*out);
      return;
    }
    if (rest.size() == 1) {
      Refuse(requests[begin], batch[begin].from, v1::SetupError::UNAVAILABLE,
             std::string(out.status().message()));
      return;
    }
    if (failed >= rest.size()) {
      // The commit failed: nobody to blame, each alone.
      for (size_t i = begin; i < batch.size(); ++i) DecideAlone(requests[i], batch[i].from);
      return;
    }
    if (failed > 0) {
      auto prefix = processor_->HandleBatch(rest.subspan(0, failed));
      if (prefix.ok()) {
        dispatcher_->Deliver(*prefix);
      } else {
        for (size_t i = begin; i < begin + failed; ++i) DecideAlone(requests[i], batch[i].from);
      }
    }
    DecideAlone(requests[begin + failed], batch[begin + failed].from);
    begin += failed + 1;
  }
}

void RequestShards::DecideAlone(const v1::SaRequest& request,
                                const std::shared_ptr<AgentSession>& from) {
  auto out = processor_->HandleRequest(request);
  if (out.ok()) {
    dispatcher_->Deliver(*out);
    return;
  }
  Refuse(request, from, v1::SetupError::UNAVAILABLE, std::string(out.status().message()));
}

void RequestShards::Refuse(const v1::SaRequest& request,
                           const std::shared_ptr<AgentSession>& from, v1::SetupError::Code code,
                           std::string message) {
  if (code == v1::SetupError::UNAVAILABLE) {
    // The storage error goes to the log, not to the agent.
    const std::string node = from != nullptr ? from->node_name() : "";
    if (auto held = log_limiter_.Admit("request_failed", std::chrono::steady_clock::now())) {
      LogError("request_failed").Kv("node", node).Kv("error", message).Kv("suppressed", *held);
    }
    message = "controller storage unavailable; retry";
  }
  if (from != nullptr) from->Send(ErrorFor(request, code, message));
}

}  // namespace ikeless::controller
