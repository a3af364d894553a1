#include "meshvpn/udp/uv_udp_socket.h"

#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "meshvpn/base/status.h"
#include "meshvpn/base/uv_status.h"

namespace meshvpn::udp {

// The kernel-facing arrays: one mmsghdr, iovec and address per batch slot in each direction.
struct UdpSocket::SysBuffers {
  std::array<mmsghdr, kMaxBatch> rx_msgs{};
  std::array<iovec, kMaxBatch> rx_iov{};
  std::array<sockaddr_storage, kMaxBatch> rx_addr{};
  std::array<mmsghdr, kMaxBatch> tx_msgs{};
  std::array<iovec, kMaxBatch> tx_iov{};
  std::array<sockaddr_storage, kMaxBatch> tx_addr{};
  std::array<PacketBuffer*, kMaxBatch> tx_buffer{};
  // UDP_SEGMENT groups: one mmsghdr per group of consecutive tx slots [first, end), whose iovecs
  // are the slots' own (contiguous), with a control message carrying the segment size.
  std::array<mmsghdr, kMaxBatch> gso_msgs{};
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, kMaxBatch> gso_control{};
  std::array<size_t, kMaxBatch> gso_end{};
  // UDP_GRO reads: each slot a 64 KiB area (allocated only when GRO is on) and room for the
  // control message that carries the segment size.
  static constexpr size_t kGroSlots = 16;
  static constexpr size_t kGroSlotBytes = 65536;
  std::unique_ptr<uint8_t[]> gro_data;
  std::array<mmsghdr, kGroSlots> gro_msgs{};
  std::array<iovec, kGroSlots> gro_iov{};
  std::array<sockaddr_storage, kGroSlots> gro_addr{};
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(int))>, kGroSlots> gro_control{};
  // Where datagrams go when the pool is empty: read (so the socket does not stay readable
  // forever), truncated to this size, and discarded.
  std::array<uint8_t, 64> drain{};
};

namespace {

bool WouldBlock(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

// Linux's limits for one UDP_SEGMENT send: UDP_MAX_SEGMENTS (64 before 6.x) and the 64 KiB of an
// IP packet, less headers.
constexpr size_t kMaxGsoSegments = 64;
constexpr size_t kMaxGsoBytes = 60000;

}  // namespace

UdpSocket::UdpSocket(uv_loop_t* loop, PacketPool* pool, UdpSocketOptions options)
    : loop_(loop),
      pool_(pool),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &RealClock::Instance()),
      sys_(std::make_unique<SysBuffers>()),
      queue_(options_.send_queue_limit) {
  options_.batch_size = std::clamp<size_t>(options_.batch_size, 1, kMaxBatch);
  options_.max_reads_per_wakeup = std::max<size_t>(options_.max_reads_per_wakeup, 1);
}

absl::StatusOr<std::unique_ptr<UdpSocket>> UdpSocket::Open(uv_loop_t* loop, PacketPool* pool,
                                                           UdpSocketOptions options) {
  if (loop == nullptr || pool == nullptr) {
    return absl::InvalidArgumentError("UdpSocket::Open needs a loop and a packet pool");
  }
  std::unique_ptr<UdpSocket> socket(new UdpSocket(loop, pool, std::move(options)));
  MESHVPN_RETURN_IF_ERROR(socket->Setup());
  return socket;
}

UdpSocket::~UdpSocket() {
  poll_.Reset();  // uv_close stops watching the descriptor at once, so it can be closed now
  if (fd_ >= 0) ::close(fd_);
  for (PacketBuffer*& b : rx_buffers_) {
    if (b != nullptr) pool_->Release(b);
    b = nullptr;
  }
  while (!queue_.empty()) {
    pool_->Release(queue_.PopFront().buffer);
    stats_.CountDrop(DropReason::kSocketClosed);
  }
}

