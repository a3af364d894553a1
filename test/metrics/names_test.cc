// Prometheus naming rules, table-driven, and the UTF-8 check behind label values and help.
#include "meshvpn/metrics/names.h"

#include <catch2/catch.hpp>
#include <string>

namespace meshvpn::metrics {
namespace {

TEST_CASE("metric names: [a-zA-Z_][a-zA-Z0-9_]*, no colons") {
  for (const char* ok : {"a", "_", "A", "meshvpn_wg_rx_bytes_total", "x9", "_x_", "UP", "a__b"}) {
    INFO(ok);
    CHECK(ValidateMetricName(ok).ok());
  }
  for (const char* bad :
       {"", "9x", "a-b", "a.b", "a b", "é", "a:b", ":a", "a\n", "a{b}", "a\"", "rx bytes"}) {
    INFO(bad);
    CHECK(ValidateMetricName(bad).code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ValidateMetricName("a:b").message().find("recording rules") != std::string::npos);
  CHECK(ValidateMetricName("ab-c").message().find("offset 2") != std::string::npos);
}

TEST_CASE("label names: [a-zA-Z_][a-zA-Z0-9_]*, no leading __") {
  for (const char* ok : {"peer", "_peer", "le", "reason2", "A_b", "_"}) {
    INFO(ok);
    CHECK(ValidateLabelName(ok).ok());
  }
  for (const char* bad : {"", "__name__", "__x", "1a", "a-b", "a:b", "pe er", "é"}) {
    INFO(bad);
    CHECK(ValidateLabelName(bad).code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ValidateLabelName("__x").message().find("reserved") != std::string::npos);
}

TEST_CASE("UTF-8: well-formed sequences pass, malformed ones fail") {
  for (const std::string ok : {"", "ascii", "é", "€", "𝄞", "日本語", "\x7f"}) {
    INFO(ok);
    CHECK(IsValidUtf8(ok));
  }
  const std::string bad[] = {
      "\x80",              // continuation byte first
      "\xc3",              // truncated
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong
      "\xed\xa0\x80",      // surrogate U+D800
      "\xf4\x90\x80\x80",  // past U+10FFFF
      "\xff",              // never valid
      "a\xe2\x82",         // truncated euro sign
  };
  for (const std::string& b : bad) CHECK_FALSE(IsValidUtf8(b));
}

TEST_CASE("a counter family's base name drops one trailing _total") {
  CHECK(CounterBaseName("rx_bytes_total") == "rx_bytes");
  CHECK(CounterBaseName("rx_bytes") == "rx_bytes");
  CHECK(CounterBaseName("_total") == "_total");
  CHECK(CounterBaseName("x_total_total") == "x_total");
}

}  // namespace
}  // namespace meshvpn::metrics

namespace meshvpn::metrics {
namespace {

TEST_CASE("reason labels: lower case, spaces and underscores as single dashes") {
  CHECK(ReasonLabel("bad fingerprint") == "bad-fingerprint");
  CHECK(ReasonLabel("Not a  request") == "not-a-request");
  CHECK(ReasonLabel("outbox_full ") == "outbox-full");
  CHECK(ReasonLabel("already-fine") == "already-fine");
  CHECK(ReasonLabel("") == "");
}

}  // namespace
}  // namespace meshvpn::metrics
