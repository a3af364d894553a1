// Names of DERP's frame types and peer-gone reasons, for logs and metrics labels.
#include "meshvpn/derp/messages.h"

namespace meshvpn::derp {

std::string_view ToString(FrameType type) {
  switch (type) {
    case FrameType::kServerKey:
      return "server_key";
    case FrameType::kClientInfo:
      return "client_info";
    case FrameType::kServerInfo:
      return "server_info";
    case FrameType::kSendPacket:
      return "send_packet";
    case FrameType::kRecvPacket:
      return "recv_packet";
    case FrameType::kKeepAlive:
      return "keep_alive";
    case FrameType::kNotePreferred:
      return "note_preferred";
    case FrameType::kPeerGone:
      return "peer_gone";
    case FrameType::kPeerPresent:
      return "peer_present";
    case FrameType::kForwardPacket:
      return "forward_packet";
    case FrameType::kWatchConns:
      return "watch_conns";
    case FrameType::kClosePeer:
      return "close_peer";
    case FrameType::kPing:
      return "ping";
    case FrameType::kPong:
      return "pong";
    case FrameType::kHealth:
      return "health";
    case FrameType::kRestarting:
      return "restarting";
  }
  return "unknown";
}

bool IsKnownFrameType(uint8_t type) {
  return (type >= 0x01 && type <= 0x0a) || (type >= 0x10 && type <= 0x15);
}

std::string_view ToString(PeerGoneReason reason) {
  switch (reason) {
    case PeerGoneReason::kDisconnected:
      return "disconnected";
    case PeerGoneReason::kNotHere:
      return "not_here";
    case PeerGoneReason::kMeshConnBroke:
      return "mesh_conn_broke";
  }
  return "unknown";
}

}  // namespace meshvpn::derp
