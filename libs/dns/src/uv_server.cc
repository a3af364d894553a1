// The MagicDNS server's libuv driver: sockets, TCP framing, timers; decisions are ServerCore's
// and Forwarder's.
#include "meshvpn/dns/uv_server.h"

#include <algorithm>
#include <cstring>

#include "meshvpn/base/status.h"
#include "meshvpn/base/uv_status.h"

namespace meshvpn::dns {

namespace {

constexpr size_t kUdpSlot = 4096;  // bytes per UDP answer slot (max_udp_size is capped to it)
constexpr size_t kFrame = 2;       // TCP length prefix

sockaddr_storage ToSockaddr(const udp::Endpoint& e, socklen_t* len) {
  sockaddr_storage ss{};
  *len = e.ToSockaddr(e.family(), &ss);
  return ss;
}

// A heap write request that owns its bytes until libuv is done with them.
struct WriteRequest {
  uv_write_t req{};
  std::vector<uint8_t> data;
};

void OnWritten(uv_write_t* req, int) { delete reinterpret_cast<WriteRequest*>(req); }

bool QueueWrite(uv_stream_t* stream, ByteSpan message) {
  auto* w = new WriteRequest();
  w->data.resize(kFrame + message.size());
  w->data[0] = static_cast<uint8_t>(message.size() >> 8);
  w->data[1] = static_cast<uint8_t>(message.size());
  std::memcpy(w->data.data() + kFrame, message.data(), message.size());
  uv_buf_t buf =
      uv_buf_init(reinterpret_cast<char*>(w->data.data()), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->req, stream, &buf, 1, &OnWritten) != 0) {
    delete w;
    return false;
  }
  return true;
}

}  // namespace

// A client's TCP connection: the bytes of its next query, its idle timer.
struct UvDnsServer::TcpConnection {
  UvDnsServer* server = nullptr;
  uint64_t id = 0;
  UvTcp tcp;
  UvTimer idle;
  udp::Endpoint peer;
  std::vector<uint8_t> in;
  size_t forwarded = 0;  // queries of this connection at an upstream
};

// One TCP retry to an upstream: connect, send the query, read one answer.
struct UvDnsServer::UpstreamTcp {
  UvDnsServer* server = nullptr;
  UpstreamSend send;
  UvTcp tcp;
  UvTimer timer;
  std::vector<uint8_t> query;  // unframed (QueueWrite frames it)
  std::vector<uint8_t> in;
};

// libuv owns a connect request until its callback, which may come after the retry (or the
// whole server) is gone: it finds its retry by serial, through a token the server drops.
struct ConnectRequest {
  uv_connect_t req{};
  std::weak_ptr<UvDnsServer*> server;
  uint64_t serial = 0;
};

UvDnsServer::UvDnsServer(uv_loop_t* loop, UvDnsServerConfig config,
                         std::shared_ptr<const RecordTable> records, Logger logger,
                         QueryObserver* observer)
    : loop_(loop),
      config_(std::move(config)),
      logger_(logger),
      observer_(observer),
      core_(config_.core, std::move(records)),
      forwarder_(config_.forwarder),
      pool_(1024, 2048),
      upstream_pool_(64, kFrame + kMaxMessageSize),
      alive_(std::make_shared<UvDnsServer*>(this)) {}

UvDnsServer::~UvDnsServer() {
  alive_.reset();
  connections_.clear();
  upstream_tcp_.clear();
}

absl::StatusOr<std::unique_ptr<UvDnsServer>> UvDnsServer::Start(
    uv_loop_t* loop, UvDnsServerConfig config, std::shared_ptr<const RecordTable> records,
    Logger logger, QueryObserver* observer) {
  config.core.max_udp_size = std::clamp<size_t>(config.core.max_udp_size, 512, kUdpSlot);
  config.forwarder.max_udp_size = config.core.max_udp_size;
  for (const SplitRoute& r : config.core.split) {
    if (r.upstream < 0 || static_cast<size_t>(r.upstream) >= config.upstreams.size()) {
      return absl::InvalidArgumentError("a split route names an upstream that does not exist");
    }
  }
  if (config.core.default_upstream >= static_cast<int>(config.upstreams.size())) {
    return absl::InvalidArgumentError("the default upstream does not exist");
  }
  std::unique_ptr<UvDnsServer> s(
      new UvDnsServer(loop, std::move(config), std::move(records), logger, observer));
  MESHVPN_RETURN_IF_ERROR(s->Open());
  return s;
}