absl::Status UdpSocket::Setup() {
  Endpoint bind_to = options_.bind;
  family_ = bind_to.family();
  fd_ =
      ::socket(bind_to.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0 && errno == EAFNOSUPPORT && bind_to.is_v6() && bind_to.IsUnspecified() &&
      options_.fall_back_to_ipv4) {
    options_.logger.Info("no IPv6 on this host; binding the IPv4 wildcard instead");
    bind_to = Endpoint::Any(AddressFamily::kIpv4, bind_to.port());
    family_ = AddressFamily::kIpv4;
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd_ < 0) {
    return UvToStatus(-errno, absl::StrFormat("socket %s", ToString(family_)));
  }
  if (family_ == AddressFamily::kIpv6) {
    const int v6only = options_.dual_stack ? 0 : 1;
    if (setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) {
      return UvToStatus(-errno, "setsockopt IPV6_V6ONLY");
    }
    dual_stack_ = options_.dual_stack;
  }
  MESHVPN_RETURN_IF_ERROR(SetBufferSize(/*receive=*/true, options_.receive_buffer_bytes));
  MESHVPN_RETURN_IF_ERROR(SetBufferSize(/*receive=*/false, options_.send_buffer_bytes));

  sockaddr_storage addr;
  const socklen_t addr_len = bind_to.ToSockaddr(family_, &addr);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), addr_len) < 0) {
    return UvToStatus(-errno, absl::StrFormat("bind %s", bind_to.ToString()));
  }
  sockaddr_storage local;
  socklen_t local_len = sizeof(local);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &local_len) < 0) {
    return UvToStatus(-errno, "getsockname");
  }
  std::optional<Endpoint> local_endpoint =
      Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&local), local_len);
  if (!local_endpoint) return absl::InternalError("getsockname: not an IP address");
  local_ = *local_endpoint;

  absl::StatusOr<UvPoll> poll = UvPoll::Create(loop_, uv_poll_init, fd_);
  if (!poll.ok()) return poll.status();
  poll_ = std::move(*poll);
  poll_.set_owner(this);

  gso_ = options_.gso && options_.batch_size > 1;  // batch 1 stays the unbatched baseline
  if (options_.gro && options_.batch_size > 1) {
    const int on = 1;
    if (setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof on) == 0) {
      gro_ = true;
      sys_->gro_data =
          std::make_unique<uint8_t[]>(SysBuffers::kGroSlots * SysBuffers::kGroSlotBytes);
    } else {
      options_.logger.Info("no UDP_GRO here (%s); reading one datagram per slot",
                           std::strerror(errno));
    }
  }
  options_.logger.Info("bound %s%s; %s", local_.ToString(), dual_stack_ ? " (dual-stack)" : "",
                       ToString(buffer_sizes_));
  return absl::OkStatus();
}

absl::Status UdpSocket::SetBufferSize(bool receive, int bytes) {
  const int option = receive ? SO_RCVBUF : SO_SNDBUF;
  const int force_option = receive ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
  const char* name = receive ? "SO_RCVBUF" : "SO_SNDBUF";
  int& requested = receive ? buffer_sizes_.receive_requested : buffer_sizes_.send_requested;
  int& granted = receive ? buffer_sizes_.receive_granted : buffer_sizes_.send_granted;
  bool& forced = receive ? buffer_sizes_.receive_forced : buffer_sizes_.send_forced;
  auto read_back = [&]() -> absl::Status {
    socklen_t len = sizeof(granted);
    if (getsockopt(fd_, SOL_SOCKET, option, &granted, &len) < 0) {
      return UvToStatus(-errno, absl::StrFormat("getsockopt %s", name));
    }
    return absl::OkStatus();
  };

  requested = std::max(bytes, 0);
  if (requested > 0) {
    if (setsockopt(fd_, SOL_SOCKET, option, &requested, sizeof(requested)) < 0) {
      return UvToStatus(-errno, absl::StrFormat("setsockopt %s %d", name, requested));
    }
  }
  MESHVPN_RETURN_IF_ERROR(read_back());
  // Linux grants twice a request it does not cap; less means net.core.{r,w}mem_max capped it.
  if (requested > 0 && static_cast<int64_t>(granted) < 2 * static_cast<int64_t>(requested)) {
    if (setsockopt(fd_, SOL_SOCKET, force_option, &requested, sizeof(requested)) == 0) {
      forced = true;
      MESHVPN_RETURN_IF_ERROR(read_back());
    } else {
      options_.logger.Info("%s %d capped at %d by net.core.%s (needs CAP_NET_ADMIN to exceed)",
                           name, requested, granted, receive ? "rmem_max" : "wmem_max");
    }
  }
  return absl::OkStatus();
}

