#include "health/watchdog.h"

namespace sipring::health {

Watchdog::Watchdog(std::vector<Source> sources)
    : sources_(std::move(sources)), last_(sources_.size(), 0) {}

bool Watchdog::Check(std::vector<std::string>* stalled) {
  if (stalled) stalled->clear();
  bool all = true;
  for (size_t i = 0; i < sources_.size(); ++i) {
    const uint64_t now = sources_[i].heartbeat();
    if (!first_ && now == last_[i]) {
      all = false;
      if (stalled) stalled->push_back(sources_[i].name);
    }
    last_[i] = now;
  }
  first_ = false;
  return all;
}

}  // namespace sipring::health