absl::Status UvDnsServer::Open() {
  udp_replies_.resize(udp::kMaxBatch * kUdpSlot);
  udp_sends_.reserve(udp::kMaxBatch);
  out_.resize(kFrame + kMaxMessageSize);
  read_buffer_.resize(64 * 1024);

  udp::UdpSocketOptions o;
  o.bind = config_.listen;
  o.dual_stack = o.bind.is_v6() && o.bind.IsUnspecified();
  o.receive_buffer_bytes = 4 << 20;
  o.send_buffer_bytes = 4 << 20;
  o.logger = logger_;
  MESHVPN_ASSIGN_OR_RETURN(udp_, udp::UdpSocket::Open(loop_, &pool_, std::move(o)));
  udp_receiver_.owner = this;

  for (size_t i = 0; i < config_.upstreams.size(); ++i) {
    udp::UdpSocketOptions u;
    u.bind = udp::Endpoint::Any(config_.upstreams[i].family(), 0);
    u.dual_stack = false;
    u.batch_size = 16;
    u.gro = false;
    u.logger = logger_;
    // Answers may be as large as the client's EDNS size: whole-message buffers.
    MESHVPN_ASSIGN_OR_RETURN(auto socket,
                             udp::UdpSocket::Open(loop_, &upstream_pool_, std::move(u)));
    auto receiver = std::make_unique<UdpReceiver>();
    receiver->owner = this;
    receiver->upstream = static_cast<int>(i);
    MESHVPN_RETURN_IF_ERROR(socket->Start(receiver.get()));
    upstream_udp_.push_back(std::move(socket));
    upstream_receivers_.push_back(std::move(receiver));
  }

  // TCP on the port UDP got.
  MESHVPN_ASSIGN_OR_RETURN(listener_, UvTcp::Create(loop_, uv_tcp_init));
  listener_.set_owner(this);
  const udp::Endpoint tcp_at = config_.listen.WithPort(udp_->local_endpoint().port());
  socklen_t len = 0;
  sockaddr_storage ss = ToSockaddr(tcp_at, &len);
  const unsigned flags = tcp_at.is_v6() && !tcp_at.IsUnspecified() ? UV_TCP_IPV6ONLY : 0;
  if (int rc = uv_tcp_bind(listener_.get(), reinterpret_cast<sockaddr*>(&ss), flags); rc < 0) {
    return UvToStatus(rc, "bind tcp " + tcp_at.ToString());
  }
  if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), 256, &OnTcpConnection);
      rc < 0) {
    return UvToStatus(rc, "listen tcp " + tcp_at.ToString());
  }
  MESHVPN_ASSIGN_OR_RETURN(forwarder_timer_, UvTimer::Create(loop_, uv_timer_init));
  forwarder_timer_.set_owner(this);
  return udp_->Start(&udp_receiver_);
}

void UvDnsServer::UdpReceiver::OnDatagrams(std::span<udp::Datagram> batch) {
  if (upstream < 0) {
    owner->HandleClientDatagrams(batch);
  } else {
    owner->HandleUpstreamDatagrams(upstream, batch);
  }
}

void UvDnsServer::HandleClientDatagrams(std::span<udp::Datagram> batch) {
  udp_sends_.clear();
  size_t slot = 0;
  for (const udp::Datagram& d : batch) {
    MutableByteSpan out(udp_replies_.data() + slot * kUdpSlot, kUdpSlot);
    size_t size = 0;
    HandleQuery(d.buffer->span(), {Transport::kUdp, d.from, 0}, out, &size);
    if (size > 0) {
      udp_sends_.push_back({ByteSpan(out.data(), size), d.from});
      ++slot;
    }
  }
  if (!udp_sends_.empty()) {
    stats_.udp_send_failures += udp_sends_.size() - udp_->SendBatch(udp_sends_);
  }
  ArmForwarderTimer();
}

bool UvDnsServer::HandleQuery(ByteSpan message, const ClientRef& client, MutableByteSpan out,
                              size_t* reply_size) {
  *reply_size = 0;
  const MonoTime now = std::chrono::steady_clock::now();
  const Decision d = core_.Handle(message, client.from, client.transport, now, &query_, out);
  if (d.outcome != Outcome::kForward) {
    *reply_size = d.size;
    if (observer_ != nullptr)
      observer_->OnAnswered(query_, client.from, d, ByteSpan(out.data(), d.size));
    return false;
  }
  if (observer_ != nullptr) observer_->OnForwarded(query_, client.from, d.upstream);
  UpstreamSend send;
  size_t servfail = 0;
  if (forwarder_.Begin(query_, message, client, d.upstream, now, &send, out, &servfail)) {
    SendUpstream(send);
    return true;
  }
  *reply_size = servfail;
  return false;
}