absl::Status UdpSocket::Start(DatagramReceiver* receiver) {
  if (receiver == nullptr) return absl::InvalidArgumentError("UdpSocket::Start: no receiver");
  receiver_ = receiver;
  UpdatePollEvents();
  return absl::OkStatus();
}

void UdpSocket::Stop() {
  receiver_ = nullptr;
  UpdatePollEvents();
}

void UdpSocket::TrackPeers(PeerTable* peers, UvPeerExpiry* expiry) {
  peers_ = peers;
  expiry_ = peers != nullptr ? expiry : nullptr;
}

void UdpSocket::UpdatePollEvents() {
  const int events = (receiver_ != nullptr ? UV_READABLE : 0) | (queue_.empty() ? 0 : UV_WRITABLE);
  if (events == poll_events_ || !poll_) return;
  if (events == 0) {
    uv_poll_stop(poll_.get());
  } else if (uv_poll_start(poll_.get(), events, &UdpSocket::OnPollEvent) != 0) {
    return;  // only fails for a closing handle
  }
  poll_events_ = events;
}

void UdpSocket::OnPollEvent(uv_poll_t* handle, int status, int events) {
  static_cast<UdpSocket*>(handle->data)->HandlePoll(status, events);
}

void UdpSocket::HandlePoll(int status, int events) {
  if (status < 0) {
    // epoll reported an error condition on the descriptor; a read will surface (and count) it.
    events |= UV_READABLE;
  }
  in_callback_ = true;
  if ((events & UV_WRITABLE) != 0) FlushQueue();
  if ((events & UV_READABLE) != 0) {
    const size_t slots = gro_ ? SysBuffers::kGroSlots : options_.batch_size;
    for (size_t i = 0; i < options_.max_reads_per_wakeup && receiver_ != nullptr; ++i) {
      // Fewer messages than slots means the socket's queue is empty: skip the EAGAIN call.
      if ((gro_ ? ReadCoalesced() : ReadBatch()) < slots) break;
    }
  }
  in_callback_ = false;
  UpdatePollEvents();
}

size_t UdpSocket::Drain() {
  SysBuffers& sys = *sys_;
  const size_t vlen = options_.batch_size;
  for (size_t i = 0; i < vlen; ++i) {
    sys.rx_iov[i] = {sys.drain.data(), sys.drain.size()};
    msghdr& h = sys.rx_msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_iov = &sys.rx_iov[i];
    h.msg_iovlen = 1;
  }
  int n;
  do {
    n = recvmmsg(fd_, sys.rx_msgs.data(), static_cast<unsigned>(vlen), 0, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n < 0 && !WouldBlock(errno)) stats_.CountDrop(DropReason::kReceiveError);
    return 0;
  }
  stats_.CountDrop(DropReason::kNoBuffer, static_cast<uint64_t>(n));
  return static_cast<size_t>(n);
}

