// ResponseWriter and RequestHandler: how a server handler answers a request, whole, streamed over
// minutes (event streams, long-polls) or by taking over the connection with an Upgrade.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "meshvpn/http/headers.h"
#include "meshvpn/http/request.h"
#include "meshvpn/http/response.h"
#include "meshvpn/http/upgraded_stream.h"

namespace meshvpn::http {

// Told about a streaming response's connection (set with ResponseWriter::set_observer).
class StreamObserver {
 public:
  virtual ~StreamObserver() = default;
  // Buffered output fell below half the bound after a Write was refused.
  virtual void OnWritable() {}
  // The server is shutting down: finish the response soon (End()); it is closed at the grace
  // deadline otherwise.
  virtual void OnShutdown() {}
  // The connection is gone (peer closed, timeout, transport error): the writer is dead.
  virtual void OnClosed() {}
};

namespace detail {
class ServerConnectionImpl;
struct Exchange;
}  // namespace detail

// A move-only handle on the response to one request. The connection answers requests strictly
// in order, so the next pipelined request waits until this response is complete. Destroying the
// writer before answering sends 500; destroying it in the middle of a stream closes the
// connection (the client sees a truncated body, not a complete one).
//
// All calls on the loop (transport) thread.
class ResponseWriter {
 public:
  ResponseWriter() = default;
  explicit ResponseWriter(std::shared_ptr<detail::Exchange> exchange);
  ~ResponseWriter();
  ResponseWriter(ResponseWriter&&) noexcept;
  ResponseWriter& operator=(ResponseWriter&&) noexcept;

  // The connection is open and this response is not complete.
  bool open() const;

  // Sends a whole response (Content-Length framing; no body bytes for HEAD, 1xx, 204, 304).
  // False if the writer is not open or a response was already started.
  bool Send(Response response);

  // Starts a streamed response: chunked for HTTP/1.1, until-close for HTTP/1.0.
  bool StartStream(int status, Headers headers);
  // One piece of a streamed body, sent as one chunk. False, and nothing queued, if not open or
  // if it would take buffered output past the bound (wait for StreamObserver::OnWritable).
  bool Write(std::string_view data);
  // Ends the stream (last chunk and `trailers`); the connection goes on with the next request.
  bool End(const Headers& trailers = {});

  // For a request with `upgrade` set: sends 101 Switching Protocols with `headers` (which should
  // name the protocol in an Upgrade field; "Connection: Upgrade" is added) and hands the
  // connection over. `handler` receives every byte the peer sends after the request; `buffered`
  // gets the ones that had already arrived (they are not passed to the handler). The writer is
  // finished afterwards. An invalid stream if the request was not an upgrade or a response was
  // started.
  UpgradedStream AcceptUpgrade(Headers headers, StreamHandler* handler, std::string* buffered);

  // Bytes queued and not yet taken by the transport.
  size_t buffered_output() const;
  void set_observer(StreamObserver* observer);

 private:
  std::shared_ptr<detail::Exchange> exchange_;
};

// The server's application: one call per request, in order, with the body read (up to
// max_body_bytes). Answer through `writer`, now or later; `request` may be moved from.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void OnRequest(Request& request, ResponseWriter writer) = 0;
};

}  // namespace meshvpn::http
