// stun_client: asks STUN servers for this host's public address and works out the NAT's
// behaviour (deep dive project 2: "STUN Client Implementation").
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/stun/nat_discovery.h"
#include "meshvpn/stun/uv_stun_runner.h"
#include "meshvpn/udp/resolve.h"

ABSL_FLAG(std::vector<std::string>, server, {},
          "STUN server as HOST:PORT (a name or an address; \"[v6]:port\" for IPv6). Repeat the "
          "flag or separate with commas for several. Default: stun.l.google.com:19302 and "
          "stun1.l.google.com:19302");
ABSL_FLAG(std::string, local, "",
          "where our socket binds, e.g. \"0.0.0.0:0\" (IPv4 only) or \":5000\"; empty: any free "
          "port on every address");
ABSL_FLAG(bool, json, false, "print one JSON object instead of the text report");
ABSL_FLAG(bool, nat, true,
          "run the RFC 5780 filtering and hairpinning tests (mapping tests II/III still run "
          "against an RFC 5780 server)");
ABSL_FLAG(bool, hairpin, true, "test hairpinning (sending to our own public address)");
ABSL_FLAG(int32_t, rto_ms, 500,
          "first retransmission timeout in ms; it doubles after each send (RFC 8489: 500)");
ABSL_FLAG(int32_t, sends, 7, "sends per request before giving up (RFC 8489 Rc: 7)");
ABSL_FLAG(bool, verbose, false, "log socket setup to stderr");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage = R"(find this host's public address and the kind of NAT it is behind.

A STUN server answers a "Binding request" with the address and port it saw the request
come from: behind a NAT that is the NAT's public side, the "mapped address". Asking
several servers, and asking an RFC 5780 server (one that has a second IP address and
port) to answer from elsewhere, shows how the NAT maps and filters:
  mapping    does the NAT keep the same public port for every destination?
             (endpoint-independent) or pick a new one per destination (symmetric)?
  filtering  who may send to that public port: anyone, only addresses we sent to,
             or only the exact address:port we sent to?
Those answers decide whether two peers can punch a direct UDP path to each other
(the way Tailscale does) or need a relay.

Examples:
  stun_client                                          Google's public servers
  stun_client --server stun.example.org:3478           one server (RFC 5780 if it can)
  stun_client --server 192.0.2.1:3478 --server [2001:db8::1]:3478 --json

Output, per server: the local address our socket used, the mapped (public) address the
server saw and the response time; then "NAT Analysis": public IP, the classic NAT name
(Full Cone, Restricted Cone, Port-Restricted Cone, Symmetric), hairpinning, whether UDP
is blocked, and a recommendation. Requests are retransmitted as RFC 8489 says (0.5 s,
doubling, 7 sends), so a server that never answers takes 39.5 s to give up.
Exit status: 0 when at least one server answered, 1 otherwise.

Flags:)";

// --server may be repeated; abseil keeps only the last value, so collect them all first.
std::vector<std::string> CollectServers(int argc, char** argv) {
  std::vector<std::string> out;
  auto add = [&](std::string_view v) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string_view::npos) comma = v.size();
      if (comma > start) out.emplace_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    for (std::string_view name : {"--server", "-server"}) {
      if (a == name && i + 1 < argc) {
        add(argv[i + 1]);
      } else if (a.size() > name.size() && a.substr(0, name.size()) == name &&
                 a[name.size()] == '=') {
        add(a.substr(name.size() + 1));
      }
    }
  }
  return out;
}

