#include "controller/event_hub.h"

#include <algorithm>

namespace ikeless::controller {

std::vector<v1::Event> EventHub::Subscription::Next(absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(
                           +[](std::deque<v1::Event>* q) { return !q->empty(); }, &queue_),
                       timeout);
  std::vector<v1::Event> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

uint64_t EventHub::Subscription::dropped() const {
  absl::MutexLock l(&mu_);
  return dropped_;
}

void EventHub::Subscription::Push(const v1::Event& e) {
  absl::MutexLock l(&mu_);
  if (queue_.size() >= capacity_) {
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(e);
}

std::shared_ptr<EventHub::Subscription> EventHub::Subscribe() {
  auto s = std::shared_ptr<Subscription>(new Subscription(capacity_));
  absl::MutexLock l(&mu_);
  subscribers_.push_back(s);
  return s;
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscription>& s) {
  absl::MutexLock l(&mu_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s),
                     subscribers_.end());
}

void EventHub::Publish(const std::vector<v1::Event>& events) {
  if (events.empty()) return;
  absl::MutexLock l(&mu_);
  for (const auto& s : subscribers_) {
    for (const v1::Event& e : events) s->Push(e);
  }
}

void EventHub::Publish(const v1::Event& event) { Publish(std::vector<v1::Event>{event}); }

}  // namespace ikeless::controller
