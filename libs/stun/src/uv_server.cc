#include "meshvpn/stun/uv_server.h"

#include "meshvpn/base/status.h"

namespace meshvpn::stun {

absl::StatusOr<std::unique_ptr<UvStunServer>> UvStunServer::Start(uv_loop_t* loop, Server server,
                                                                  Logger logger) {
  std::unique_ptr<UvStunServer> s(new UvStunServer(std::move(server)));
  for (int slot = 0; slot < s->server_.slot_count(); ++slot) {
    udp::UdpSocketOptions o;
    o.bind = s->server_.SlotEndpoint(slot);
    o.dual_stack = o.bind.is_v6() && o.bind.IsUnspecified();
    o.logger = logger;
    MESHVPN_ASSIGN_OR_RETURN(auto socket, udp::UdpSocket::Open(loop, &s->pool_, std::move(o)));
    s->sockets_.push_back(std::move(socket));
  }
  for (int slot = 0; slot < s->server_.slot_count(); ++slot) {
    s->receivers_[slot].owner = s.get();
    s->receivers_[slot].slot = slot;
    MESHVPN_RETURN_IF_ERROR(s->sockets_[slot]->Start(&s->receivers_[slot]));
    logger.Info("answering STUN on %s (slot %d)", s->sockets_[slot]->local_endpoint().ToString(),
                slot);
  }
  return s;
}

UvStunServer::~UvStunServer() = default;

void UvStunServer::SlotReceiver::OnDatagrams(std::span<udp::Datagram> batch) {
  owner->Handle(slot, batch);
}

void UvStunServer::Handle(int slot, std::span<udp::Datagram> batch) {
  for (const udp::Datagram& d : batch) {
    ServerReply reply;
    if (server_.HandleDatagram(d.buffer->span(), d.from, slot, reply_, &reply) !=
        ServerDrop::kNone) {
      continue;
    }
    if (!sockets_[reply.from_slot]->SendTo(ByteSpan(reply_.data(), reply.size), reply.to)) {
      ++send_failures_;
    }
  }
}

}  // namespace meshvpn::stun
