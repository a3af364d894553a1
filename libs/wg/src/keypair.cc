#include "meshvpn/wg/keypair.h"

#include <utility>

namespace meshvpn::wg {

KeypairSlots::Dropped KeypairSlots::Install(std::unique_ptr<Keypair> keypair) {
  Dropped dropped;
  if (keypair->we_initiated) {
    dropped.a = std::move(previous_);
    if (next_) {
      previous_ = std::move(next_);
      dropped.b = std::move(current_);
    } else {
      previous_ = std::move(current_);
    }
    current_ = std::move(keypair);
  } else {
    dropped.a = std::move(next_);
    dropped.b = std::move(previous_);
    next_ = std::move(keypair);
  }
  return dropped;
}

bool KeypairSlots::ConfirmNext(const Keypair* keypair, std::unique_ptr<Keypair>* dropped) {
  if (keypair == nullptr || keypair != next_.get()) return false;
  *dropped = std::move(previous_);
  previous_ = std::move(current_);
  current_ = std::move(next_);
  return true;
}

KeypairSlots::Dropped KeypairSlots::ClearAll(std::unique_ptr<Keypair>* third) {
  Dropped dropped;
  dropped.a = std::move(previous_);
  dropped.b = std::move(current_);
  *third = std::move(next_);
  return dropped;
}

}  // namespace meshvpn::wg
