// Private to the server core: one connection's state and its packet queues.
#pragma once

#include <cstdlib>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/server_core.h"

namespace meshvpn::derp {

// A RecvPacket frame waiting for its client, allocated in one piece with its list link.
struct QueuedPacket {
  QueuedPacket* next;
  MonoTime enqueued;
  uint32_t payload_len;  // the packet's bytes (the frame adds the header and the source key)
  uint32_t frame_len;
  // The frame follows.
  uint8_t* frame() { return reinterpret_cast<uint8_t*>(this + 1); }

  static QueuedPacket* Make(const PublicKey& src, ByteSpan packet, MonoTime now);
  static void Free(QueuedPacket* p) { std::free(p); }
};

// A FIFO of queued packets: two pointers and a count, no storage while empty (an idle client
// costs nothing here).
class PacketList {
 public:
  PacketList() = default;
  PacketList(const PacketList&) = delete;
  PacketList& operator=(const PacketList&) = delete;
  ~PacketList() { Clear(); }

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  void Push(QueuedPacket* p);
  QueuedPacket* Pop();  // the caller frees it
  void Clear();

 private:
  QueuedPacket* head_ = nullptr;
  QueuedPacket* tail_ = nullptr;
  size_t size_ = 0;
};

// A token bucket over the core's clock (bytes, or frames for the peer-gone limiter).
struct TokenBucket {
  double tokens = 0;
  MonoTime at{};
  // Refills at `rate` per second up to `burst`, then takes `n` if there are that many.
  bool Take(MonoTime now, double rate, double burst, double n);
};

struct ServerCore::Conn {
  enum class State : uint8_t { kHandshake, kActive };

  ConnId id = 0;
  State state = State::kHandshake;
  bool not_ideal = false;
  bool can_mesh = false;
  bool preferred = false;
  bool watcher = false;
  bool closed = false;        // Close()d while OnData was working on it
  bool slow_reader = false;   // control output past its bound: closed at the next expiry
  bool pong_pending = false;  // one unsent pong at most (derpserver.go sendPongCh has room for 1)
  uint32_t timer_generation = 0;
  PeerEndpoint remote;
  PublicKey key;
  ClientInfo info;
  MonoTime connected_at{};
  Duration keepalive_period{};
  FrameReader reader{kMaxClientInfoFrameLen};
  std::string control;  // whole control frames not yet taken by the driver
  PacketList disco;     // disco packets, queued apart so data cannot crowd them out
  PacketList other;
  TokenBucket rate;
  TokenBucket not_here;                    // PeerGone(NotHere) replies: 3, then one a second
  absl::flat_hash_set<PublicKey> saw_src;  // keys this client received packets from
};

}  // namespace meshvpn::derp
