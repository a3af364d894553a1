// tun_logger (C project 1, "TUN Interface Packet Logger"): creates a TUN device and prints one
// line for every IP packet the kernel routes into it, then a statistics summary on Ctrl-C.
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/tun/ip_packet.h"
#include "meshvpn/tun/messages.h"
#include "meshvpn/tun/packet_printer.h"
#include "meshvpn/tun/tun_device.h"
#include "meshvpn/tun/uv_tun.h"

ABSL_FLAG(std::string, name, "",
          "the device name, e.g. tun0 or mvpn0 (at most 15 characters); empty lets the kernel "
          "choose the next free tunN");
ABSL_FLAG(std::vector<std::string>, address,
          std::vector<std::string>({"10.77.0.1/24", "fd77::1/64"}),
          "the device's own addresses with their prefix, comma-separated; each prefix is routed "
          "into the device (10.77.0.1/24 sends all of 10.77.0.0/24 here)");
ABSL_FLAG(int, mtu, 1420, "the device MTU: the largest IP packet the kernel hands it");
ABSL_FLAG(int, count, 0, "exit after this many packets (0: run until Ctrl-C)");
ABSL_FLAG(bool, hexdump, false, "also print every packet's bytes in hex, IP header included");
ABSL_FLAG(std::string, label, "",
          "the tag in front of each line (default: the device name in capitals, [TUN0])");

namespace meshvpn::tools {
namespace {

constexpr char kUsage[] = R"(create a TUN device and print every IP packet routed into it.

A TUN device is a network interface with no cable: when the kernel sends a packet "out" of it,
the packet is handed to the program that opened the device, as raw bytes starting with the IP
header. Every VPN starts here: WireGuard reads exactly these packets, encrypts them and sends
them on. This tool reads them and shows their headers instead.

Run it as root (creating a network device needs CAP_NET_ADMIN):

  sudo tun_logger                          # creates tun0 with 10.77.0.1/24 and fd77::1/64

then, in another terminal, send something into the device's subnets:

  ping -c 3 10.77.0.2                      # 10.77.0.0/24 is routed into tun0
  ping -6 -c 3 fd77::2
  curl --max-time 2 http://10.77.0.3/      # a TCP SYN (and its retries)
  dig @10.77.0.4 example.com               # a UDP DNS query

Each packet becomes one line:

  [TUN0] 10.77.0.1 -> 10.77.0.2 | ICMP Echo Request | 64 bytes
  [TUN0] 10.77.0.1:51234 -> 10.77.0.3:80 | TCP [SYN] seq=2841193265 | 40 bytes
  [TUN0] [fd77::1]:40904 -> [fd77::4]:53 | UDP | 37 bytes

source -> destination, the protocol (ICMP type, TCP flags, ports), and the size of what the IP
header carries (ping's "64 bytes": 8 bytes of ICMP header + 56 of data; the IP header adds 20
for IPv4, 40 for IPv6). Fragments show their id and offset (try ping -s 3000), IPv6 extension
headers their names (ext HBH,FRAG), broken packets the reason (malformed: bad UDP checksum).

Nobody answers your pings: the packets end here, in this program. Ctrl-C (or --count) stops it
and prints how many packets of each kind it saw.

Flags:)";

// Counts what the logger saw, by family and protocol.
struct Tally {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t ipv4 = 0;
  uint64_t ipv6 = 0;
  uint64_t icmp = 0;
  uint64_t icmpv6 = 0;
  uint64_t tcp = 0;
  uint64_t udp = 0;
  uint64_t other = 0;
  uint64_t fragments = 0;
  std::array<uint64_t, tun::kParseErrorCount> malformed{};
};

class PacketLogger final : public tun::TunPacketHandler {
 public:
  PacketLogger(uv_loop_t* loop, std::string label, uint64_t limit, bool hexdump)
      : loop_(loop), label_(std::move(label)), limit_(limit), hexdump_(hexdump) {}