void UvDnsServer::SendUpstream(const UpstreamSend& s) {
  if (s.via == Transport::kTcp) {
    StartUpstreamTcp(s);
    return;
  }
  if (!upstream_udp_[static_cast<size_t>(s.upstream)]->SendTo(
          s.message, config_.upstreams[static_cast<size_t>(s.upstream)])) {
    ++stats_.upstream_send_failures;  // the attempt's timer will retry or SERVFAIL it
  }
}

void UvDnsServer::HandleUpstreamDatagrams(int upstream, std::span<udp::Datagram> batch) {
  const udp::Endpoint& expected = config_.upstreams[static_cast<size_t>(upstream)];
  const MonoTime now = std::chrono::steady_clock::now();
  for (const udp::Datagram& d : batch) {
    if (!(d.from == expected)) {
      ++stats_.upstream_wrong_source;
      continue;
    }
    ClientDelivery delivery;
    UpstreamSend retry;
    MutableByteSpan out(out_.data() + kFrame, out_.size() - kFrame);
    switch (forwarder_.OnAnswer(upstream, Transport::kUdp, d.buffer->span(), now, out, &delivery,
                                &retry)) {
      case AnswerAction::kIgnore:
        break;
      case AnswerAction::kDeliver:
        Deliver(delivery, ByteSpan(out.data(), delivery.size));
        break;
      case AnswerAction::kRetryTcp:
        StartUpstreamTcp(retry);
        break;
    }
  }
  ArmForwarderTimer();
}

void UvDnsServer::Deliver(const ClientDelivery& d, ByteSpan response) {
  if (observer_ != nullptr) observer_->OnUpstreamAnswer(d, response);
  if (d.client.transport == Transport::kUdp) {
    if (!udp_->SendTo(response, d.client.from)) ++stats_.udp_send_failures;
    return;
  }
  auto it = connections_.find(d.client.connection);
  if (it == connections_.end()) return;  // the client went away
  TcpConnection* c = it->second.get();
  if (c->forwarded > 0) --c->forwarded;
  WriteTcp(c, response);
}

void UvDnsServer::ArmForwarderTimer() {
  const std::optional<MonoTime> next = forwarder_.NextDeadline();
  if (!next) {
    uv_timer_stop(forwarder_timer_.get());
    return;
  }
  const auto wait =
      std::chrono::ceil<std::chrono::milliseconds>(*next - std::chrono::steady_clock::now());
  uv_timer_start(
      forwarder_timer_.get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<UvDnsServer*>(t->data)->RunForwarderTimer();
      },
      static_cast<uint64_t>(std::max<int64_t>(wait.count(), 0)), 0);
}

void UvDnsServer::RunForwarderTimer() {
  MutableByteSpan out(out_.data() + kFrame, out_.size() - kFrame);
  forwarder_.Expire(
      std::chrono::steady_clock::now(), out, [&](const UpstreamSend& s) { SendUpstream(s); },
      [&](const ClientDelivery& d, ByteSpan response) { Deliver(d, response); });
  ArmForwarderTimer();
}

// ---- TCP clients

void UvDnsServer::OnTcpConnection(uv_stream_t* server, int status) {
  if (status < 0 || server->data == nullptr) return;
  static_cast<UvDnsServer*>(server->data)->Accept();
}

