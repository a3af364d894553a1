// wg_ping: a WireGuard peer inside one unprivileged process, with no TUN device: it builds ICMP
// echo requests itself, hands them to libwg's UvDevice (InjectPacket) and reads the replies from
// a PacketSink, printing ping's lines and summary.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/ip_address.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/wg/device_config.h"
#include "meshvpn/wg/uv_device.h"
#include "meshvpn/x25519/keys.h"

ABSL_FLAG(std::string, private_key_file, "",
          "file holding our private key in base64, as `wg genkey` writes it (required)");
ABSL_FLAG(int32_t, listen_port, 0, "our UDP port (0: any free port)");
ABSL_FLAG(std::string, peer_public_key, "", "the peer's public key, base64 (required)");
ABSL_FLAG(std::string, peer_endpoint, "",
          "the peer's UDP address, ip:port or [ipv6]:port, e.g. 10.210.0.2:51820 (required)");
ABSL_FLAG(std::string, address, "",
          "our own IPv4 address inside the tunnel, e.g. 10.9.0.1: the source of the echo "
          "requests; the peer must list it in its allowed IPs (required)");
ABSL_FLAG(std::string, target, "",
          "the tunnel IPv4 address to ping, e.g. 10.9.0.2; it becomes the peer's only allowed IP "
          "(/32) (required)");
ABSL_FLAG(int32_t, count, 5, "echo requests to send (1..65535)");
ABSL_FLAG(int32_t, interval_ms, 1000, "milliseconds between echo requests");
ABSL_FLAG(int32_t, wait_ms, 2000,
          "after the last request, how long to wait for missing replies (milliseconds)");
ABSL_FLAG(int32_t, size, 56, "ICMP data bytes per request, as ping -s (0..1392)");
ABSL_FLAG(std::string, psk_file, "",
          "optional: file holding a preshared key in base64 (`wg genpsk`); the peer needs the "
          "same one");
ABSL_FLAG(bool, verbose, false, "also print libwg's log (handshake details) on stderr");

namespace meshvpn::tools {
namespace {

constexpr char kUsage[] =
    R"(ping a host through WireGuard from inside an ordinary program - no TUN device,
no root, no kernel module.

What it shows. A VPN like wireguard-go or Tailscale normally sits behind a TUN interface: the
kernel routes packets into it, WireGuard encrypts them and sends them over UDP. But the WireGuard
protocol itself only needs "IP packets in, IP packets out" and a UDP socket. meshvpn's wg
library lets an app supply the IP packets itself:

  UvDeviceOptions::tun_fd = -1, packet_sink = <our object>   no TUN device at all
  UvDevice::Apply(DeviceConfigUpdate)                         keys, listen port, the peer
  UvDevice::InjectPacket(ip_packet)                           an IP packet to encrypt and send
  PacketSink::OnPacket(ip_packet)                             a decrypted packet from the peer

wg_ping builds each ICMP echo request (IPv4 header, ICMP header, checksums) in its own memory,
injects it; libwg runs the handshake (Noise IKpsk2), seals the packet into a WireGuard transport
message and sends it over UDP. The peer - wireguard-go or the Linux module, with a real TUN
interface - decrypts it, its kernel answers the ping, and the reply comes back encrypted. libwg
opens it, checks the source against the allowed IPs and gives it to wg_ping, which prints it
like ping does. Nothing here needs CAP_NET_ADMIN: only the peer with the TUN interface needs root.
This is how an app embeds WireGuard (Tailscale's tsnet does the same with a userspace TCP/IP stack).

Example (the peer: a normal WireGuard interface 10.9.0.2/24 with us as a peer):
  wg genkey > me.key; wg pubkey < me.key         give this public key to the peer:
  (peer) wg set wg0 peer <our public key> allowed-ips 10.9.0.1/32
  wg_ping --private-key-file me.key --peer-public-key <peer key> \
          --peer-endpoint 192.0.2.2:51820 --address 10.9.0.1 --target 10.9.0.2 --count 5

Output: a [Handshake] line, then "64 bytes from 10.9.0.2: icmp_seq=1 ttl=64 time=0.41 ms" per
reply (the first one includes the handshake: it waited for it), then ping's summary and the
WireGuard counters. Exit status 0 if every request was answered, 1 if not, 2 on bad flags or
a setup error (a key file, the UDP port).

Flags:)";

constexpr size_t kIpv4HeaderSize = 20;
constexpr size_t kIcmpHeaderSize = 8;
constexpr size_t kMtu = 1420;
constexpr int kMaxData = static_cast<int>(kMtu - kIpv4HeaderSize - kIcmpHeaderSize);
constexpr uint8_t kProtocolIcmp = 1;
constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpEchoRequest = 8;

using SteadyClock = std::chrono::steady_clock;

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string ShortKey(const x25519::PublicKey& key) { return key.ToBase64().substr(0, 6) + "..."; }

// The first line of a key file (as `wg genkey` / `wg genpsk` write it), trailing space removed.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot read %s", path));
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

void Wipe(std::string& text) {
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(text.data()), text.size()));
}

