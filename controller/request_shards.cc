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
  for (size_t i = 0; i < n; ++i) shards_[i]->thread = std::thread([this, i] { Run(i); });
}

RequestShards::~RequestShards() {
  for (auto& s : shards_) {
    absl::MutexLock l(&s->mu);
    s->stopping = true;
    s->handed_over.Signal();
  }
  for (auto& s : shards_) s->thread.join();
}

size_t RequestShards::ShardOf(absl::string_view a, absl::string_view b) const {
  std::string x = Canonical(a), y = Canonical(b);
  if (y < x) std::swap(x, y);
  return absl::HashOf(x, y) % shards_.size();
}

void RequestShards::Submit(v1::SaRequest request, std::shared_ptr<AgentSession> from) {
  const size_t index = ShardOf(request.source(), request.peer());
  Shard& s = *shards_[index];
  {
    absl::MutexLock l(&s.mu);
    s.queue.push_back(Pending{std::move(request), std::move(from)});
    if (s.deciding) return;  // the shard's loop takes it with its next batch
    s.deciding = true;
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
  for (size_t decided = 0; max_batches == 0 || decided < max_batches; ++decided) {
    {
      absl::MutexLock l(&s.mu);
      if (s.queue.empty()) {
        s.deciding = false;  // the next Submit starts the loop again
        s.thread_owns = false;
        return true;
      }
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
  return false;
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