// The source address the kernel would use toward `to` (a connected UDP socket's name).
std::optional<udp::Endpoint> RouteSource(const udp::Endpoint& to) {
  sockaddr_storage ss{};
  const socklen_t len = to.ToSockaddr(to.family(), &ss);
  if (len == 0) return std::nullopt;
  const int fd = socket(to.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return std::nullopt;
  std::optional<udp::Endpoint> result;
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0) {
    result = udp::Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&local), local_len);
  }
  close(fd);
  return result;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string OptEndpoint(const std::optional<udp::Endpoint>& e) {
  return e ? JsonString(e->ToString()) : "null";
}

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string Describe(const stun::TransactionResult& r) {
  switch (r.outcome) {
    case stun::Outcome::kSuccess:
      return "ok";
    case stun::Outcome::kErrorResponse:
      return absl::StrFormat("error %d %s", r.error_code, r.error_reason);
    case stun::Outcome::kTimeout:
      return absl::StrFormat("no response after %d sends (%.1fs)", r.sends,
                             static_cast<double>(Millis(r.elapsed)) / 1000.0);
    default:
      return std::string(stun::ToString(r.outcome));
  }
}

void PrintText(const std::vector<std::string>& names, const stun::NatReport& r, bool nat) {
  for (size_t i = 0; i < r.probes.size(); ++i) {
    const stun::ServerProbe& p = r.probes[i];
    std::printf("Server: %s", names[i].c_str());
    if (names[i] != p.server.ToString()) std::printf(" (%s)", p.server.ToString().c_str());
    std::printf("\n");
    if (p.local) std::printf("Local address: %s\n", p.local->ToString().c_str());
    if (p.result.outcome == stun::Outcome::kSuccess) {
      std::printf("Mapped address: %s\n", p.result.mapped->ToString().c_str());
      std::printf("Response time: %lldms\n", static_cast<long long>(Millis(p.result.rtt)));
      if (p.result.other_address) {
        std::printf("Other address: %s (RFC 5780)\n", p.result.other_address->ToString().c_str());
      }
    } else {
      std::printf("Error: %s\n", Describe(p.result).c_str());
    }
  }
  std::printf("NAT Analysis:\n");
  std::printf("Public IP: %s\n",
              r.public_endpoint ? r.public_endpoint->AddressString().c_str() : "unknown");
  if (nat || r.udp_blocked) {
    std::printf("NAT Type: %s\n", r.ClassicName().c_str());
    std::printf("Mapping: %s\n", std::string(stun::ToString(r.mapping)).c_str());
    std::printf("Filtering: %s\n", std::string(stun::ToString(r.filtering)).c_str());
    std::printf("Hairpinning: %s\n", std::string(stun::ToString(r.hairpinning)).c_str());
  }
  std::printf("UDP Blocked: %s\n", r.udp_blocked ? "Yes" : "No");
  if (nat || r.udp_blocked) std::printf("Recommendation: %s\n", r.Recommendation().c_str());
  if (!r.note.empty()) std::printf("Note: %s\n", r.note.c_str());
}

void PrintJson(const std::vector<std::string>& names, const stun::NatReport& r) {
  std::string out = "{\"servers\":[";
  for (size_t i = 0; i < r.probes.size(); ++i) {
    const stun::ServerProbe& p = r.probes[i];
    if (i > 0) out += ",";
    out += absl::StrFormat(
        "{\"server\":%s,\"address\":%s,\"local\":%s,\"ok\":%s,\"mapped\":%s,"
        "\"response_time_ms\":%d,\"sends\":%d,\"other_address\":%s,\"response_origin\":%s,"
        "\"software\":%s,\"error\":%s}",
        JsonString(names[i]), JsonString(p.server.ToString()), OptEndpoint(p.local),
        p.result.outcome == stun::Outcome::kSuccess ? "true" : "false",
        OptEndpoint(p.result.mapped), Millis(p.result.rtt), p.result.sends,
        OptEndpoint(p.result.other_address), OptEndpoint(p.result.response_origin),
        JsonString(p.result.software),
        p.result.outcome == stun::Outcome::kSuccess ? "null" : JsonString(Describe(p.result)));
  }
  out += absl::StrFormat(
      "],\"nat\":{\"public_ip\":%s,\"public_endpoint\":%s,\"type\":%s,\"mapping\":%s,"
      "\"filtering\":%s,\"hairpinning\":%s,\"udp_blocked\":%s,\"rfc5780_server\":%s,"
      "\"recommendation\":%s,\"note\":%s}}",
      r.public_endpoint ? JsonString(r.public_endpoint->AddressString()) : "null",
      OptEndpoint(r.public_endpoint), JsonString(r.ClassicName()),
      JsonString(stun::ToString(r.mapping)), JsonString(stun::ToString(r.filtering)),
      JsonString(stun::ToString(r.hairpinning)), r.udp_blocked ? "true" : "false",
      OptEndpoint(r.rfc5780_server), JsonString(r.Recommendation()), JsonString(r.note));
  std::printf("%s\n", out.c_str());
}

