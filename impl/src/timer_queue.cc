#include "netutil/timer_queue.h"

namespace netutil {

TimerQueue::TimerId TimerQueue::Add(std::chrono::nanoseconds now, std::chrono::nanoseconds delay,
                                    std::function<void()> fn) {
  if (delay < std::chrono::nanoseconds::zero()) delay = std::chrono::nanoseconds::zero();
  const TimerId id = next_id_++;
  const auto when =
      now > std::chrono::nanoseconds::max() - delay ? std::chrono::nanoseconds::max() : now + delay;
  by_deadline_.emplace(std::make_pair(when, id), std::move(fn));
  deadline_of_[id] = when;
  return id;
}

void TimerQueue::Cancel(TimerId id) {
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return;
  by_deadline_.erase(std::make_pair(it->second, id));
  deadline_of_.erase(it);
}

std::optional<TimerQueue::Due> TimerQueue::PopDue(std::chrono::nanoseconds until) {
  if (by_deadline_.empty() || by_deadline_.begin()->first.first > until) return std::nullopt;
  auto node = by_deadline_.extract(by_deadline_.begin());
  deadline_of_.erase(node.key().second);
  return Due{node.key().first, std::move(node.mapped())};
}

std::optional<std::chrono::nanoseconds> TimerQueue::next_deadline() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first.first;
}

}  // namespace netutil