struct PingConfig {
  tun::IpAddress address;
  tun::IpAddress target;
  x25519::PublicKey peer_key;
  udp::Endpoint peer_endpoint;
  int count = 5;
  int interval_ms = 1000;
  int wait_ms = 2000;
  int size = 56;
  bool verbose = false;
};

// The pinger: owns the WireGuard device and the loop handles; every method runs on the loop
// thread. Requests go out from a repeating timer; replies arrive in OnPacket (called by libwg
// from inside its UDP callback, so it only records); a check handle, run after each loop
// iteration, prints handshake progress and ends the run.
class WgPing final : public wg::PacketSink {
 public:
  WgPing(uv_loop_t* loop, PingConfig config)
      : loop_(loop),
        config_(std::move(config)),
        identifier_(static_cast<uint16_t>(getpid())),
        sent_at_(static_cast<size_t>(config_.count) + 1),
        replied_(static_cast<size_t>(config_.count) + 1, false) {}

  absl::Status Start(const wg::DeviceConfigUpdate& update) {
    wg::UvDeviceOptions options;
    options.tun_fd = -1;  // no TUN device: packets come from InjectPacket, go to OnPacket
    options.packet_sink = this;
    options.mtu = kMtu;
    options.pool_buffers = 256;
    options.log_sink = &log_sink_;
    options.log_level = config_.verbose ? LogLevel::kDebug : LogLevel::kWarning;
    MESHVPN_ASSIGN_OR_RETURN(device_, wg::UvDevice::Create(loop_, options));
    MESHVPN_RETURN_IF_ERROR(device_->Apply(update));
    MESHVPN_RETURN_IF_ERROR(device_->Start());

    MESHVPN_ASSIGN_OR_RETURN(tick_, UvTimer::Create(loop_, uv_timer_init));
    tick_.set_owner(this);
    MESHVPN_ASSIGN_OR_RETURN(deadline_, UvTimer::Create(loop_, uv_timer_init));
    deadline_.set_owner(this);
    MESHVPN_ASSIGN_OR_RETURN(check_, UvHandle<uv_check_t>::Create(loop_, uv_check_init));
    check_.set_owner(this);
    uv_check_start(check_.get(), &WgPing::OnCheck);
    for (int signum : {SIGINT, SIGTERM}) {
      MESHVPN_ASSIGN_OR_RETURN(UvSignal handle, UvSignal::Create(loop_, uv_signal_init));
      handle.set_owner(this);
      uv_signal_start(handle.get(), &WgPing::OnSignal, signum);
      signals_.push_back(std::move(handle));
    }

    const std::string ours =
        device_->device().public_key() ? ShortKey(*device_->device().public_key()) : "(none)";
    std::printf("wg_ping: WireGuard in this process, no TUN device (our key %s, UDP port %d)\n",
                ours.c_str(), device_->bound_port());
    std::printf("Peer %s at %s, allowed IPs %s/32\n", ShortKey(config_.peer_key).c_str(),
                config_.peer_endpoint.ToString().c_str(), config_.target.ToString().c_str());
    std::printf("PING %s from %s: %d data bytes (%d-byte IPv4 packets, sealed by WireGuard)\n",
                config_.target.ToString().c_str(), config_.address.ToString().c_str(), config_.size,
                config_.size + static_cast<int>(kIpv4HeaderSize + kIcmpHeaderSize));
    std::fflush(stdout);
    started_ = SteadyClock::now();
    uv_timer_start(tick_.get(), &WgPing::OnTick, 0, static_cast<uint64_t>(config_.interval_ms));
    return absl::OkStatus();
  }

