// The seam for moving transport encryption off the device's thread: a CryptoJob is one packet's
// AEAD work, prepared by wg::Device, run anywhere (RunCryptoJob), and handed back to the device
// (Device::CompleteCryptoJob). A CryptoExecutor decides where jobs run; crypto_worker.h has one.
#pragma once

#include <cstdint>
#include <memory>

#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::wg {

struct Keypair;

struct CryptoJob {
  enum class Kind : uint8_t { kSeal, kOpen };
  Kind kind = Kind::kSeal;
  bool ok = false;         // set by RunCryptoJob
  bool keepalive = false;  // seal: an empty transport message
  PacketBuffer* buffer = nullptr;
  // The keypair's send (seal) or receive (open) context. The keypair outlives the job: the
  // device retires keypairs through CryptoExecutor::Retire, which keeps them until every job
  // submitted before is complete.
  aead::ChaCha20Poly1305* aead = nullptr;
  const Keypair* keypair = nullptr;
  uint64_t counter = 0;
  uint32_t receiver_index = 0;  // open: the transport header's receiver (our local index)
  uint32_t datagram_size = 0;   // open: the size on the wire
  udp::Endpoint endpoint;       // seal: where it goes; open: where it came from
};

// Seal: buffer = header (16) || plaintext padded || room for the tag: encrypts after the header.
// Open: buffer = ciphertext || tag (the header already trimmed): decrypts in place.
// Sets job.ok. Thread-safe as long as no two threads use one aead context at once.
void RunCryptoJob(CryptoJob& job);

// Where a device's transport crypto runs. All calls come from the device's thread.
class CryptoExecutor {
 public:
  virtual ~CryptoExecutor() = default;
  // True: the device runs this job itself, now (nothing is in flight elsewhere, so order and the
  // one-user-per-aead-context rule hold). False: the device Submit()s it.
  virtual bool RunInline() = 0;
  // Runs the job elsewhere; its completion reaches Device::CompleteCryptoJob on the device's
  // thread, in submission order.
  virtual void Submit(const CryptoJob& job) = 0;
  // Takes a keypair the device no longer uses; destroys it once no submitted job can touch it.
  virtual void Retire(std::unique_ptr<Keypair> keypair) = 0;
};

}  // namespace meshvpn::wg