void UvDnsServer::Accept() {
  auto tcp = UvTcp::Create(loop_, uv_tcp_init);
  if (!tcp.ok()) return;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_.get()),
                reinterpret_cast<uv_stream_t*>(tcp->get())) != 0) {
    return;
  }
  if (connections_.size() >= config_.max_tcp_connections) {
    ++stats_.tcp_refused;
    return;  // *tcp closes as it goes out of scope
  }
  auto c = std::make_unique<TcpConnection>();
  c->server = this;
  c->id = next_connection_++;
  c->tcp = std::move(*tcp);
  sockaddr_storage ss{};
  int len = sizeof(ss);
  if (uv_tcp_getpeername(c->tcp.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
  auto peer =
      udp::Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), static_cast<socklen_t>(len));
  if (!peer) return;
  c->peer = *peer;
  auto idle = UvTimer::Create(loop_, uv_timer_init);
  if (!idle.ok()) return;
  c->idle = std::move(*idle);
  c->tcp.set_owner(c.get());
  c->idle.set_owner(c.get());
  uv_tcp_nodelay(c->tcp.get(), 1);
  const auto on_idle = [](uv_timer_t* t) {
    auto* conn = static_cast<TcpConnection*>(t->data);
    if (conn == nullptr) return;
    ++conn->server->stats_.tcp_idle_closed;
    conn->server->CloseConnection(conn->id);
  };
  uv_timer_start(c->idle.get(), on_idle, static_cast<uint64_t>(config_.tcp_idle_timeout.count()),
                 0);
  const auto on_alloc = [](uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* conn = static_cast<TcpConnection*>(h->data);
    std::vector<uint8_t>& b = conn->server->read_buffer_;
    *buf = uv_buf_init(reinterpret_cast<char*>(b.data()), static_cast<unsigned>(b.size()));
  };
  const auto on_read = [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* conn = static_cast<TcpConnection*>(s->data);
    if (conn != nullptr) conn->server->OnTcpRead(conn, n, buf);
  };
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(c->tcp.get()), on_alloc, on_read) != 0) return;
  ++stats_.tcp_accepted;
  connections_.emplace(c->id, std::move(c));
}

void UvDnsServer::CloseConnection(uint64_t id) {
  // Handles are closed by their destructors (UvHandle), after data is cleared.
  connections_.erase(id);
}

void UvDnsServer::OnTcpRead(TcpConnection* c, ssize_t n, const uv_buf_t* buf) {
  if (n < 0) {
    CloseConnection(c->id);
    return;
  }
  c->in.insert(c->in.end(), reinterpret_cast<const uint8_t*>(buf->base),
               reinterpret_cast<const uint8_t*>(buf->base) + n);
  size_t at = 0;
  bool answered_any = false;
  while (c->in.size() - at >= kFrame) {
    const size_t length = size_t{c->in[at]} << 8 | c->in[at + 1];
    if (c->in.size() - at < kFrame + length) break;
    const ByteSpan message(c->in.data() + at + kFrame, length);
    at += kFrame + length;
    answered_any = true;
    if (c->forwarded >= config_.max_tcp_queries_in_flight) {
      ++stats_.tcp_overloaded;
      CloseConnection(c->id);
      return;
    }
    size_t reply = 0;
    if (HandleQuery(message, {Transport::kTcp, c->peer, c->id},
                    MutableByteSpan(out_.data() + kFrame, out_.size() - kFrame), &reply)) {
      ++c->forwarded;
    }
    if (reply > 0) {
      WriteTcp(c, ByteSpan(out_.data() + kFrame, reply));
      if (connections_.find(c->id) == connections_.end()) return;  // closed by WriteTcp
    }
  }
  c->in.erase(c->in.begin(), c->in.begin() + static_cast<std::ptrdiff_t>(at));
  if (answered_any) {
    uv_timer_again(c->idle.get());  // a complete query restarts the idle clock
  }
  ArmForwarderTimer();
}

void UvDnsServer::WriteTcp(TcpConnection* c, ByteSpan message) {
  auto* stream = reinterpret_cast<uv_stream_t*>(c->tcp.get());
  if (uv_stream_get_write_queue_size(stream) > config_.max_tcp_write_queue ||
      !QueueWrite(stream, message)) {
    ++stats_.tcp_overloaded;
    CloseConnection(c->id);
  }
}

// ---- TCP retries to upstreams

