#ifndef IKELESS_CONTROLLER_REQUEST_SHARDS_H_
#define IKELESS_CONTROLLER_REQUEST_SHARDS_H_

// The controller's request loops (issue #16). Every S2/S7/S8/S9 lookup
// concerns one unordered address pair, so the pairs are split over a few
// shards by hash: the rows a shard decides about are its own. (Not all it
// reads: the half-open count of S22's cap spans every peer of a node, and
// row ids come from one sequence; with SQLite, whose transactions are
// serialized anyway, that costs nothing, but a backend with concurrent
// transactions must keep both consistent, issue #15.) A session
// hands an admitted request to its pair's shard (Submit), where it joins
// the shard's queue. One thread at a time decides a shard's queue, in
// order: it takes everything queued, has the request processor decide the
// whole batch in one transaction (one commit instead of one per request),
// delivers the replies, and goes on until the queue is empty. While it
// commits, the next batch queues (other threads only append and return),
// so under load batches grow by themselves.
//
// Who decides: at rest, the thread that submitted, at once (no hand-off,
// no wake-up: the request is decided on the gRPC thread that read it).
// After a few batches without the queue running empty, that thread hands
// the loop to the shard's own thread and goes back to reading its stream,
// whose next message would otherwise wait for the whole busy spell.
// Measured (BENCHMARKS.md § 2, DECISIONS 36).
//
// Submit returns before the request is decided, so a stream reads its next
// message meanwhile: replies on one stream may come in another order than
// the requests (agents match them by request id), and a stream that closes
// right after a request may miss its reply (the agent resends it on its
// next stream, S43 -> S5, as after any disconnect). A shard's queue is
// bounded: beyond Options::max_queued a request is refused at once with
// RESOURCE_EXHAUSTED, which the agent's resends outlast.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/log_limiter.h"
#include "controller/dispatcher.h"
#include "controller/request_processor.h"
#include "controller/request_sink.h"

namespace ikeless::controller {

class RequestShards final : public RequestSink {
 public:
  struct Options {
    size_t shards = 1;
    // Requests decided in one transaction at most; the rest wait for the
    // next batch (bounds the time one commit holds the store).
    size_t max_batch = 512;
    // Requests one shard holds undecided at most (a fleet reconnecting at
    // once, each node with its whole request burst).
    size_t max_queued = 8192;
    // Batches a submitting thread decides before it hands a busy shard to
    // the shard's thread; 0: it decides until the queue is empty.
    size_t inline_batches = 4;
    // Tests: called with each batch before it is decided, on the loop's
    // thread (which shard, the requests in order).
    std::function<void(size_t, const std::vector<v1::SaRequest>&)> observe_batch;
  };

  RequestShards(Options options, RequestProcessor* processor, Dispatcher* dispatcher);
  // Waits for the threads deciding inline, decides what is queued, then
  // stops the shards' threads. Submit must not be called any more.
  ~RequestShards() override;

  // Returns once the request is queued, or, if this thread decided the
  // shard's queue, once it is empty or handed to the shard's thread.
  void Submit(v1::SaRequest request, std::shared_ptr<AgentSession> from) override;

  // The shard that owns the unordered pair {a, b}: the same for (a, b) and
  // (b, a), and for every spelling of the two addresses.
  size_t ShardOf(absl::string_view a, absl::string_view b) const;
  size_t size() const { return shards_.size(); }

  // Batches and requests decided so far, over all shards (for the log and
  // the benchmark's commits-per-setup check).
  struct Counts {
    uint64_t batches = 0;
    uint64_t requests = 0;
  };
  Counts counts() const;

 private:
  struct Pending {
    v1::SaRequest request;
    std::shared_ptr<AgentSession> from;
  };
  // One shard: its queue, who decides it, and its own thread for busy
  // spells.
  struct Shard {
    absl::Mutex mu;
    absl::CondVar handed_over;
    std::vector<Pending> queue ABSL_GUARDED_BY(mu);
    bool deciding ABSL_GUARDED_BY(mu) = false;  // some thread owns the loop
    bool thread_owns ABSL_GUARDED_BY(mu) = false;  // ... and it is `thread`
    bool stopping ABSL_GUARDED_BY(mu) = false;
    absl::CondVar released;  // deciding became false
    uint64_t batches ABSL_GUARDED_BY(mu) = 0;
    uint64_t requests ABSL_GUARDED_BY(mu) = 0;
    std::thread thread;
  };

  // Decides batches while the caller owns the shard's loop: until the queue
  // is empty (then gives the loop up and returns true), or until
  // `max_batches` were decided with more waiting (0 = no limit; returns
  // false, still owner).
  bool Drain(size_t index, size_t max_batches);
  // The shard's thread: waits for a hand-over, drains, repeats.
  void Run(size_t index);
  void Decide(size_t index, std::vector<Pending>& batch);
  // One request in a transaction of its own; UNAVAILABLE to its sender if
  // storage fails it.
  void DecideAlone(const v1::SaRequest& request, const std::shared_ptr<AgentSession>& from);
  // An error to the sender; UNAVAILABLE's `message` (storage's) is logged,
  // the agent hears only "retry".
  void Refuse(const v1::SaRequest& request, const std::shared_ptr<AgentSession>& from,
              v1::SetupError::Code code, std::string message);

  const Options options_;
  RequestProcessor* const processor_;
  Dispatcher* const dispatcher_;
  std::vector<std::unique_ptr<Shard>> shards_;
  // request_failed and shard_queue_full lines: a few a second, with counts.
  LogLimiter log_limiter_{5, std::chrono::seconds(1)};
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REQUEST_SHARDS_H_
