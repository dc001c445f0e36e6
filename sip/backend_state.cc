#include "sip/backend_state.h"

namespace sipring::sip {

std::string_view BackendStateName(BackendState s) {
  static constexpr std::string_view kNames[kBackendStateCount] = {"probing", "up", "down",
                                                                  "draining"};
  return kNames[static_cast<size_t>(s)];
}

BackendStates::BackendStates(size_t backends)
    : size_(backends), states_(new std::atomic<uint8_t>[backends]) {
  for (size_t i = 0; i < size_; ++i) {
    states_[i].store(static_cast<uint8_t>(BackendState::kProbing), std::memory_order_relaxed);
  }
}

void BackendStates::Publish(size_t i, BackendState s) {
  states_[i].store(static_cast<uint8_t>(s), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
}

void BackendStates::CopyEligible(std::vector<uint8_t>* new_work,
                                 std::vector<uint8_t>* dialogs) const {
  for (size_t i = 0; i < size_; ++i) {
    const BackendState s = Get(i);
    (*new_work)[i] = TakesNewWork(s) ? 1 : 0;
    (*dialogs)[i] = TakesDialogs(s) ? 1 : 0;
  }
}

}  // namespace sipring::sip
