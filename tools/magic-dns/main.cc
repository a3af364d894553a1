// magic-dns: a MagicDNS server. Names of the tailnet (NAME.TAILNET-DOMAIN, from --records) are
// answered here with A, AAAA and PTR; names under a --split suffix go to that suffix's server;
// everything else goes to -upstream. Only clients in --allow are answered.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/host_port.h"
#include "common/repeated_flag.h"
#include "common/stderr_log_sink.h"
#include "common/tool_init.h"
#include "common/tool_metrics.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/dns/uv_server.h"
#include "meshvpn/dns/uv_server_metrics.h"
#include "query_printer.h"

ABSL_FLAG(std::string, tailnet, "", "the tailnet domain: NAME.DOMAIN is answered here (required)");
ABSL_FLAG(std::string, upstream, "",
          "where other names go: HOST or HOST:PORT (port 53 by default; an IP address). "
          "Without it they are refused");
ABSL_FLAG(std::string, records, "",
          "the tailnet's names: one node a line, NAME IPV4 [IPV6]; '#' comments; names "
          "relative to the tailnet domain (a name ending in '.' is absolute). SIGHUP re-reads it");
ABSL_FLAG(std::string, listen, ":53",
          "UDP and TCP address and port (\":53\" every address; port 0 picks a free one)");
ABSL_FLAG(std::string, split, "",
          "SUFFIX=UPSTREAM: names under SUFFIX go to UPSTREAM (HOST[:PORT]); repeatable");
ABSL_FLAG(std::string, allow, "",
          "a client prefix to answer (repeatable); others get REFUSED. Default: 100.64.0.0/10, "
          "fd7a:115c:a1e0::/48, 127.0.0.0/8, ::1/128");
ABSL_FLAG(double, rate_limit, 200,
          "queries per second per client address (IPv6: per /64); bursts of twice that; 0: off");
ABSL_FLAG(int32_t, ttl, 300, "TTL of tailnet answers, seconds");
ABSL_FLAG(int32_t, upstream_timeout_ms, 1000,
          "per attempt; two UDP attempts, then SERVFAIL (a TCP retry gets twice this)");
ABSL_FLAG(int32_t, max_in_flight, 4096, "forwarded queries waiting at once; beyond, SERVFAIL");
ABSL_FLAG(int32_t, tcp_idle_timeout_ms, 10000, "close a TCP client with no complete query");
ABSL_FLAG(std::string, metrics_listen, "", meshvpn::tools::kMetricsListenHelp);
ABSL_FLAG(bool, quiet, false, "no per-query lines (for benchmarks)");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage = R"(magic-dns: reach tailnet nodes by name (MagicDNS).
It answers NAME.TAILNET A and AAAA from the records file, and PTR for addresses in
100.64.0.0/10 and fd7a:115c:a1e0::/48; a missing name gets NXDOMAIN and an existing
name without that type NODATA, both with the zone's SOA. Names under a --split
suffix go to that suffix's server, everything else to -upstream (over UDP, and over
TCP when the answer comes back truncated; SERVFAIL when the upstream is silent).
Only clients in --allow are answered (REFUSED otherwise); each is rate limited.

Examples:
  magic-dns -tailnet example.com -upstream 8.8.8.8
  magic-dns -tailnet example.com -upstream 127.0.0.1:5300 --records nodes.txt \
            --listen 127.0.0.1:5353 --split corp.internal=10.0.0.53
  dig @127.0.0.1 -p 5353 laptop.example.com

records file:
  laptop   100.100.1.1  fd7a:115c:a1e0::1
  server   100.100.1.2
  db.corp. 10.0.0.5                # absolute: an extra record

SIGHUP re-reads the records file (a bad file is refused and the old records stay).
Ctrl-C or SIGTERM prints the statistics and exits 0. Exit 2 on a bad records file or
a flag value magic-dns checks (-tailnet, --listen, -upstream, --split, --allow); exit 1
when the flag parser refuses the command line (an unknown flag, a number that is not one).

Flags:)";

struct App {
  uv_loop_t* loop = nullptr;
  std::string records_path;
  dns::Name domain;
  uint32_t serial = 1;
  dns::UvDnsServer* server = nullptr;
  UvSignal sigint, sigterm, sighup;

