// ConnectionStack: plaintext straight through, or TLS records between the wire and the core.
#include "meshvpn/http/connection_stack.h"

#include <array>

namespace meshvpn::http {
namespace {
// One TLS record's worth of plaintext per decrypt.
constexpr size_t kPlaintextPiece = 16 * 1024;
}  // namespace

ConnectionStack::ConnectionStack(std::unique_ptr<StreamCore> core, std::unique_ptr<TlsSession> tls)
    : core_(std::move(core)), tls_(std::move(tls)) {
  core_->set_listener(this);
}

ConnectionStack::~ConnectionStack() { core_->set_listener(nullptr); }

void ConnectionStack::Start() {
  if (tls_ == nullptr) return;
  ++depth_;
  tls_->Start();
  Pump();
  --depth_;
}

void ConnectionStack::ReceiveWire(ByteSpan data) {
  ++depth_;
  if (tls_ == nullptr) {
    core_->Receive(data);
  } else {
    tls_->ReceiveCiphertext(data);
    Pump();
  }
  --depth_;
}

void ConnectionStack::ReceiveWireEof() {
  ++depth_;
  if (tls_ != nullptr) Pump();  // plaintext that came with the last records first
  if (!eof_) {
    // Under TLS a FIN without close_notify may be a truncation; the core decides whether the
    // message it was reading is complete.
    eof_ = true;
    core_->ReceiveEof();
  }
  if (tls_ != nullptr) Pump();
  --depth_;
}

std::string_view ConnectionStack::PendingWire() const {
  return tls_ == nullptr ? core_->PendingOutput() : tls_->PendingCiphertext();
}

void ConnectionStack::ConsumeWire(size_t n) {
  ++depth_;
  if (tls_ == nullptr) {
    core_->ConsumeOutput(n);
  } else {
    tls_->ConsumeCiphertext(n);
    Pump();  // room for more records
  }
  --depth_;
}

bool ConnectionStack::WantsRead() const {
  if (aborted_) return false;
  if (tls_ != nullptr) {
    if (tls_->state() == TlsState::kFailed || tls_->state() == TlsState::kPeerClosed) return false;
    if (!tls_->established()) return true;  // handshake records
  }
  return core_->WantsRead();
}

bool ConnectionStack::WantsClose() const {
  if (aborted_) return true;
  if (tls_ == nullptr) return core_->WantsClose();
  if (!tls_->PendingCiphertext().empty()) return false;
  if (tls_->state() == TlsState::kFailed) return true;  // its alert is out
  if (!core_->WantsClose() || !core_->PendingOutput().empty()) return false;
  // The core is done and all of its bytes are encrypted and sent: close_notify went out in
  // Pump (or could not: the handshake never finished).
  return true;
}

std::optional<MonoTime> ConnectionStack::NextExpiry() const {
  if (aborted_) return std::nullopt;
  return core_->NextExpiry();
}

void ConnectionStack::HandleExpiry(MonoTime now) {
  ++depth_;
  core_->HandleExpiry(now);
  if (tls_ != nullptr) Pump();
  --depth_;
}

void ConnectionStack::Abort() {
  if (aborted_) return;
  aborted_ = true;
  ++depth_;
  core_->Abort();
  --depth_;
}

void ConnectionStack::OnCoreActivity() {
  if (depth_ > 0) return;  // the call in progress pumps, and its caller looks at the stack
  ++depth_;
  if (tls_ != nullptr) Pump();
  --depth_;
  if (listener_ != nullptr) listener_->OnCoreActivity();
}

void ConnectionStack::DeliverPlaintext() {
  std::array<uint8_t, kPlaintextPiece> piece;
  while (core_->WantsRead()) {
    const size_t n = tls_->ReadPlaintext(piece);
    if (n == 0) break;
    core_->Receive(ByteSpan(piece.data(), n));
  }
}

void ConnectionStack::Pump() {
  if (tls_ == nullptr || aborted_) return;
  // Each round moves bytes one way or the other; stop when a round moves none.
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    if (tls_->state() != TlsState::kFailed) DeliverPlaintext();
    if (tls_->state() == TlsState::kFailed) {
      if (!tls_failed_reported_) {
        tls_failed_reported_ = true;
        core_->AbortWithError(tls_->error());
      }
      return;
    }
    if (tls_->state() == TlsState::kPeerClosed && !eof_) {
      eof_ = true;
      core_->ReceiveEof();
      moved = true;
    }
    if (tls_->established() || tls_->state() == TlsState::kPeerClosed) {
      while (!core_->PendingOutput().empty() &&
             tls_->PendingCiphertext().size() < kMaxPendingCiphertext) {
        const std::string_view out = core_->PendingOutput();
        const size_t taken = tls_->WritePlaintext(AsBytes(out));
        if (taken == 0) break;
        core_->ConsumeOutput(taken);
        moved = true;
      }
    }
    if (!close_notify_sent_ && core_->WantsClose() && core_->PendingOutput().empty() &&
        tls_->state() != TlsState::kHandshaking) {
      close_notify_sent_ = true;
      tls_->Shutdown();
      moved = true;
    }
    if (!moved) break;
  }
  if (tls_->PendingCiphertext().empty()) tls_->ReleaseBuffers();
}

}  // namespace meshvpn::http