size_t UdpSocket::ReadBatch() {
  SysBuffers& sys = *sys_;
  const size_t want = options_.batch_size;
  while (rx_held_ < want) {
    PacketBuffer* b = pool_->Acquire();
    if (b == nullptr) break;
    rx_buffers_[rx_held_++] = b;
  }
  if (rx_held_ == 0) return Drain();

  const size_t slots = rx_held_;
  for (size_t i = 0; i < slots; ++i) {
    PacketBuffer* b = rx_buffers_[i];
    const MutableByteSpan room = b->writable();
    sys.rx_iov[i] = {room.data(), room.size()};
    msghdr& h = sys.rx_msgs[i].msg_hdr;
    h.msg_name = &sys.rx_addr[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &sys.rx_iov[i];
    h.msg_iovlen = 1;
    h.msg_control = nullptr;
    h.msg_controllen = 0;
    h.msg_flags = 0;
    sys.rx_msgs[i].msg_len = 0;
  }
  int n;
  do {
    if (slots == 1) {
      const ssize_t r = recvmsg(fd_, &sys.rx_msgs[0].msg_hdr, 0);
      if (r >= 0) sys.rx_msgs[0].msg_len = static_cast<unsigned>(r);
      n = r < 0 ? -1 : 1;
    } else {
      n = recvmmsg(fd_, sys.rx_msgs.data(), static_cast<unsigned>(slots), 0, nullptr);
    }
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n < 0 && !WouldBlock(errno)) stats_.CountDrop(DropReason::kReceiveError);
    return 0;
  }

  const size_t got = static_cast<size_t>(n);
  ++stats_.receive_calls;
  stats_.largest_receive_batch = std::max<uint64_t>(stats_.largest_receive_batch, got);
  const bool track = peers_ != nullptr;
  const MonoTime now = track ? clock_->Now() : MonoTime{};
  size_t keep = 0;  // buffers not handed over move to the front of rx_buffers_ for the next read
  size_t delivered = 0;
  for (size_t i = 0; i < got; ++i) {
    PacketBuffer* b = rx_buffers_[i];
    const mmsghdr& m = sys.rx_msgs[i];
    if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      stats_.CountDrop(DropReason::kTruncated);
      rx_buffers_[keep++] = b;
      continue;
    }
    const std::optional<Endpoint> from = Endpoint::FromSockaddr(
        reinterpret_cast<const sockaddr*>(&sys.rx_addr[i]), m.msg_hdr.msg_namelen);
    if (!from) {
      stats_.CountDrop(DropReason::kUnsupportedAddress);
      rx_buffers_[keep++] = b;
      continue;
    }
    if (!b->SetSize(m.msg_len)) {  // cannot happen: the kernel writes at most iov_len
      stats_.CountDrop(DropReason::kTruncated);
      rx_buffers_[keep++] = b;
      continue;
    }
    Datagram& d = rx_batch_[delivered++];
    d.buffer = b;
    d.from = *from;
    d.new_peer = track && peers_->OnReceived(*from, m.msg_len, now) == PeerTable::Observed::kNew;
    ++stats_.packets_received;
    stats_.bytes_received += m.msg_len;
  }
  for (size_t i = got; i < slots; ++i) rx_buffers_[keep++] = rx_buffers_[i];
  for (size_t i = keep; i < slots; ++i) rx_buffers_[i] = nullptr;
  rx_held_ = keep;
  SampleReceiveQueue();
  Deliver(delivered);
  return got;
}

void UdpSocket::DeliverOne(PacketBuffer* buffer, const Endpoint& from, size_t size, MonoTime now,
                           size_t* delivered) {
  Datagram& d = rx_batch_[(*delivered)++];
  d.buffer = buffer;
  d.from = from;
  d.new_peer =
      peers_ != nullptr && peers_->OnReceived(from, size, now) == PeerTable::Observed::kNew;
  ++stats_.packets_received;
  stats_.bytes_received += size;
  if (*delivered == kMaxBatch) {
    Deliver(*delivered);
    *delivered = 0;
  }
}