  static void OnStop(uv_signal_t* h, int) {
    if (h->data != nullptr) uv_stop(static_cast<App*>(h->data)->loop);
  }
  static void OnHup(uv_signal_t* h, int) {
    if (h->data != nullptr) static_cast<App*>(h->data)->Reload();
  }
  void Reload();
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "magic-dns: %s\n", what.c_str());
  return 2;
}

absl::StatusOr<std::vector<dns::HostRecord>> ReadRecords(const std::string& path) {
  if (path.empty()) return std::vector<dns::HostRecord>{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read it"));
  std::stringstream s;
  s << in.rdbuf();
  absl::StatusOr<std::vector<dns::HostRecord>> hosts = dns::ParseRecordsFile(s.str());
  if (!hosts.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", hosts.status().message()));
  }
  return hosts;
}

void App::Reload() {
  absl::StatusOr<std::vector<dns::HostRecord>> hosts = ReadRecords(records_path);
  absl::StatusOr<std::shared_ptr<const dns::RecordTable>> table =
      hosts.ok() ? dns::RecordTable::Build(domain, *hosts, serial + 1)
                 : absl::StatusOr<std::shared_ptr<const dns::RecordTable>>(hosts.status());
  if (!table.ok()) {
    std::printf("Records: reload refused, keeping %zu names: %s\n",
                server->core().records()->size(), std::string(table.status().message()).c_str());
  } else {
    ++serial;
    server->SetRecords(*table);
    std::printf("Records: reloaded %zu nodes from %s (serial %u)\n", (*table)->size(),
                records_path.c_str(), serial);
  }
  std::fflush(stdout);
}

// "8.8.8.8", "127.0.0.1:5300", "[::1]:53", "::1" -> an endpoint (numeric only: a DNS server
// cannot ask itself where its upstream is).
absl::StatusOr<udp::Endpoint> ParseUpstream(const std::string& text) {
  if (text.find(':') != std::string::npos && text.find(':') != text.rfind(':') &&
      text.front() != '[') {
    return udp::Endpoint::Parse(absl::StrCat("[", text, "]:53"));  // bare IPv6
  }
  absl::StatusOr<std::pair<std::string, uint16_t>> hp = SplitHostPort(text, 53);
  if (!hp.ok()) return hp.status();
  const std::string host =
      hp->first.find(':') != std::string::npos ? absl::StrCat("[", hp->first, "]") : hp->first;
  absl::StatusOr<udp::Endpoint> e = udp::Endpoint::Parse(absl::StrCat(host, ":", hp->second));
  if (!e.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": want an IP address, optionally with :PORT"));
  }
  return e;
}

