// http_test_client: fetches a URL COUNT times with the http library's UvClient (one kept-alive
// connection while the server allows it), for end-to-end tests against outside servers (nginx).
// Not a tool: test scaffolding.
//
//   http_test_client URL [--cacert FILE | --pin sha256//...] [-n COUNT] [--post BODY]
//
// Each response prints one line on stdout:
//   response 1 status=200 length=5242880 sha256=<hex> framing=length keep_alive=1
// then "done COUNT responses BYTES bytes in MS ms". Exit 0 when every response came and was 2xx;
// 1 with a message on stderr otherwise; 2 on bad usage.
#include <openssl/evp.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/http/address.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/uv_client.h"

namespace meshvpn::http {
namespace {

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr,
               "http_test_client: %s\n"
               "usage: http_test_client URL [--cacert FILE | --pin sha256//...] [-n COUNT]\n"
               "       [--post BODY]\n",
               message.c_str());
  std::exit(2);
}

struct Flags {
  std::string url;
  std::string cacert;
  std::string pin;
  int count = 1;
  bool post = false;
  std::string body;
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto take = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--cacert") {
      flags.cacert = take();
    } else if (arg == "--pin") {
      flags.pin = take();
    } else if (arg == "-n") {
      if (!absl::SimpleAtoi(take(), &flags.count) || flags.count < 1) Usage("bad -n");
    } else if (arg == "--post") {
      flags.post = true;
      flags.body = take();
    } else if (arg == "-h" || arg == "--help") {
      Usage("help");
    } else if (!arg.empty() && arg[0] == '-') {
      Usage("unknown argument " + arg);
    } else if (flags.url.empty()) {
      flags.url = arg;
    } else {
      Usage("one URL only");
    }
  }
  if (flags.url.empty()) Usage("no URL");
  if (!flags.cacert.empty() && !flags.pin.empty()) Usage("--cacert or --pin, not both");
  return flags;
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

// Hashes one response's body as it streams in (no size limit, nothing buffered).
class HashingHandler final : public ResponseHandler {
 public:
  HashingHandler(int index, std::function<void(bool ok)> done)
      : index_(index), done_(std::move(done)), md_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(md_, EVP_sha256(), nullptr);
  }
  ~HashingHandler() override { EVP_MD_CTX_free(md_); }
  HashingHandler(const HashingHandler&) = delete;
  HashingHandler& operator=(const HashingHandler&) = delete;

  void OnResponseHead(const ResponseHead& head) override { head_ = head; }
  void OnResponseBody(std::string_view data) override {
    EVP_DigestUpdate(md_, data.data(), data.size());
    length_ += data.size();
  }
  void OnResponseComplete() override {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md_, digest, &n);
    const char* framing = head_.chunked                      ? "chunked"
                          : head_.content_length.has_value() ? "length"
                                                             : "close";
    std::printf("response %d status=%d length=%llu sha256=%s framing=%s keep_alive=%d\n", index_,
                head_.status, static_cast<unsigned long long>(length_), Hex(digest, n).c_str(),
                framing, head_.keep_alive ? 1 : 0);
    std::fflush(stdout);
    const bool ok = head_.status >= 200 && head_.status < 300;
    if (!ok)
      std::fprintf(stderr, "http_test_client: response %d: status %d\n", index_, head_.status);
    Finish(ok);
  }
  void OnResponseError(const absl::Status& error) override {
    std::fprintf(stderr, "http_test_client: response %d: %s\n", index_, error.ToString().c_str());
    Finish(false);
  }
  uint64_t length() const { return length_; }

 private:
  void Finish(bool ok) {
    if (auto done = std::move(done_)) done(ok);
  }
  int index_;
  std::function<void(bool ok)> done_;
  EVP_MD_CTX* md_;
  ResponseHead head_;
  uint64_t length_ = 0;
};

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  auto url = ParseUrl(flags.url);
  if (!url.ok()) Usage("bad URL: " + url.status().ToString());

  UvClientOptions options;
  options.host = url->address.host;
  options.port = url->address.port;
  if (url->tls) {
    TlsClientOptions tls;
    tls.alpn = {"http/1.1"};
    if (!flags.cacert.empty()) {
      tls.ca_file = flags.cacert;
    } else if (!flags.pin.empty()) {
      auto pin = ParseSpkiPin(flags.pin);
      if (!pin.ok()) Usage("bad --pin: " + pin.status().ToString());
      tls.pins.push_back(*pin);
    } else {
      tls.system_roots = true;
    }
    auto context = TlsContext::NewClient(tls);
    if (!context.ok()) {
      std::fprintf(stderr, "http_test_client: TLS: %s\n", context.status().ToString().c_str());
      return 1;
    }
    options.tls = *context;
  } else if (!flags.cacert.empty() || !flags.pin.empty()) {
    Usage("--cacert and --pin need an https URL");
  }

  UvLoop loop;
  int failures = 0;
  int completed = 0;
  uint64_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  {
    UvClient client(loop.get(), options);
    std::vector<std::unique_ptr<HashingHandler>> handlers;
    handlers.reserve(static_cast<size_t>(flags.count));
    for (int i = 1; i <= flags.count; ++i) {
      handlers.push_back(std::make_unique<HashingHandler>(i, [&](bool ok) {
        ++completed;
        if (!ok) ++failures;
        if (completed == flags.count || !ok) uv_stop(loop.get());
      }));
      Request request;
      request.method = flags.post ? "POST" : "GET";
      request.target = url->target;
      if (flags.post) {
        request.body = flags.body;
        request.headers.Add("Content-Type", "application/octet-stream");
      }
      // Requests queue in the client and go out one at a time over the kept-alive connection.
      client.Send(std::move(request), handlers.back().get());
    }
    loop.Run();
    for (const auto& h : handlers) bytes += h->length();
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (loop.Close() != 0) {
    std::fprintf(stderr, "http_test_client: a libuv handle was left open\n");
    return 1;
  }
  if (failures > 0 || completed != flags.count) {
    std::fprintf(stderr, "http_test_client: %d of %d requests failed\n",
                 failures + (flags.count - completed), flags.count);
    return 1;
  }
  std::printf("done %d responses %llu bytes in %.1f ms\n", completed,
              static_cast<unsigned long long>(bytes), ms);
  return 0;
}

}  // namespace
}  // namespace meshvpn::http

int main(int argc, char** argv) { return meshvpn::http::Main(argc, argv); }
