#include "controller/request_shards.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
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
  // Started once every shard exists: Submit may pick any of them.
  for (size_t i = 0; i < n; ++i) shards_[i]->thread = std::thread([this, i] { Run(i); });
}

RequestShards::~RequestShards() {
  for (auto& s : shards_) {
    absl::MutexLock l(&s->mu);
    s->stopping = true;
    s->ready.Signal();
  }
  for (auto& s : shards_) s->thread.join();
}

size_t RequestShards::ShardOf(absl::string_view a, absl::string_view b) const {
  std::string x = Canonical(a), y = Canonical(b);
  if (y < x) std::swap(x, y);
  return absl::HashOf(x, y) % shards_.size();
}

void RequestShards::Submit(v1::SaRequest request, std::shared_ptr<AgentSession> from) {
  Shard& s = *shards_[ShardOf(request.source(), request.peer())];
  bool wake = false;
  {
    absl::MutexLock l(&s.mu);
    s.inbox.push_back(Pending{std::move(request), std::move(from)});
    // One wake-up per batch: the requests that follow find it awake.
    wake = s.sleeping;
    s.sleeping = false;
  }
  if (wake) s.ready.Signal();
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

void RequestShards::Run(size_t index) {
  Shard& s = *shards_[index];
  std::vector<Pending> batch;
  bool idle_work = false;  // a batch was decided since the last on_idle
  for (;;) {
    {
      absl::MutexLock l(&s.mu);
      while (s.inbox.empty() && !s.stopping) {
        if (idle_work && options_.on_idle) {
          idle_work = false;
          s.mu.Unlock();
          options_.on_idle();
          s.mu.Lock();
          continue;  // requests may have come meanwhile
        }
        s.sleeping = true;
        s.ready.Wait(&s.mu);
        s.sleeping = false;
      }
      if (s.inbox.empty()) return;  // stopping, and nothing left to decide
      if (s.inbox.size() <= options_.max_batch || options_.max_batch == 0) {
        batch.swap(s.inbox);
      } else {
        auto end = s.inbox.begin() + static_cast<std::ptrdiff_t>(options_.max_batch);
        batch.assign(std::make_move_iterator(s.inbox.begin()), std::make_move_iterator(end));
        s.inbox.erase(s.inbox.begin(), end);
      }
      ++s.batches;
      s.requests += batch.size();
    }
    Decide(index, batch);
    batch.clear();
    idle_work = true;
  }
}

void RequestShards::Decide(size_t index, std::vector<Pending>& batch) {
  std::vector<v1::SaRequest> requests;
  requests.reserve(batch.size());
  for (Pending& p : batch) requests.push_back(std::move(p.request));
  if (options_.observe_batch) options_.observe_batch(index, requests);
  auto out = processor_->HandleBatch(requests);
  if (out.ok()) {
    dispatcher_->Deliver(*out);
    return;
  }
  // The batch rolled back. One by one, so that a request storage refuses
  // fails alone; each that still fails is told to retry.
  for (size_t i = 0; i < requests.size(); ++i) {
    auto one = batch.size() == 1 ? std::move(out) : processor_->HandleRequest(requests[i]);
    if (one.ok()) {
      dispatcher_->Deliver(*one);
      continue;
    }
    const std::string& node = batch[i].from != nullptr ? batch[i].from->node_name() : "";
    LogError("request_failed").Kv("node", node).Kv("error", one.status().message());
    if (batch[i].from != nullptr) {
      batch[i].from->Send(ErrorFor(requests[i], v1::SetupError::UNAVAILABLE,
                                   "controller storage unavailable; retry"));
    }
  }
}

}  // namespace ikeless::controller
