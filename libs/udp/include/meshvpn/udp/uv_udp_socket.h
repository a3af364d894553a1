// UdpSocket: one non-blocking UDP socket on a libuv loop that receives with recvmmsg(2) into pool
// buffers and sends with sendmmsg(2), in batches of up to 128, without allocating per packet.
#pragma once

#include <uv.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>

#include "absl/status/statusor.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/udp/datagram.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/udp/messages.h"
#include "meshvpn/udp/peer_table.h"
#include "meshvpn/udp/send_queue.h"
#include "meshvpn/udp/socket_options.h"
#include "meshvpn/udp/stats.h"
#include "meshvpn/udp/uv_peer_expiry.h"

namespace meshvpn::udp {

// How it works:
//   receive  A uv_poll handle watches the socket. When it is readable, the socket fills up to
//            batch_size slots with buffers from the PacketPool, calls recvmmsg(2) once for all of
//            them (the kernel writes each datagram straight into a buffer's writable() area,
//            behind the headroom), and hands the filled ones to the DatagramReceiver as one span.
//            Buffers the receiver leaves in place go back to the pool; the rest are the
//            receiver's. It repeats until EAGAIN or max_reads_per_wakeup calls.
//   send     SendBatch() hands caller-owned bytes to sendmmsg(2) at once; what the kernel will not
//            take now is dropped and counted. Send() takes pool buffers instead; what the kernel
//            will not take now waits in a bounded queue until the socket is writable again.
//
// Threading: everything runs on the loop thread; the object is not thread-safe. The PacketPool
// (and a tracked PeerTable) must outlive the socket.
class UdpSocket {
 public:
  // Creates, configures and binds the socket and registers it with `loop` (not yet reading).
  // Bind errors name the address: "bind 0.0.0.0:4000: address already in use (EADDRINUSE)"
  // (AlreadyExists), "...: permission denied (EACCES)" (PermissionDenied).
  static absl::StatusOr<std::unique_ptr<UdpSocket>> Open(uv_loop_t* loop, PacketPool* pool,
                                                         UdpSocketOptions options);
  // Stops polling, closes the descriptor and returns every held or queued buffer to the pool
  // (queued datagrams count as kSocketClosed drops). Never call it from inside OnDatagrams.
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Starts (or resumes) delivering datagrams to `receiver`, which must outlive the reading.
  absl::Status Start(DatagramReceiver* receiver);
  // Stops reading; queued sends still go out. Safe to call from inside OnDatagrams.
  void Stop();

  // Tracks every datagram in `peers` (received: learned or refreshed, Datagram::new_peer set;
  // sent: bytes_out), and, if `expiry` is given, keeps its timer armed as peers are learned.
  // Pass nullptrs to stop tracking.
  void TrackPeers(PeerTable* peers, UvPeerExpiry* expiry = nullptr);

  // Sends each item now, batch_size datagrams per sendmmsg(2) call. Nothing is copied or queued:
  // when the socket buffer is full the rest are dropped (kSendWouldBlock). Returns how many the
  // kernel accepted.
  size_t SendBatch(std::span<const SendItem> items);
  // One datagram; true if the kernel accepted it.
  bool SendTo(ByteSpan data, const Endpoint& to);
  // Takes ownership of each packet's buffer: sends what the kernel accepts now, queues the rest
  // (up to send_queue_limit, then kSendQueueFull drops) and flushes the queue when the socket is
  // writable. Every buffer goes back to the pool once sent or dropped. Returns how many were sent
  // or queued.
  size_t Send(std::span<const OutgoingPacket> packets);

  const Endpoint& local_endpoint() const { return local_; }
  AddressFamily socket_family() const { return family_; }
  bool dual_stack() const { return dual_stack_; }
  const SocketBufferSizes& buffer_sizes() const { return buffer_sizes_; }
  const UdpStats& stats() const { return stats_; }
  // With UdpSocketOptions::measure_receive_queue: the queue as sampled right after the read whose
  // datagrams are being delivered (valid inside OnDatagrams). Zero otherwise.
  const ReceiveQueue& receive_queue() const { return receive_queue_; }
  size_t send_queue_size() const { return queue_.size(); }
  bool receiving() const { return receiver_ != nullptr; }
  int fd() const { return fd_; }

 private:
  UdpSocket(uv_loop_t* loop, PacketPool* pool, UdpSocketOptions options);
  absl::Status Setup();
  absl::Status SetBufferSize(bool receive, int bytes);

  static void OnPollEvent(uv_poll_t* handle, int status, int events);
  void HandlePoll(int status, int events);
  void UpdatePollEvents();
  // One recvmmsg call; returns the datagrams read, or 0 when there are none (or on error).
  size_t ReadBatch();
  size_t ReadCoalesced();
  void DeliverOne(PacketBuffer* buffer, const Endpoint& from, size_t size, MonoTime now,
                  size_t* delivered);
  size_t Drain();             // reads and discards when the pool is empty
  void SampleReceiveQueue();  // SO_MEMINFO, with options_.measure_receive_queue
  void Deliver(size_t count);
  // Sends msgs [0, count) prepared in tx_*; returns how many went out before EAGAIN (or all).
  // Per-datagram errors are counted and skipped; stops early only on a full socket buffer.
  size_t Transmit(size_t count, size_t* rejected);
  size_t TransmitEach(size_t begin, size_t count, size_t* rejected);
  size_t TransmitSegmented(size_t count, size_t* rejected);
  size_t GroupForGso(size_t begin, size_t count, size_t group);
  void FlushQueue();
  void Enqueue(const OutgoingPacket& packet);
  // Fills tx slot `i` for `to`; false (and a counted drop) if the socket cannot reach it.
  bool PrepareSend(size_t i, const uint8_t* data, size_t size, const Endpoint& to);

  uv_loop_t* loop_;
  PacketPool* pool_;
  UdpSocketOptions options_;
  const Clock* clock_;
  int fd_ = -1;
  AddressFamily family_ = AddressFamily::kIpv6;
  bool dual_stack_ = false;
  Endpoint local_;
  bool gso_ = false;  // UDP_SEGMENT in use (options_.gso, until the kernel refuses it)
  bool gro_ = false;  // UDP_GRO in use (options_.gro and the kernel has it)
  SocketBufferSizes buffer_sizes_;
  UvPoll poll_;
  int poll_events_ = 0;
  DatagramReceiver* receiver_ = nullptr;
  PeerTable* peers_ = nullptr;
  UvPeerExpiry* expiry_ = nullptr;
  UdpStats stats_;
  ReceiveQueue receive_queue_;
  bool in_callback_ = false;

  // Receive slots: empty buffers are held across calls until a datagram fills them.
  std::array<PacketBuffer*, kMaxBatch> rx_buffers_{};
  size_t rx_held_ = 0;  // rx_buffers_[0, rx_held_) hold empty buffers
  std::array<Datagram, kMaxBatch> rx_batch_{};
  // Send state, reused by every call.
  std::array<size_t, kMaxBatch> tx_size_{};
  std::array<Endpoint, kMaxBatch> tx_to_{};

  // The system-call structures (mmsghdr, iovec, sockaddr_storage arrays), kept out of this header.
  struct SysBuffers;
  std::unique_ptr<SysBuffers> sys_;

  // Packets waiting for the socket to become writable (send_queue_limit entries).
  SendQueue queue_;
};

}  // namespace meshvpn::udp
