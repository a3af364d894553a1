#include "meshvpn/wg/crypto_job.h"

#include "meshvpn/wg/messages.h"

namespace meshvpn::wg {

void RunCryptoJob(CryptoJob& job) {
  if (job.kind == CryptoJob::Kind::kSeal) {
    const MutableByteSpan sealed = job.buffer->span().subspan(transport::kHeaderSize);
    job.ok = sealed.size() >= kAeadTagSize &&
             job.aead->SealCounter(job.counter, {}, sealed, sealed.size() - kAeadTagSize) ==
                 aead::AeadResult::kOk;
  } else {
    job.ok = job.aead->OpenCounter(job.counter, {}, job.buffer->span()) == aead::AeadResult::kOk;
  }
}

}  // namespace meshvpn::wg
