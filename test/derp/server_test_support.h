// Test support for the DERP server core: a fake transport and scripted clients that do the real
// handshake (handshake.h) and read what the core sends them (codec.h).
#pragma once

#include <catch2/catch.hpp>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/derp/codec.h"
#include "meshvpn/derp/handshake.h"
#include "meshvpn/derp/server_core.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::derp::testing {

class FakeTransport final : public ServerTransport {
 public:
  void WantWrite(ConnId conn) override { wants.insert(conn); }
  void CloseConnection(ConnId conn) override { closed.insert(conn); }
  absl::flat_hash_set<ConnId> wants;
  absl::flat_hash_set<ConnId> closed;
};

// One scripted client on a core. Connect() opens the connection and completes the handshake.
class ScriptedClient {
 public:
  ScriptedClient(ServerCore* core, FakeTransport* transport, ConnId id)
      : core_(core), transport_(transport), id_(id) {
    key_ = PrivateKey::Generate().value();
    pub_ = x25519::DerivePublicKey(key_).value();
  }
  // A client that presents the key of another (for duplicate connections).
  ScriptedClient(ServerCore* core, FakeTransport* transport, ConnId id, const ScriptedClient& same)
      : core_(core), transport_(transport), id_(id), key_(same.key_), pub_(same.pub_) {}

  const PublicKey& pub() const { return pub_; }
  ConnId id() const { return id_; }
  bool closed() const { return transport_->closed.contains(id_); }

  void Open(uint32_t ip = 0xc6336401, uint16_t port = 40000) {
    core_->OnConnectionOpened(id_, PeerEndpoint::FromIpv4(ip, port));
  }
  void SendHello(ClientInfo info) {
    info.version = kProtocolVersion;
    Write(MakeClientInfoFrame(key_, pub_, core_->public_key(), info));
  }
  // Open + greeting check + ClientInfo + ServerInfo check.
  void Connect(ClientInfo info = {}) {
    Open();
    const std::string greeting = Take();
    REQUIRE(greeting.size() == kFrameHeaderLen + kServerKeyFrameLen);
    REQUIRE(ParseServerKey(AsBytes(greeting).subspan(kFrameHeaderLen)).value() ==
            core_->public_key());
    SendHello(std::move(info));
    const std::string reply = Take();
    REQUIRE(reply.size() > kFrameHeaderLen);
    REQUIRE(static_cast<uint8_t>(reply[0]) == static_cast<uint8_t>(FrameType::kServerInfo));
    auto server_info =
        OpenServerInfo(key_, core_->public_key(), AsBytes(reply).subspan(kFrameHeaderLen));
    REQUIRE(server_info.ok());
    REQUIRE(server_info->version == kProtocolVersion);
  }
  void Write(const std::string& bytes) { core_->OnData(id_, AsBytes(bytes)); }
  void SendTo(const PublicKey& dst, std::string_view packet) {
    std::string frame;
    AppendSendPacket(dst, AsBytes(packet), &frame);
    Write(frame);
  }
  // All output the core has for this connection, as bytes.
  std::string Take() {
    std::string out;
    while (core_->TakeOutput(id_, &out, 1 << 20)) {
    }
    return out;
  }
  // All output, parsed as a client parses it (handshake frames are not expected here).
  std::vector<ServerMessage> Receive() {
    std::string bytes = Take();
    received_.push_back(bytes);  // keep the bytes alive: messages point into them
    FrameReader reader;
    reader.Feed(AsBytes(received_.back()));
    std::vector<ServerMessage> out;
    const std::string& kept = received_.back();
    size_t offset = 0;
    while (auto frame = reader.Next()) {
      FrameView view{frame->type,
                     AsBytes(kept).subspan(offset + kFrameHeaderLen, frame->payload.size())};
      offset += kFrameHeaderLen + frame->payload.size();
      auto message = ParseServerMessage(view);
      REQUIRE(message);
      out.push_back(*message);
    }
    return out;
  }
  // The packets in what Receive() returns, as "SOURCE-SHORTKEY:payload" strings.
  std::vector<std::string> Packets() {
    std::vector<std::string> out;
    for (const auto& m : Receive()) {
      if (const auto* p = std::get_if<RecvPacketMessage>(&m)) {
        out.push_back(ShortKey(p->source) + ":" + meshvpn::ToString(p->data));
      }
    }
    return out;
  }

 private:
  ServerCore* core_;
  FakeTransport* transport_;
  ConnId id_;
  PrivateKey key_;
  PublicKey pub_;
  std::deque<std::string> received_;  // a deque: elements never move, views stay valid
};

// A disco-looking payload (magic, 32-byte key, 24-byte nonce, then `tail`).
inline std::string DiscoPacket(std::string_view tail = "ping") {
  std::string p(reinterpret_cast<const char*>(kDiscoMagic.data()), kDiscoMagic.size());
  p += std::string(kKeyLen + kNonceLen, 'd');
  p += tail;
  return p;
}

inline ServerOptions OptionsWithNewKey() {
  ServerOptions options;
  options.private_key = PrivateKey::Generate().value();
  return options;
}

}  // namespace meshvpn::derp::testing