  absl::Status Start(tun::TunDevice device, size_t pool_buffer_size) {
    device_.emplace(std::move(device));
    pool_ = std::make_unique<PacketPool>(256, pool_buffer_size);
    auto driver = tun::UvTunDriver::Create(loop_, device_->fd(), pool_.get(), this);
    if (!driver.ok()) return driver.status();
    driver_ = std::move(*driver);
    for (int signal_number : {SIGINT, SIGTERM}) {
      auto handle = UvSignal::Create(loop_, uv_signal_init);
      if (!handle.ok()) return handle.status();
      handle->set_owner(this);
      uv_signal_start(handle->get(), &PacketLogger::OnSignal, signal_number);
      signals_.push_back(std::move(*handle));
    }
    started_ = RealClock::Instance().Now();
    return driver_->Start();
  }

  void OnTunPackets(std::span<PacketBuffer*> batch) override {
    for (PacketBuffer* buffer : batch) {
      if (finished_) return;
      Log(buffer->span());
      if (limit_ != 0 && tally_.packets >= limit_) Finish();
    }
  }

  void OnTunError(const absl::Status& error) override {
    std::fprintf(stderr, "tun_logger: %s\n", std::string(error.message()).c_str());
    exit_code_ = 1;
    Finish();
  }

  int exit_code() const { return exit_code_; }

 private:
  static void OnSignal(uv_signal_t* handle, int) {
    if (handle->data != nullptr) static_cast<PacketLogger*>(handle->data)->Finish();
  }

  void Log(ByteSpan packet) {
    const tun::ParseResult result = tun::ParseIpPacket(packet);
    std::printf("%s\n", tun::FormatPacketLine(label_, result, packet.size()).c_str());
    if (hexdump_) std::printf("%s", tun::HexDump(packet).c_str());
    Count(result, packet.size());
  }

  void Count(const tun::ParseResult& result, size_t size) {
    ++tally_.packets;
    tally_.bytes += size;
    const tun::IpPacket& p = result.packet;
    if (p.version == 4) ++tally_.ipv4;
    if (p.version == 6) ++tally_.ipv6;
    if (!result.ok()) {
      ++tally_.malformed[static_cast<size_t>(result.error)];
      return;
    }
    if (p.fragment.is_fragment) ++tally_.fragments;
    switch (p.protocol) {
      case tun::kProtoIcmp:
        ++tally_.icmp;
        break;
      case tun::kProtoIcmpv6:
        ++tally_.icmpv6;
        break;
      case tun::kProtoTcp:
        ++tally_.tcp;
        break;
      case tun::kProtoUdp:
        ++tally_.udp;
        break;
      default:
        ++tally_.other;
        break;
    }
  }

  // Stops reading and closes the signal handles; the loop then has nothing left and returns.
  void Finish() {
    if (finished_) return;
    finished_ = true;
    if (driver_) driver_->Stop();
    signals_.clear();
    PrintStatistics();
  }

  void PrintStatistics() {
    const double seconds =
        std::chrono::duration<double>(RealClock::Instance().Now() - started_).count();
    const tun::TunStats& driver = driver_->stats();
    uint64_t malformed = 0;
    for (uint64_t n : tally_.malformed) malformed += n;
    std::printf("--- %s statistics: %llu packets, %llu bytes in %.1f s ---\n",
                device_->name().c_str(), static_cast<unsigned long long>(tally_.packets),
                static_cast<unsigned long long>(tally_.bytes), seconds);
    std::printf("  IPv4 %llu   IPv6 %llu\n", static_cast<unsigned long long>(tally_.ipv4),
                static_cast<unsigned long long>(tally_.ipv6));
    std::printf(
        "  ICMP %llu   ICMPv6 %llu   TCP %llu   UDP %llu   other %llu\n",
        static_cast<unsigned long long>(tally_.icmp),
        static_cast<unsigned long long>(tally_.icmpv6), static_cast<unsigned long long>(tally_.tcp),
        static_cast<unsigned long long>(tally_.udp), static_cast<unsigned long long>(tally_.other));
    std::printf("  fragments %llu   malformed %llu   dropped %llu\n",
                static_cast<unsigned long long>(tally_.fragments),
                static_cast<unsigned long long>(malformed),
                static_cast<unsigned long long>(driver.total_dropped()));
    for (size_t i = 0; i < tally_.malformed.size(); ++i) {
      if (tally_.malformed[i] == 0) continue;
      std::printf("    malformed, %s: %llu\n",
                  std::string(tun::ToString(static_cast<tun::ParseError>(i))).c_str(),
                  static_cast<unsigned long long>(tally_.malformed[i]));
    }
    for (size_t i = 0; i < driver.drops.size(); ++i) {
      if (driver.drops[i] == 0) continue;
      std::printf("    dropped, %s: %llu\n",
                  std::string(tun::ToString(static_cast<tun::TunDropReason>(i))).c_str(),
                  static_cast<unsigned long long>(driver.drops[i]));
    }
    std::fflush(stdout);
  }