  // wg::PacketSink: a decrypted IP packet from the peer (allowed-IPs check already passed).
  void OnPacket(ByteSpan packet) override {
    const SteadyClock::time_point now = SteadyClock::now();
    const std::optional<Reply> reply = ParseEchoReply(packet);
    if (!reply) {
      ++ignored_;
      return;
    }
    const bool duplicate = replied_[reply->seq];
    if (!duplicate) {
      replied_[reply->seq] = true;
      ++received_;
    } else {
      ++duplicates_;
    }
    const double rtt = Ms(now - *sent_at_[reply->seq]);
    if (!duplicate) rtts_.push_back(rtt);
    // The handshake completed in this same callback, before the reply could arrive: say so first.
    PrintHandshakeProgress();
    std::printf("%d bytes from %s: icmp_seq=%d ttl=%d time=%.2f ms%s%s\n", reply->icmp_bytes,
                config_.target.ToString().c_str(), reply->seq, reply->ttl, rtt,
                duplicate ? " (DUP!)" : "", reply->data_ok ? "" : " (wrong data)");
    std::fflush(stdout);
  }

  // Prints the statistics; returns the exit status.
  int Summarize() {
    const double elapsed = last_sent_ ? Ms(*last_sent_ - started_) : 0;
    std::printf("\n--- %s ping statistics (WireGuard, no TUN) ---\n",
                config_.target.ToString().c_str());
    const int loss = transmitted_ == 0 ? 0 : 100 * (transmitted_ - received_) / transmitted_;
    std::printf("%d packets transmitted, %d received, %d%% packet loss, time %.0fms", transmitted_,
                received_, loss, elapsed);
    if (duplicates_ > 0) std::printf(", +%d duplicates", duplicates_);
    if (send_failures_ > 0) std::printf(", %d not sent (no buffer)", send_failures_);
    std::printf("\n");
    if (!rtts_.empty()) {
      double sum = 0;
      for (double r : rtts_) sum += r;
      std::printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n",
                  *std::min_element(rtts_.begin(), rtts_.end()), sum / rtts_.size(),
                  *std::max_element(rtts_.begin(), rtts_.end()));
    }
    if (device_) {
      const wg::DeviceStats& s = device_->device().stats();
      uint64_t rx = 0, tx = 0;
      for (const wg::PeerStatus& peer : device_->device().Status().peers) {
        rx += peer.rx_bytes;
        tx += peer.tx_bytes;
      }
      std::printf(
          "WireGuard: %llu handshake(s), %llu data packets sealed, %llu opened, UDP tx %llu B, "
          "rx %llu B, dropped: %s",
          (unsigned long long)s.handshakes_completed, (unsigned long long)s.packets_sent,
          (unsigned long long)s.packets_received, (unsigned long long)tx, (unsigned long long)rx,
          wg::FormatDrops(s).c_str());
      if (ignored_ > 0) std::printf("; %d other packets ignored", ignored_);
      std::printf("\n");
    }
    std::fflush(stdout);
    return transmitted_ == config_.count && received_ == config_.count ? 0 : 1;
  }

  void Destroy() {
    Finish();
    device_.reset();
  }

 private:
  struct Reply {
    int seq;
    int ttl;
    int icmp_bytes;
    bool data_ok;
  };

  // An IPv4 ICMP echo reply from the target to us, answering one of our requests; else nullopt.
  std::optional<Reply> ParseEchoReply(ByteSpan p) const {
    if (p.size() < kIpv4HeaderSize || (p[0] >> 4) != 4) return std::nullopt;
    const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    const size_t total = LoadBe16(&p[2]);
    if (ihl < kIpv4HeaderSize || total < ihl + kIcmpHeaderSize || total > p.size()) {
      return std::nullopt;
    }
    if (p[9] != kProtocolIcmp || tun::InternetChecksum(p.first(ihl)) != 0) return std::nullopt;
    if (!std::equal(p.begin() + 12, p.begin() + 16, config_.target.bytes().begin()) ||
        !std::equal(p.begin() + 16, p.begin() + 20, config_.address.bytes().begin())) {
      return std::nullopt;
    }
    const ByteSpan icmp = p.subspan(ihl, total - ihl);
    if (icmp[0] != kIcmpEchoReply || icmp[1] != 0 || tun::InternetChecksum(icmp) != 0) {
      return std::nullopt;
    }
    const int seq = LoadBe16(&icmp[6]);
    if (LoadBe16(&icmp[4]) != identifier_ || seq < 1 || seq > config_.count ||
        !sent_at_[static_cast<size_t>(seq)]) {
      return std::nullopt;
    }
    bool data_ok = icmp.size() == kIcmpHeaderSize + static_cast<size_t>(config_.size);
    for (size_t i = kIcmpHeaderSize; data_ok && i < icmp.size(); ++i) {
      data_ok = icmp[i] == static_cast<uint8_t>(i - kIcmpHeaderSize);
    }
    return Reply{seq, p[8], static_cast<int>(icmp.size()), data_ok};
  }

  // IPv4 header (DF, TTL 64) + ICMP echo request (our identifier, seq) + data 00 01 02 ...
  size_t BuildEchoRequest(int seq) {
    const size_t icmp_size = kIcmpHeaderSize + static_cast<size_t>(config_.size);
    const size_t total = kIpv4HeaderSize + icmp_size;
    uint8_t* ip = packet_.data();
    std::fill(ip, ip + total, 0);
    ip[0] = 0x45;  // version 4, header length 5 words
    StoreBe16(ip + 2, static_cast<uint16_t>(total));
    StoreBe16(ip + 4, static_cast<uint16_t>(seq));  // identification
    StoreBe16(ip + 6, 0x4000);                      // don't fragment
    ip[8] = 64;                                     // TTL
    ip[9] = kProtocolIcmp;
    std::copy_n(config_.address.bytes().begin(), 4, ip + 12);
    std::copy_n(config_.target.bytes().begin(), 4, ip + 16);
    StoreBe16(ip + 10, tun::InternetChecksum(ByteSpan(ip, kIpv4HeaderSize)));
    uint8_t* icmp = ip + kIpv4HeaderSize;
    icmp[0] = kIcmpEchoRequest;
    StoreBe16(icmp + 4, identifier_);
    StoreBe16(icmp + 6, static_cast<uint16_t>(seq));
    for (size_t i = kIcmpHeaderSize; i < icmp_size; ++i) {
      icmp[i] = static_cast<uint8_t>(i - kIcmpHeaderSize);
    }
    StoreBe16(icmp + 2, tun::InternetChecksum(ByteSpan(icmp, icmp_size)));
    return total;
  }

  static void OnTick(uv_timer_t* timer) {
    if (auto* self = static_cast<WgPing*>(timer->data)) self->SendNext();
  }
  void SendNext() {
    if (transmitted_ >= config_.count) return;
    const int seq = transmitted_ + 1;
    const size_t size = BuildEchoRequest(seq);
    sent_at_[static_cast<size_t>(seq)] = SteadyClock::now();
    last_sent_ = sent_at_[static_cast<size_t>(seq)];
    if (!device_->InjectPacket(ByteSpan(packet_.data(), size))) ++send_failures_;
    ++transmitted_;
    PrintHandshakeProgress();
    if (transmitted_ == config_.count) {
      uv_timer_stop(tick_.get());
      uv_timer_start(deadline_.get(), &WgPing::OnDeadline, static_cast<uint64_t>(config_.wait_ms),
                     0);
    }
  }

  static void OnDeadline(uv_timer_t* timer) {
    if (auto* self = static_cast<WgPing*>(timer->data)) self->Finish();
  }

  static void OnSignal(uv_signal_t* handle, int) {
    if (auto* self = static_cast<WgPing*>(handle->data)) self->Finish();
  }

  // Runs after every loop iteration, outside libwg's callbacks: the place to stop the device.
  static void OnCheck(uv_check_t* check) {
    if (auto* self = static_cast<WgPing*>(check->data)) {
      self->PrintHandshakeProgress();
      if (self->received_ == self->config_.count) self->Finish();
    }
  }

  // The handshake as the device's counters show it: an initiation sent (by the first injected
  // packet, which waits for the session), then completed.
  void PrintHandshakeProgress() {
    if (!device_) return;
    const wg::DeviceStats& s = device_->device().stats();
    if (s.initiations_sent > initiations_seen_) {
      if (initiations_seen_ == 0) first_initiation_ = SteadyClock::now();
      initiations_seen_ = s.initiations_sent;
      if (s.handshakes_completed == handshakes_seen_) {
        std::printf("[Handshake] initiation %llu sent to %s (the echo request waits for it)\n",
                    (unsigned long long)initiations_seen_, ShortKey(config_.peer_key).c_str());
      }
    }
    if (s.handshakes_completed > handshakes_seen_) {
      handshakes_seen_ = s.handshakes_completed;
      std::printf("[Handshake] complete with %s, session established (%.2f ms)\n",
                  ShortKey(config_.peer_key).c_str(), Ms(SteadyClock::now() - first_initiation_));
    }
    std::fflush(stdout);
  }

  // Stops everything; uv_run then returns (every handle is closed or inactive).
  void Finish() {
    for (UvSignal& s : signals_) s.Reset();
    signals_.clear();
    tick_.Reset();
    deadline_.Reset();
    check_.Reset();
    if (device_) device_->Stop();
  }

  uv_loop_t* loop_;
  PingConfig config_;
  const uint16_t identifier_;
  StderrLogSink log_sink_;
  std::unique_ptr<wg::UvDevice> device_;
  UvTimer tick_;
  UvTimer deadline_;
  UvHandle<uv_check_t> check_;
  std::vector<UvSignal> signals_;
  std::array<uint8_t, kMtu> packet_{};

  SteadyClock::time_point started_{};
  std::optional<SteadyClock::time_point> last_sent_;
  SteadyClock::time_point first_initiation_{};
  std::vector<std::optional<SteadyClock::time_point>> sent_at_;  // by seq
  std::vector<bool> replied_;                                    // by seq
  std::vector<double> rtts_;
  int transmitted_ = 0;
  int received_ = 0;
  int duplicates_ = 0;
  int ignored_ = 0;
  int send_failures_ = 0;
  uint64_t initiations_seen_ = 0;
  uint64_t handshakes_seen_ = 0;
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "wg_ping: %s (see --help)\n", message.c_str());
  return 2;
}