size_t UdpSocket::ReadCoalesced() {
  SysBuffers& sys = *sys_;
  constexpr size_t kSlots = SysBuffers::kGroSlots;
  for (size_t i = 0; i < kSlots; ++i) {
    sys.gro_iov[i] = {sys.gro_data.get() + i * SysBuffers::kGroSlotBytes,
                      SysBuffers::kGroSlotBytes};
    msghdr& h = sys.gro_msgs[i].msg_hdr;
    h.msg_name = &sys.gro_addr[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &sys.gro_iov[i];
    h.msg_iovlen = 1;
    h.msg_control = sys.gro_control[i].data();
    h.msg_controllen = sys.gro_control[i].size();
    h.msg_flags = 0;
    sys.gro_msgs[i].msg_len = 0;
  }
  int n;
  do {
    n = recvmmsg(fd_, sys.gro_msgs.data(), static_cast<unsigned>(kSlots), 0, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n < 0 && !WouldBlock(errno)) stats_.CountDrop(DropReason::kReceiveError);
    return 0;
  }
  ++stats_.receive_calls;
  const MonoTime now = peers_ != nullptr ? clock_->Now() : MonoTime{};
  size_t delivered = 0;
  uint64_t datagrams = 0;
  for (int i = 0; i < n; ++i) {
    const mmsghdr& m = sys.gro_msgs[i];
    if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      stats_.CountDrop(DropReason::kTruncated);
      continue;
    }
    const std::optional<Endpoint> from = Endpoint::FromSockaddr(
        reinterpret_cast<const sockaddr*>(&sys.gro_addr[i]), m.msg_hdr.msg_namelen);
    if (!from) {
      stats_.CountDrop(DropReason::kUnsupportedAddress);
      continue;
    }
    const size_t length = m.msg_len;
    size_t segment = length;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&m.msg_hdr), c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        if (size > 0) segment = static_cast<size_t>(size);
      }
    }
    const uint8_t* data = static_cast<const uint8_t*>(sys.gro_iov[i].iov_base);
    if (length > segment) stats_.gro_segments_received += (length + segment - 1) / segment;
    // An empty datagram is a datagram too (a zero-length read).
    for (size_t offset = 0; offset < length || (length == 0 && offset == 0);) {
      const size_t size = std::min(segment, length - offset);
      ++datagrams;
      PacketBuffer* b = pool_->Acquire();
      if (b == nullptr) {
        stats_.CountDrop(DropReason::kNoBuffer);
      } else if (b->Reset(), !b->SetSize(size)) {
        pool_->Release(b);
        stats_.CountDrop(DropReason::kTruncated);
      } else {
        if (size > 0) std::memcpy(b->data(), data + offset, size);
        DeliverOne(b, *from, size, now, &delivered);
      }
      if (length == 0) break;
      offset += size;
    }
  }
  stats_.largest_receive_batch = std::max<uint64_t>(stats_.largest_receive_batch, datagrams);
  SampleReceiveQueue();
  Deliver(delivered);
  return static_cast<size_t>(n);
}

void UdpSocket::SampleReceiveQueue() {
  if (!options_.measure_receive_queue) return;
  std::array<uint32_t, SK_MEMINFO_VARS> info{};
  socklen_t length = sizeof info;
  if (getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, info.data(), &length) != 0) return;
  receive_queue_.queued_bytes = info[SK_MEMINFO_RMEM_ALLOC];
  receive_queue_.capacity_bytes = info[SK_MEMINFO_RCVBUF];
  stats_.largest_receive_queue_bytes =
      std::max<uint64_t>(stats_.largest_receive_queue_bytes, receive_queue_.queued_bytes);
  if (length > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
    stats_.kernel_receive_drops = info[SK_MEMINFO_DROPS];
  }
}

void UdpSocket::Deliver(size_t count) {
  if (count == 0) return;
  if (receiver_ == nullptr) {  // stopped by an earlier part of this read
    for (size_t i = 0; i < count; ++i) {
      pool_->Release(rx_batch_[i].buffer);
      rx_batch_[i].buffer = nullptr;
    }
    return;
  }
  if (expiry_ != nullptr) expiry_->Update();
  std::span<Datagram> batch(rx_batch_.data(), count);
  receiver_->OnDatagrams(batch);
  for (Datagram& d : batch) {
    if (d.buffer != nullptr) pool_->Release(d.buffer);
    d.buffer = nullptr;
  }
}

bool UdpSocket::PrepareSend(size_t i, const uint8_t* data, size_t size, const Endpoint& to) {
  SysBuffers& sys = *sys_;
  const socklen_t len = to.ToSockaddr(family_, &sys.tx_addr[i]);
  if (len == 0) {
    stats_.CountDrop(DropReason::kUnsupportedAddress);
    return false;
  }
  sys.tx_iov[i] = {const_cast<uint8_t*>(data), size};
  msghdr& h = sys.tx_msgs[i].msg_hdr;
  h = msghdr{};
  h.msg_name = &sys.tx_addr[i];
  h.msg_namelen = len;
  h.msg_iov = &sys.tx_iov[i];
  h.msg_iovlen = 1;
  sys.tx_msgs[i].msg_len = 0;
  tx_size_[i] = size;
  tx_to_[i] = to;
  return true;
}

size_t UdpSocket::Transmit(size_t count, size_t* rejected) {
  return gso_ ? TransmitSegmented(count, rejected) : TransmitEach(0, count, rejected);
}