  uv_loop_t* loop_;
  std::string label_;
  uint64_t limit_;
  bool hexdump_;
  std::optional<tun::TunDevice> device_;
  std::unique_ptr<PacketPool> pool_;
  std::unique_ptr<tun::UvTunDriver> driver_;
  std::vector<UvSignal> signals_;
  MonoTime started_;
  Tally tally_;
  bool finished_ = false;
  int exit_code_ = 0;
};

// "10.77.0.2" for 10.77.0.1/24: an address inside the prefix that is not the device's own, to
// suggest as a ping target.
std::string PeerSuggestion(const tun::IpPrefix& prefix) {
  Bytes bytes(prefix.address.bytes().begin(), prefix.address.bytes().end());
  bytes.back() = static_cast<uint8_t>(bytes.back() + 1);
  const tun::IpAddress peer = tun::IpAddress::FromBytes(bytes);
  return prefix.Contains(peer) ? peer.ToString() : std::string();
}

int Main(int argc, char** argv) {
  const std::vector<std::string> positional = tools::InitTool(argc, argv, kUsage);
  if (!positional.empty()) {
    std::fprintf(stderr, "tun_logger: unexpected argument \"%s\" (see --help)\n",
                 positional[0].c_str());
    return 2;
  }
  tun::TunConfig config;
  config.name = absl::GetFlag(FLAGS_name);
  config.mtu = absl::GetFlag(FLAGS_mtu);
  for (const std::string& text : absl::GetFlag(FLAGS_address)) {
    auto prefix = tun::IpPrefix::Parse(text);
    if (!prefix.ok()) {
      std::fprintf(stderr, "tun_logger: --address: %s\n",
                   std::string(prefix.status().message()).c_str());
      return 2;
    }
    config.addresses.push_back(*prefix);
  }
  if (config.mtu < 68 || config.mtu > 65535 || absl::GetFlag(FLAGS_count) < 0) {
    std::fprintf(stderr, "tun_logger: --mtu must be 68..65535 and --count at least 0\n");
    return 2;
  }

  StderrLogSink log_sink;
  auto device = tun::TunDevice::Create(config, &log_sink);
  if (!device.ok()) {
    std::fprintf(stderr, "tun_logger: %s\n", std::string(device.status().message()).c_str());
    if (device.status().code() == absl::StatusCode::kPermissionDenied) {
      std::fprintf(stderr, "tun_logger: creating a network device needs root: sudo tun_logger\n");
    }
    return 1;
  }
  std::string label = absl::GetFlag(FLAGS_label);
  if (label.empty()) {
    label = device->name();
    for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string hint;
  for (const tun::IpPrefix& prefix : config.addresses) {
    const std::string peer = PeerSuggestion(prefix);
    if (!peer.empty()) {
      absl::StrAppendFormat(&hint, "%s%s %s", hint.empty() ? "" : ", ",
                            prefix.address.is_v4() ? "ping" : "ping -6", peer);
    }
  }
  std::fprintf(stderr, "tun_logger: listening on %s%s%s. Ctrl-C to stop.\n", device->name().c_str(),
               hint.empty() ? "" : "; try: ", hint.c_str());

  // Line-buffered even into a file or a pipe, so each packet shows up as it happens.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  UvLoop loop;
  int exit_code = 0;
  {
    PacketLogger logger(loop.get(), label, static_cast<uint64_t>(absl::GetFlag(FLAGS_count)),
                        absl::GetFlag(FLAGS_hexdump));
    // Room for the MTU behind the buffer's default headroom; the IP packet never exceeds the MTU.
    const size_t buffer_size = PacketBuffer::kDefaultHeadroom + static_cast<size_t>(config.mtu);
    if (absl::Status s = logger.Start(std::move(*device), buffer_size); !s.ok()) {
      std::fprintf(stderr, "tun_logger: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    loop.Run();
    exit_code = logger.exit_code();
  }
  loop.Close();
  return exit_code;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
