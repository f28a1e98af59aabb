#ifndef IKELESS_CONTROLLER_REQUEST_SHARDS_H_
#define IKELESS_CONTROLLER_REQUEST_SHARDS_H_

// The controller's request loops (issue #16). Every S2/S7/S8/S9 lookup
// concerns one unordered address pair, so the pairs are split over a few
// shards by hash and a shard never shares a row with another: each shard
// is one thread that owns its pairs' requests, in the order they arrived.
// A session hands an admitted request to its pair's shard through a
// mailbox (Submit: a short lock, and a wake-up only when the shard sleeps);
// the shard takes everything queued, has the request processor decide the
// whole batch in one transaction (one commit instead of one per request),
// then delivers the replies. While one batch commits the next one queues,
// so under load batches grow by themselves and at rest a request waits for
// nobody.
//
// Between batches, when its mailbox is empty, a shard lets the store do
// its housekeeping (Options::on_idle): the WAL checkpoint that otherwise
// lands on a commit.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
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
    // Called by a shard between batches when its mailbox is empty; may be
    // empty. Runs on the shard's thread.
    std::function<void()> on_idle;
    // Tests: called with each batch before it is decided, on the shard's
    // thread (which shard, the requests in order).
    std::function<void(size_t, const std::vector<v1::SaRequest>&)> observe_batch;
  };

  RequestShards(Options options, RequestProcessor* processor, Dispatcher* dispatcher);
  // Decides what is queued, then stops the threads.
  ~RequestShards() override;

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
  // One request loop: its mailbox and its thread.
  struct Shard {
    absl::Mutex mu;
    absl::CondVar ready;
    std::vector<Pending> inbox ABSL_GUARDED_BY(mu);
    bool sleeping ABSL_GUARDED_BY(mu) = false;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    uint64_t batches ABSL_GUARDED_BY(mu) = 0;
    uint64_t requests ABSL_GUARDED_BY(mu) = 0;
    std::thread thread;
  };

  void Run(size_t index);
  void Decide(size_t index, std::vector<Pending>& batch);

  const Options options_;
  RequestProcessor* const processor_;
  Dispatcher* const dispatcher_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REQUEST_SHARDS_H_