size_t UdpSocket::GroupForGso(size_t begin, size_t count, size_t group) {
  SysBuffers& sys = *sys_;
  const size_t segment = tx_size_[begin];
  size_t end = begin + 1;
  size_t total = segment;
  while (end < count && end - begin < kMaxGsoSegments && tx_size_[end] <= segment &&
         total + tx_size_[end] <= kMaxGsoBytes && tx_to_[end] == tx_to_[begin]) {
    total += tx_size_[end];
    const bool shorter = tx_size_[end] < segment;  // only the last segment may be shorter
    ++end;
    if (shorter) break;
  }
  mmsghdr& m = sys.gso_msgs[group];
  m.msg_hdr = sys.tx_msgs[begin].msg_hdr;
  m.msg_hdr.msg_iov = &sys.tx_iov[begin];
  m.msg_hdr.msg_iovlen = end - begin;
  m.msg_len = 0;
  if (end - begin > 1) {
    m.msg_hdr.msg_control = sys.gso_control[group].data();
    m.msg_hdr.msg_controllen = sys.gso_control[group].size();
    cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const uint16_t size = static_cast<uint16_t>(segment);
    std::memcpy(CMSG_DATA(c), &size, sizeof size);
  } else {
    m.msg_hdr.msg_control = nullptr;
    m.msg_hdr.msg_controllen = 0;
  }
  sys.gso_end[group] = end;
  return end;
}

size_t UdpSocket::TransmitSegmented(size_t count, size_t* rejected) {
  SysBuffers& sys = *sys_;
  size_t done = 0;
  while (done < count) {
    size_t groups = 0;
    for (size_t next = done; next < count && groups < options_.batch_size;) {
      next = GroupForGso(next, count, groups++);
    }
    int n;
    if (groups == 1) {
      n = sendmsg(fd_, &sys.gso_msgs[0].msg_hdr, MSG_DONTWAIT) < 0 ? -1 : 1;
    } else {
      n = sendmmsg(fd_, sys.gso_msgs.data(), static_cast<unsigned>(groups), MSG_DONTWAIT);
    }
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (WouldBlock(error)) break;
      const size_t first_end = sys.gso_end[0];
      if ((error == EIO || error == EINVAL) && first_end - done > 1) {
        // The kernel or the route's device cannot segment: send one datagram per call from now.
        gso_ = false;
        options_.logger.Warning("UDP segmentation offload refused (%s); sending unsegmented",
                                std::strerror(error));
        return done + TransmitEach(done, count, rejected);
      }
      stats_.CountDrop(DropReason::kSendError, first_end - done);
      *rejected += first_end - done;
      done = first_end;
      continue;
    }
    ++stats_.send_calls;
    const size_t end = sys.gso_end[static_cast<size_t>(n) - 1];
    stats_.largest_send_batch = std::max<uint64_t>(stats_.largest_send_batch, end - done);
    for (int g = 0; g < n; ++g) {
      const size_t first = g == 0 ? done : sys.gso_end[g - 1];
      if (sys.gso_end[g] - first > 1) stats_.gso_segments_sent += sys.gso_end[g] - first;
    }
    for (size_t k = done; k < end; ++k) {
      ++stats_.packets_sent;
      stats_.bytes_sent += tx_size_[k];
      if (peers_ != nullptr) peers_->OnSent(tx_to_[k], tx_size_[k]);
    }
    done = end;
  }
  return done;
}

size_t UdpSocket::TransmitEach(size_t begin, size_t count, size_t* rejected) {
  SysBuffers& sys = *sys_;
  size_t done = begin;
  while (done < count) {
    const size_t chunk = std::min(count - done, options_.batch_size);
    int n;
    if (chunk == 1) {
      n = sendmsg(fd_, &sys.tx_msgs[done].msg_hdr, MSG_DONTWAIT) < 0 ? -1 : 1;
    } else {
      n = sendmmsg(fd_, &sys.tx_msgs[done], static_cast<unsigned>(chunk), MSG_DONTWAIT);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (WouldBlock(errno)) break;
      // This datagram was refused (too big, no route, ...): count it and go on with the next.
      stats_.CountDrop(DropReason::kSendError);
      ++*rejected;
      ++done;
      continue;
    }
    ++stats_.send_calls;
    stats_.largest_send_batch = std::max<uint64_t>(stats_.largest_send_batch, n);
    for (size_t k = done; k < done + static_cast<size_t>(n); ++k) {
      ++stats_.packets_sent;
      stats_.bytes_sent += tx_size_[k];
      if (peers_ != nullptr) peers_->OnSent(tx_to_[k], tx_size_[k]);
    }
    done += static_cast<size_t>(n);
  }
  return done - begin;
}