void UvDnsServer::StartUpstreamTcp(const UpstreamSend& s) {
  const MonoTime now = std::chrono::steady_clock::now();
  auto fail = [&] {
    ClientDelivery d;
    MutableByteSpan out(out_.data() + kFrame, out_.size() - kFrame);
    if (forwarder_.OnTcpFailure(s.key, s.serial, now, out, &d))
      Deliver(d, ByteSpan(out.data(), d.size));
  };
  if (upstream_tcp_.size() >= config_.max_upstream_tcp) {
    fail();
    return;
  }
  auto u = std::make_unique<UpstreamTcp>();
  u->server = this;
  u->send = s;
  u->query.assign(s.message.begin(), s.message.end());
  u->send.message = ByteSpan(u->query.data(), u->query.size());
  auto tcp = UvTcp::Create(loop_, uv_tcp_init);
  auto timer = UvTimer::Create(loop_, uv_timer_init);
  if (!tcp.ok() || !timer.ok()) {
    fail();
    return;
  }
  u->tcp = std::move(*tcp);
  u->timer = std::move(*timer);
  u->tcp.set_owner(u.get());
  u->timer.set_owner(u.get());
  auto* connect = new ConnectRequest();
  connect->server = alive_;
  connect->serial = s.serial;
  socklen_t len = 0;
  sockaddr_storage ss = ToSockaddr(config_.upstreams[static_cast<size_t>(s.upstream)], &len);
  const auto on_connect = [](uv_connect_t* req, int status) {
    std::unique_ptr<ConnectRequest> request(reinterpret_cast<ConnectRequest*>(req));
    const std::shared_ptr<UvDnsServer*> server = request->server.lock();
    if (!server) return;  // the server is gone
    auto found = (*server)->upstream_tcp_.find(request->serial);
    if (found == (*server)->upstream_tcp_.end()) return;  // timed out before it connected
    UpstreamTcp* up = found->second.get();
    if (status < 0) {
      up->server->CloseUpstreamTcp(up->send.serial, true);
      return;
    }
    auto* stream = reinterpret_cast<uv_stream_t*>(up->tcp.get());
    const auto on_alloc = [](uv_handle_t* h, size_t, uv_buf_t* b) {
      auto* conn = static_cast<UpstreamTcp*>(h->data);
      std::vector<uint8_t>& rb = conn->server->read_buffer_;
      *b = uv_buf_init(reinterpret_cast<char*>(rb.data()), static_cast<unsigned>(rb.size()));
    };
    const auto on_read = [](uv_stream_t* st, ssize_t n, const uv_buf_t* b) {
      auto* conn = static_cast<UpstreamTcp*>(st->data);
      if (conn == nullptr) return;
      UvDnsServer* server = conn->server;
      if (n < 0) {
        server->CloseUpstreamTcp(conn->send.serial, true);
        return;
      }
      conn->in.insert(conn->in.end(), reinterpret_cast<const uint8_t*>(b->base),
                      reinterpret_cast<const uint8_t*>(b->base) + n);
      if (conn->in.size() > kFrame + kMaxMessageSize) {
        server->CloseUpstreamTcp(conn->send.serial, true);
        return;
      }
      if (conn->in.size() < kFrame) return;
      const size_t length = size_t{conn->in[0]} << 8 | conn->in[1];
      if (conn->in.size() < kFrame + length) return;
      ClientDelivery d;
      UpstreamSend retry;
      MutableByteSpan out(server->out_.data() + kFrame, server->out_.size() - kFrame);
      const AnswerAction a = server->forwarder_.OnAnswer(
          conn->send.upstream, Transport::kTcp, ByteSpan(conn->in.data() + kFrame, length),
          std::chrono::steady_clock::now(), out, &d, &retry);
      const uint64_t serial = conn->send.serial;
      server->CloseUpstreamTcp(serial, a != AnswerAction::kDeliver);
      if (a == AnswerAction::kDeliver) server->Deliver(d, ByteSpan(out.data(), d.size));
      server->ArmForwarderTimer();
    };
    if (!QueueWrite(stream, ByteSpan(up->query.data(), up->query.size())) ||
        uv_read_start(stream, on_alloc, on_read) != 0) {
      up->server->CloseUpstreamTcp(up->send.serial, true);
    }
  };
  if (uv_tcp_connect(&connect->req, u->tcp.get(), reinterpret_cast<sockaddr*>(&ss), on_connect) !=
      0) {
    delete connect;
    fail();
    return;
  }
  uv_timer_start(
      u->timer.get(),
      [](uv_timer_t* t) {
        auto* up = static_cast<UpstreamTcp*>(t->data);
        if (up != nullptr) up->server->CloseUpstreamTcp(up->send.serial, true);
      },
      static_cast<uint64_t>(config_.forwarder.tcp_timeout.count()), 0);
  upstream_tcp_.emplace(s.serial, std::move(u));
}

void UvDnsServer::CloseUpstreamTcp(uint64_t serial, bool failed) {
  auto it = upstream_tcp_.find(serial);
  if (it == upstream_tcp_.end()) return;
  std::unique_ptr<UpstreamTcp> u = std::move(it->second);
  upstream_tcp_.erase(it);  // a connect callback still to come finds nobody
  if (failed) {
    ClientDelivery d;
    MutableByteSpan out(out_.data() + kFrame, out_.size() - kFrame);
    if (forwarder_.OnTcpFailure(u->send.key, u->send.serial, std::chrono::steady_clock::now(), out,
                                &d)) {
      Deliver(d, ByteSpan(out.data(), d.size));
    }
  }
  // u's handles close as it is destroyed here.
}

}  // namespace meshvpn::dns
