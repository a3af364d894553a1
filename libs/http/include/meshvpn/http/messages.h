// HTTP/1.1 constants and the default limits of the http library: sizes, timeouts, status texts.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace meshvpn::http {

// Status codes the library itself sends or acts on.
inline constexpr int kStatusContinue = 100;
inline constexpr int kStatusSwitchingProtocols = 101;
inline constexpr int kStatusOk = 200;
inline constexpr int kStatusNoContent = 204;
inline constexpr int kStatusNotModified = 304;
inline constexpr int kStatusBadRequest = 400;
inline constexpr int kStatusNotFound = 404;
inline constexpr int kStatusMethodNotAllowed = 405;
inline constexpr int kStatusRequestTimeout = 408;
inline constexpr int kStatusPayloadTooLarge = 413;
inline constexpr int kStatusUriTooLong = 414;
inline constexpr int kStatusHeaderFieldsTooLarge = 431;
inline constexpr int kStatusInternalServerError = 500;
inline constexpr int kStatusNotImplemented = 501;
inline constexpr int kStatusServiceUnavailable = 503;

// Default limits (ServerLimits / ClientLimits). Sizes are bytes.
// The request line plus all header lines (and trailers) of one message. nginx allows 4 x 8 KiB.
inline constexpr size_t kDefaultMaxHeaderBytes = 16 * 1024;
inline constexpr size_t kDefaultMaxHeaderCount = 100;
// The request-target alone (longer: 414).
inline constexpr size_t kDefaultMaxTargetBytes = 8 * 1024;
// A request body the server buffers for its handler (longer: 413, then close).
inline constexpr size_t kDefaultMaxRequestBodyBytes = 1024 * 1024;
// A response body the buffering client helper keeps (longer: an error, then close).
inline constexpr size_t kDefaultMaxResponseBodyBytes = 16 * 1024 * 1024;
// Received bytes held while a response is in progress (pipelined requests, an upgraded stream's
// early bytes). At the bound the core stops asking for input (WantsRead() is false).
inline constexpr size_t kDefaultMaxBufferedInput = 64 * 1024;
// Output queued and not yet taken by the transport. A streaming writer or an upgraded stream
// that would go past it is refused (Write returns false) until the peer reads.
inline constexpr size_t kDefaultMaxBufferedOutput = 1024 * 1024;

// Default timeouts.
// First byte of a request (or the connection's start, so a TLS handshake counts) to the end of
// its head: the slowloris bound. On expiry: 408 and close.
inline constexpr std::chrono::seconds kDefaultHeaderTimeout{10};
// End of the head to the end of the body.
inline constexpr std::chrono::seconds kDefaultBodyTimeout{60};
// A kept-alive connection with no request in progress.
inline constexpr std::chrono::seconds kDefaultIdleTimeout{60};
// Output pending with no progress (a peer that stops reading).
inline constexpr std::chrono::seconds kDefaultSendTimeout{60};
// Client: request sent (or queued before connect) to the response head.
inline constexpr std::chrono::seconds kDefaultResponseTimeout{30};

// The reason phrase of a status code ("Not Found"), or "Unknown" (from http_parser's table).
std::string_view StatusText(int status);

}  // namespace meshvpn::http