size_t UdpSocket::SendBatch(std::span<const SendItem> items) {
  size_t accepted = 0;
  size_t next = 0;
  while (next < items.size()) {
    const size_t chunk = std::min(items.size() - next, kMaxBatch);
    size_t prepared = 0;
    for (size_t i = 0; i < chunk; ++i) {
      const SendItem& item = items[next + i];
      if (PrepareSend(prepared, item.data.data(), item.data.size(), item.to)) ++prepared;
    }
    next += chunk;
    size_t rejected = 0;
    const size_t done = Transmit(prepared, &rejected);
    accepted += done - rejected;
    if (done < prepared) {
      // The socket buffer is full: this path does not queue, so the rest is dropped.
      stats_.CountDrop(DropReason::kSendWouldBlock, (prepared - done) + (items.size() - next));
      break;
    }
  }
  return accepted;
}

bool UdpSocket::SendTo(ByteSpan data, const Endpoint& to) {
  const SendItem item{data, to};
  return SendBatch({&item, 1}) == 1;
}

void UdpSocket::Enqueue(const OutgoingPacket& packet) {
  if (!queue_.Push(packet)) {
    pool_->Release(packet.buffer);
    stats_.CountDrop(DropReason::kSendQueueFull);
  }
}

size_t UdpSocket::Send(std::span<const OutgoingPacket> packets) {
  SysBuffers& sys = *sys_;
  size_t accepted = 0;
  size_t next = 0;
  // Behind a non-empty queue everything queues, so datagrams leave in order.
  while (queue_.empty() && next < packets.size()) {
    const size_t chunk = std::min(packets.size() - next, kMaxBatch);
    size_t prepared = 0;
    for (size_t i = 0; i < chunk; ++i) {
      const OutgoingPacket& p = packets[next + i];
      if (PrepareSend(prepared, p.buffer->data(), p.buffer->size(), p.to)) {
        sys.tx_buffer[prepared++] = p.buffer;
      } else {
        pool_->Release(p.buffer);
      }
    }
    next += chunk;
    size_t rejected = 0;
    const size_t done = Transmit(prepared, &rejected);
    accepted += done - rejected;
    for (size_t i = 0; i < done; ++i) pool_->Release(sys.tx_buffer[i]);
    for (size_t i = done; i < prepared; ++i) {
      if (!queue_.full()) ++accepted;
      Enqueue({sys.tx_buffer[i], tx_to_[i]});
    }
  }
  for (; next < packets.size(); ++next) {
    if (!queue_.full()) ++accepted;
    Enqueue(packets[next]);
  }
  if (!in_callback_) UpdatePollEvents();
  return accepted;
}

void UdpSocket::FlushQueue() {
  SysBuffers& sys = *sys_;
  while (!queue_.empty()) {
    const size_t chunk = std::min(queue_.size(), kMaxBatch);
    size_t prepared = 0;
    for (size_t i = 0; i < chunk; ++i) {
      const OutgoingPacket p = queue_.PopFront();
      if (PrepareSend(prepared, p.buffer->data(), p.buffer->size(), p.to)) {
        sys.tx_buffer[prepared++] = p.buffer;
      } else {
        pool_->Release(p.buffer);
      }
    }
    size_t rejected = 0;
    const size_t done = Transmit(prepared, &rejected);
    for (size_t i = 0; i < done; ++i) pool_->Release(sys.tx_buffer[i]);
    if (done == prepared) continue;
    // The socket is full again: put the unsent ones back at the front, last first, to keep order.
    for (size_t i = prepared; i > done; --i) {
      const bool ok = queue_.PushFront({sys.tx_buffer[i - 1], tx_to_[i - 1]});
      (void)ok;  // always room: each was popped from this queue above
    }
    break;
  }
}

}  // namespace meshvpn::udp