absl::StatusOr<tun::IpAddress> ParseV4(const std::string& flag, const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrFormat("--%s is required", flag));
  auto address = tun::IpAddress::Parse(text);
  if (!address.ok() || !address->is_v4()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--%s '%s' is not an IPv4 address", flag, text));
  }
  return *address;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args = InitTool(argc, argv, kUsage);
  if (!args.empty()) return Usage("unexpected argument '" + args[0] + "'");

  PingConfig config;
  config.count = absl::GetFlag(FLAGS_count);
  config.interval_ms = absl::GetFlag(FLAGS_interval_ms);
  config.wait_ms = absl::GetFlag(FLAGS_wait_ms);
  config.size = absl::GetFlag(FLAGS_size);
  config.verbose = absl::GetFlag(FLAGS_verbose);
  if (config.count < 1 || config.count > 65535) return Usage("--count must be 1..65535");
  if (config.interval_ms < 1) return Usage("--interval-ms must be at least 1");
  if (config.wait_ms < 0) return Usage("--wait-ms must not be negative");
  if (config.size < 0 || config.size > kMaxData) {
    return Usage(
        absl::StrFormat("--size must be 0..%d (the packet must fit the MTU %d)", kMaxData, kMtu));
  }
  const int listen_port = absl::GetFlag(FLAGS_listen_port);
  if (listen_port < 0 || listen_port > 65535) return Usage("--listen-port must be 0..65535");

  auto address = ParseV4("address", absl::GetFlag(FLAGS_address));
  if (!address.ok()) return Usage(std::string(address.status().message()));
  auto target = ParseV4("target", absl::GetFlag(FLAGS_target));
  if (!target.ok()) return Usage(std::string(target.status().message()));
  config.address = *address;
  config.target = *target;

  const std::string peer_key_text = absl::GetFlag(FLAGS_peer_public_key);
  if (peer_key_text.empty()) return Usage("--peer-public-key is required");
  auto peer_key = x25519::PublicKey::FromBase64(peer_key_text);
  if (!peer_key.ok()) {
    return Usage(absl::StrFormat("--peer-public-key: %s", peer_key.status().message()));
  }
  config.peer_key = *peer_key;

  const std::string endpoint_text = absl::GetFlag(FLAGS_peer_endpoint);
  if (endpoint_text.empty()) return Usage("--peer-endpoint is required");
  auto endpoint = udp::Endpoint::Parse(endpoint_text);
  if (!endpoint.ok() || endpoint->port() == 0) {
    return Usage(absl::StrFormat("--peer-endpoint '%s' is not ip:port", endpoint_text));
  }
  config.peer_endpoint = *endpoint;

  const std::string key_file = absl::GetFlag(FLAGS_private_key_file);
  if (key_file.empty()) return Usage("--private-key-file is required");
  auto key_text = ReadKeyFile(key_file);
  if (!key_text.ok()) return Usage(std::string(key_text.status().message()));
  auto private_key = x25519::PrivateKey::FromBase64(*key_text);
  Wipe(*key_text);
  if (!private_key.ok()) {
    return Usage(absl::StrFormat("%s: %s", key_file, private_key.status().message()));
  }

  wg::DeviceConfigUpdate update;
  update.private_key = *std::move(private_key);
  update.listen_port = static_cast<uint16_t>(listen_port);
  wg::PeerConfigUpdate peer;
  peer.public_key = config.peer_key;
  peer.endpoint = config.peer_endpoint;
  peer.replace_allowed_ips = true;
  peer.allowed_ips.push_back(tun::IpPrefix{config.target, 32});
  if (const std::string psk_file = absl::GetFlag(FLAGS_psk_file); !psk_file.empty()) {
    auto psk_text = ReadKeyFile(psk_file);
    if (!psk_text.ok()) return Usage(std::string(psk_text.status().message()));
    auto psk = x25519::PresharedKey::FromBase64(*psk_text);
    Wipe(*psk_text);
    if (!psk.ok()) return Usage(absl::StrFormat("%s: %s", psk_file, psk.status().message()));
    peer.preshared_key = *std::move(psk);
  }
  update.peers.push_back(std::move(peer));

  UvLoop loop;
  auto pinger = std::make_unique<WgPing>(loop.get(), config);
  absl::Status status = pinger->Start(update);
  int rc = 2;
  if (status.ok()) {
    loop.Run();
    rc = pinger->Summarize();
  } else {
    std::fprintf(stderr, "wg_ping: %s\n", std::string(status.message()).c_str());
  }
  pinger->Destroy();
  pinger.reset();
  if (loop.Close() != 0) {
    std::fprintf(stderr, "wg_ping: a libuv handle was left open\n");
    return rc == 0 ? 1 : rc;
  }
  return rc;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