int Main(int argc, char** argv) {
  std::vector<std::string> names = CollectServers(argc, argv);
  InitTool(argc, argv, kUsage);
  if (names.empty()) names = {"stun.l.google.com:19302", "stun1.l.google.com:19302"};
  const bool json = absl::GetFlag(FLAGS_json);
  StderrLogSink sink;

  std::vector<udp::Endpoint> servers;
  for (const std::string& n : names) {
    auto e = udp::Resolve(n);
    if (!e.ok()) {
      std::fprintf(stderr, "stun_client: %s: %s\n", n.c_str(), e.status().ToString().c_str());
      return 1;
    }
    servers.push_back(*e);
  }

  UvLoop loop;
  int rc = 1;
  {
    PacketPool pool(32, 2048);
    udp::UdpSocketOptions so;
    if (!absl::GetFlag(FLAGS_local).empty()) {
      auto bind = udp::Endpoint::Parse(absl::GetFlag(FLAGS_local));
      if (!bind.ok()) {
        std::fprintf(stderr, "stun_client: --local: %s\n", bind.status().ToString().c_str());
        return 1;
      }
      so.bind = *bind;
    }
    if (absl::GetFlag(FLAGS_verbose)) so.logger = Logger(&sink, "udp");
    auto socket = udp::UdpSocket::Open(loop.get(), &pool, so);
    if (!socket.ok()) {
      std::fprintf(stderr, "stun_client: %s\n", socket.status().ToString().c_str());
      return 1;
    }
    const udp::Endpoint bound = (*socket)->local_endpoint();

    stun::NatDiscoveryOptions o;
    o.servers = servers;
    for (const udp::Endpoint& s : servers) {
      // The local address toward each server: the bound one, or the route's source address
      // with our port when bound to a wildcard.
      std::optional<udp::Endpoint> src =
          bound.IsUnspecified() ? RouteSource(s) : std::optional<udp::Endpoint>(bound);
      o.local.push_back(src ? src->WithPort(bound.port()) : bound);
    }
    o.policy.rto = std::chrono::milliseconds(absl::GetFlag(FLAGS_rto_ms));
    o.policy.max_sends = absl::GetFlag(FLAGS_sends);
    o.test_filtering = absl::GetFlag(FLAGS_nat);
    o.test_hairpinning = absl::GetFlag(FLAGS_nat) && absl::GetFlag(FLAGS_hairpin);
    o.software = "meshvpn stun_client";
    auto discovery = stun::NatDiscovery::Create(o, RealClock::Instance().Now());
    if (!discovery.ok()) {
      std::fprintf(stderr, "stun_client: %s\n", discovery.status().ToString().c_str());
      return 1;
    }
    auto runner = stun::UvStunRunner::Create(loop.get(), socket->get(), discovery->get());
    if (!runner.ok()) {
      std::fprintf(stderr, "stun_client: %s\n", runner.status().ToString().c_str());
      return 1;
    }
    if (!json) {
      std::printf("Querying STUN servers...\n");
      std::fflush(stdout);
    }
    if (auto st = (*runner)->Start(); !st.ok()) {
      std::fprintf(stderr, "stun_client: %s\n", st.ToString().c_str());
      return 1;
    }
    loop.Run();
    const stun::NatReport& report = (*discovery)->report();
    if (json) {
      PrintJson(names, report);
    } else {
      PrintText(names, report, absl::GetFlag(FLAGS_nat));
    }
    rc = report.udp_blocked ? 1 : 0;
  }
  loop.Close();
  return rc;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
