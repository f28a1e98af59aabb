#ifndef IKELESS_CONTROLLER_EVENT_HUB_H_
#define IKELESS_CONTROLLER_EVENT_HUB_H_

// Fans controller events out to `ipsecctl watch` subscribers. Each
// subscriber has a bounded queue; a slow one loses its oldest events (and is
// told how many) rather than slowing the controller down.

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/admin.pb.h"

namespace ikeless::controller {

class EventHub {
 public:
  // One watcher's queue.
  class Subscription {
   public:
    // Waits up to `timeout` for events; returns them (possibly none).
    std::vector<v1::Event> Next(absl::Duration timeout);
    // Events dropped because the queue was full.
    uint64_t dropped() const;

   private:
    friend class EventHub;
    explicit Subscription(size_t capacity) : capacity_(capacity) {}
    void Push(const v1::Event& e);

    const size_t capacity_;
    mutable absl::Mutex mu_;
    std::deque<v1::Event> queue_ ABSL_GUARDED_BY(mu_);
    uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  };

  explicit EventHub(size_t capacity_per_subscriber = 4096)
      : capacity_(capacity_per_subscriber) {}

  std::shared_ptr<Subscription> Subscribe();
  void Unsubscribe(const std::shared_ptr<Subscription>& s);
  void Publish(const std::vector<v1::Event>& events);
  void Publish(const v1::Event& event);

 private:
  const size_t capacity_;
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Subscription>> subscribers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_EVENT_HUB_H_