void PrintStatistics(const dns::UvDnsServer& s) {
  const dns::ServerCoreStats& c = s.core().stats();
  const dns::ForwarderStats& f = s.forwarder().stats();
  std::printf("Statistics:\n");
  std::printf("  Queries: %llu UDP, %llu TCP\n", static_cast<unsigned long long>(c.udp_queries),
              static_cast<unsigned long long>(c.tcp_queries));
  // Outcomes that happened (the full list, zeros included, is in --metrics-listen).
  for (size_t i = 0; i < c.outcomes.size(); ++i) {
    if (c.outcomes[i] == 0) continue;
    std::printf("  %s: %llu\n", std::string(dns::ToString(static_cast<dns::Outcome>(i))).c_str(),
                static_cast<unsigned long long>(c.outcomes[i]));
  }
  std::printf("  Truncated answers (TC): %llu\n", static_cast<unsigned long long>(c.truncated));
  std::printf(
      "  Forwarder: %llu sent, %llu answered, %llu retransmits, %llu TCP retries, %llu "
      "truncated for the client, SERVFAIL %llu timeout / %llu full / %llu tcp, ignored %llu "
      "unknown id / %llu wrong question / %llu malformed / %llu wrong source\n",
      static_cast<unsigned long long>(f.forwarded), static_cast<unsigned long long>(f.answered),
      static_cast<unsigned long long>(f.retransmits),
      static_cast<unsigned long long>(f.tcp_retries),
      static_cast<unsigned long long>(f.truncated_for_client),
      static_cast<unsigned long long>(f.servfail_timeout),
      static_cast<unsigned long long>(f.servfail_full),
      static_cast<unsigned long long>(f.servfail_tcp),
      static_cast<unsigned long long>(f.ignored_unknown),
      static_cast<unsigned long long>(f.ignored_mismatch),
      static_cast<unsigned long long>(f.ignored_malformed),
      static_cast<unsigned long long>(s.stats().upstream_wrong_source));
  const dns::RateLimitStats& r = s.core().rate_limiter().stats();
  std::printf("  Rate limited: %llu (%zu sources tracked)\n",
              static_cast<unsigned long long>(r.limited),
              s.core().rate_limiter().tracked_sources());
  const dns::UvDnsServerStats& t = s.stats();
  std::printf("  TCP: %llu accepted, %llu refused (too many), %llu closed idle, %llu overloaded\n",
              static_cast<unsigned long long>(t.tcp_accepted),
              static_cast<unsigned long long>(t.tcp_refused),
              static_cast<unsigned long long>(t.tcp_idle_closed),
              static_cast<unsigned long long>(t.tcp_overloaded));
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  InitTool(argc, argv, kUsage);
  setvbuf(stdout, nullptr, _IOLBF, 0);
  StderrLogSink sink;
  const std::string tailnet = absl::GetFlag(FLAGS_tailnet);
  if (tailnet.empty()) return Fail("-tailnet DOMAIN is required (e.g. -tailnet example.com)");
  absl::StatusOr<dns::Name> domain = dns::Name::Parse(tailnet);
  if (!domain.ok() || domain->IsRoot())
    return Fail(absl::StrCat("-tailnet: \"", tailnet, "\" is not a domain"));
  absl::StatusOr<udp::Endpoint> listen = udp::Endpoint::Parse(absl::GetFlag(FLAGS_listen));
  if (!listen.ok()) return Fail(absl::StrCat("--listen: ", listen.status().message()));

  dns::UvDnsServerConfig config;
  config.listen = *listen;
  config.core.domain = *domain;
  config.core.ttl = static_cast<uint32_t>(std::max(absl::GetFlag(FLAGS_ttl), 0));
  config.core.rate.queries_per_second = absl::GetFlag(FLAGS_rate_limit);
  config.core.rate.burst = 2 * config.core.rate.queries_per_second;
  std::vector<std::string> upstream_names;
  if (const std::string u = absl::GetFlag(FLAGS_upstream); !u.empty()) {
    absl::StatusOr<udp::Endpoint> e = ParseUpstream(u);
    if (!e.ok()) return Fail(absl::StrCat("-upstream: ", e.status().message()));
    config.core.default_upstream = 0;
    config.upstreams.push_back(*e);
    upstream_names.push_back(e->ToString());
  }
  std::vector<std::string> split_lines;
  for (const std::string& s : RepeatedFlag(argc, argv, "split")) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos)
      return Fail(absl::StrCat("--split \"", s, "\": want SUFFIX=UPSTREAM"));
    absl::StatusOr<dns::Name> suffix = dns::Name::Parse(s.substr(0, eq));
    if (!suffix.ok() || suffix->IsRoot())
      return Fail(absl::StrCat("--split \"", s, "\": bad suffix"));
    absl::StatusOr<udp::Endpoint> e = ParseUpstream(s.substr(eq + 1));
    if (!e.ok()) return Fail(absl::StrCat("--split \"", s, "\": ", e.status().message()));
    config.core.split.push_back({*suffix, static_cast<int>(config.upstreams.size())});
    config.upstreams.push_back(*e);
    upstream_names.push_back(e->ToString());
    split_lines.push_back(absl::StrCat("*.", suffix->ToString(), " → ", e->ToString()));
  }
  if (std::vector<std::string> allow = RepeatedFlag(argc, argv, "allow"); !allow.empty()) {
    std::vector<dns::IpPrefix> prefixes;
    for (const std::string& a : allow) {
      absl::StatusOr<dns::IpPrefix> p = dns::IpPrefix::Parse(a);
      if (!p.ok()) return Fail(absl::StrCat("--allow: ", p.status().message()));
      prefixes.push_back(*p);
    }
    config.core.allow = dns::AllowList(std::move(prefixes));
  }
  config.forwarder.attempt_timeout =
      std::chrono::milliseconds(std::max(absl::GetFlag(FLAGS_upstream_timeout_ms), 1));
  config.forwarder.tcp_timeout = 2 * config.forwarder.attempt_timeout;
  config.forwarder.max_in_flight =
      static_cast<size_t>(std::max(absl::GetFlag(FLAGS_max_in_flight), 1));
  config.tcp_idle_timeout =
      std::chrono::milliseconds(std::max(absl::GetFlag(FLAGS_tcp_idle_timeout_ms), 1));

  App app;
  app.records_path = absl::GetFlag(FLAGS_records);
  app.domain = *domain;
  absl::StatusOr<std::vector<dns::HostRecord>> hosts = ReadRecords(app.records_path);
  if (!hosts.ok()) return Fail(std::string(hosts.status().message()));
  absl::StatusOr<std::shared_ptr<const dns::RecordTable>> table =
      dns::RecordTable::Build(*domain, *hosts, app.serial);
  if (!table.ok()) return Fail(absl::StrCat(app.records_path, ": ", table.status().message()));

  const std::string default_upstream = config.core.default_upstream >= 0
                                           ? upstream_names[0]
                                           : "none (names outside the tailnet are refused)";
  UvLoop loop;
  {
    QueryPrinter printer(stdout, upstream_names);
    auto server =
        dns::UvDnsServer::Start(loop.get(), std::move(config), *table, Logger(&sink, "magic-dns"),
                                absl::GetFlag(FLAGS_quiet) ? nullptr : &printer);
    if (!server.ok()) {
      std::fprintf(stderr, "magic-dns: %s\n", server.status().ToString().c_str());
      return 1;
    }
    app.loop = loop.get();
    app.server = server->get();
    app.sigint = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sigterm = *UvSignal::Create(loop.get(), uv_signal_init);
    app.sighup = *UvSignal::Create(loop.get(), uv_signal_init);
    for (UvSignal* s : {&app.sigint, &app.sigterm, &app.sighup}) s->set_owner(&app);
    uv_signal_start(app.sigint.get(), &App::OnStop, SIGINT);
    uv_signal_start(app.sigterm.get(), &App::OnStop, SIGTERM);
    uv_signal_start(app.sighup.get(), &App::OnHup, SIGHUP);

    dns::DnsServerMetrics server_metrics(server->get());
    std::unique_ptr<ToolMetrics> metrics;
    if (const std::string m = absl::GetFlag(FLAGS_metrics_listen); !m.empty()) {
      auto started = ToolMetrics::Start(loop.get(), m, &sink, {&server_metrics});
      if (!started.ok()) {
        std::fprintf(stderr, "magic-dns: --metrics-listen: %s\n",
                     started.status().ToString().c_str());
        return 1;
      }
      metrics = std::move(*started);
    }
    std::printf("MagicDNS server starting on %s\n", (*server)->local_endpoint().ToString().c_str());
    std::printf("Tailnet domain: *.%s\n", domain->ToString().c_str());
    std::printf("Upstream DNS: %s\n", default_upstream.c_str());
    for (const std::string& line : split_lines) std::printf("Split DNS: %s\n", line.c_str());
    std::vector<std::string> allowed;
    for (const dns::IpPrefix& p : (*server)->core().config().allow.prefixes()) {
      allowed.push_back(p.ToString());
    }
    std::printf("Allowed clients: %s\n", absl::StrJoin(allowed, ", ").c_str());
    std::printf("Records: %zu nodes from %s\n", (*table)->size(),
                app.records_path.empty() ? "(no --records file)" : app.records_path.c_str());
    if (metrics) std::printf("Metrics: %s\n", metrics->url().c_str());
    std::fflush(stdout);
    loop.Run();
    PrintStatistics(**server);
    metrics.reset();
  }
  loop.Close();
  return 0;
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
