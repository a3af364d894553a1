// UvChannelServer: /key, and the control channel's HTTP Upgrade into a NoiseChannel per client.
#include "meshvpn/control/uv_channel_server.h"

#include "absl/strings/str_cat.h"
#include "meshvpn/http/json.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::control {
namespace {

std::string_view Text(absl::string_view s) { return std::string_view(s.data(), s.size()); }

bool HeaderIs(const http::Request& request, std::string_view name, std::string_view value) {
  const std::optional<std::string_view> got = request.headers.Get(name);
  return got.has_value() && http::EqualsIgnoreCase(*got, value);
}

// Output handed to the connection per Write (it takes all or nothing, up to its 1 MiB bound; a
// refused Write brings OnStreamWritable once it drained to half).
constexpr size_t kWritePiece = 256 << 10;
// A drained output buffer bigger than this is given back: a full map of 10,000 peers is 2.6 MB,
// and each of 10,000 channels keeping that much would hold 26 GB.
constexpr size_t kKeptOutputCapacity = 64 << 10;

}  // namespace

class UvChannelServer::Channel final : public ChannelSession, public http::StreamHandler {
 public:
  Channel(UvChannelServer* server, uint64_t id, x25519::PublicKey machine_key, std::string remote,
          NoiseChannel channel)
      : server_(server),
        id_(id),
        machine_key_(machine_key),
        remote_(std::move(remote)),
        channel_(std::move(channel)) {}

  // ChannelSession.
  uint64_t id() const override { return id_; }
  const x25519::PublicKey& machine_key() const override { return machine_key_; }
  const std::string& remote_address() const override { return remote_; }
  bool Send(const v1::Envelope& envelope) override {
    if (closed_) return false;
    if (absl::Status s = channel_.Send(envelope, &out_); !s.ok()) return Fail(s);
    return AfterQueue();
  }
  bool SendEncoded(std::string_view envelope_bytes) override {
    if (closed_) return false;
    if (absl::Status s = channel_.SendEncoded(envelope_bytes, &out_); !s.ok()) return Fail(s);
    return AfterQueue();
  }
  void Close(std::string_view reason) override {
    if (closed_) return;
    out_.erase(0, out_pos_);
    out_pos_ = 0;
    out_ += ErrorFrame(reason);
    Flush();
    Shut(/*notify=*/false, absl::OkStatus());
  }
  size_t pending_output() const override {
    return (out_.size() - out_pos_) + stream_.buffered_output();
  }

  // http::StreamHandler.
  void OnStreamData(ByteSpan data) override {
    if (closed_) return;
    std::vector<v1::Envelope> envelopes;
    const absl::Status s = channel_.Receive(data, &envelopes);
    for (v1::Envelope& e : envelopes) {
      if (closed_) return;
      server_->options_.acceptor->OnEnvelope(*this, std::move(e));
    }
    if (!s.ok() && !closed_) {
      ++server_->stats_.channel_errors;
      // Tell the client why (the status text never holds a secret), then go.
      out_ += ErrorFrame(Text(s.message()).substr(0, 200));
      Flush();
      Shut(/*notify=*/true, s);
    }
  }
  void OnStreamClosed() override {
    if (closed_) return;
    Shut(/*notify=*/true, absl::UnavailableError("control: the client closed the connection"));
  }
  void OnStreamWritable() override { Flush(); }

  void Attach(http::UpgradedStream stream) { stream_ = std::move(stream); }
  void QueueRaw(std::string_view bytes) { out_.append(bytes); }
  // Writes queued output while the connection has room.
  void Flush() {
    while (out_pos_ < out_.size() && stream_.alive()) {
      const size_t n = std::min(kWritePiece, out_.size() - out_pos_);
      if (!stream_.Write(AsBytes(std::string_view(out_).substr(out_pos_, n)))) break;
      out_pos_ += n;
    }
    if (out_pos_ == out_.size()) {
      if (out_.capacity() > kKeptOutputCapacity) {
        std::string().swap(out_);
      } else {
        out_.clear();
      }
      out_pos_ = 0;
    } else if (out_pos_ > (1 << 20) && out_pos_ > out_.size() / 2) {
      out_.erase(0, out_pos_);
      out_pos_ = 0;
    }
  }
  // Stops for good: closes the stream (after what it buffered), tells the acceptor if asked.
  void Shut(bool notify, const absl::Status& why) {
    if (closed_) return;
    closed_ = true;
    stream_.set_handler(nullptr);
    stream_.Close();
    if (notify) server_->options_.acceptor->OnChannelClosed(*this, why);
    server_->Bury(id_);
  }
  void DetachQuietly() {
    closed_ = true;
    stream_.set_handler(nullptr);
    stream_.Close();
  }

 private:
  bool AfterQueue() {
    Flush();
    if (pending_output() > server_->options_.max_pending_output) {
      ++server_->stats_.slow_readers;
      Shut(/*notify=*/true,
           absl::ResourceExhaustedError(
               "control: the client does not read its map (output over the bound)"));
      return false;
    }
    return true;
  }
  bool Fail(const absl::Status& s) {
    Shut(/*notify=*/true, s);
    return false;
  }

  UvChannelServer* server_;
  uint64_t id_;
  x25519::PublicKey machine_key_;
  std::string remote_;
  NoiseChannel channel_;
  http::UpgradedStream stream_;
  std::string out_;
  size_t out_pos_ = 0;
  bool closed_ = false;
};

absl::StatusOr<std::unique_ptr<UvChannelServer>> UvChannelServer::Create(
    uv_loop_t* loop, ChannelServerOptions options) {
  if (options.server_key == nullptr || options.acceptor == nullptr) {
    return absl::InvalidArgumentError("UvChannelServer needs a server key and an acceptor");
  }
  absl::StatusOr<x25519::PublicKey> public_key = x25519::DerivePublicKey(*options.server_key);
  if (!public_key.ok()) return public_key.status();
  std::unique_ptr<UvChannelServer> server(
      new UvChannelServer(loop, std::move(options), *public_key));
  auto check = UvCheck::Create(loop, uv_check_init);
  if (!check.ok()) return check.status();
  server->check_ = std::move(*check);
  server->check_.set_owner(server.get());
  uv_check_start(server->check_.get(), &UvChannelServer::OnCheck);
  uv_unref(server->check_.base());
  return server;
}

UvChannelServer::UvChannelServer(uv_loop_t* loop, ChannelServerOptions options,
                                 x25519::PublicKey public_key)
    : loop_(loop), options_(std::move(options)), public_key_(public_key) {}

UvChannelServer::~UvChannelServer() {
  // The acceptor may be gone already: no calls into it from here (CloseAll first for those).
  for (auto& [id, channel] : channels_) {
    channel->Flush();
    channel->DetachQuietly();
  }
  channels_.clear();
  graveyard_.clear();
}

void UvChannelServer::OnCheck(uv_check_t* handle) {
  auto* self = static_cast<UvChannelServer*>(handle->data);
  if (self != nullptr) self->graveyard_.clear();
}

void UvChannelServer::Bury(uint64_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return;
  graveyard_.push_back(std::move(it->second));
  channels_.erase(it);
}

void UvChannelServer::CloseAll() {
  // Taken out first: the acceptor hears each close and must not find the channel still listed.
  auto channels = std::move(channels_);
  channels_.clear();
  const absl::Status why = absl::CancelledError("the control server is shutting down");
  for (auto& [id, channel] : channels) {
    channel->Flush();
    channel->DetachQuietly();
    // The acceptor drops what it holds of the channel (a map stream would otherwise write into
    // it on the next loop turn, after it is freed).
    options_.acceptor->OnChannelClosed(*channel, why);
    graveyard_.push_back(std::move(channel));
  }
}

void UvChannelServer::OnRequest(http::Request& request, http::ResponseWriter writer) {
  if (request.path == kKeyPath) {
    if (request.method != "GET" && request.method != "HEAD") {
      writer.Send(http::JsonError(405, "GET /key"));
      return;
    }
    ServeKey(std::move(writer));
    return;
  }
  if (request.path == kControlPath) {
    Upgrade(request, std::move(writer));
    return;
  }
  if (options_.fallback != nullptr) {
    options_.fallback->OnRequest(request, std::move(writer));
    return;
  }
  writer.Send(http::Response::Error(404));
}

void UvChannelServer::ServeKey(http::ResponseWriter writer) {
  nlohmann::json body = {{"publicKey", absl::StrCat("mkey:", public_key_.ToHex())},
                         {"channelVersion", kNoiseChannelVersion}};
  writer.Send(http::JsonResponse(200, body));
}

void UvChannelServer::Upgrade(http::Request& request, http::ResponseWriter writer) {
  if (request.method != "POST" || !request.upgrade ||
      !HeaderIs(request, "Upgrade", kControlUpgrade)) {
    writer.Send(
        http::JsonError(426, "the control protocol needs POST with Upgrade: meshvpn-control/1"));
    return;
  }
  const std::optional<std::string_view> handshake = request.headers.Get(kHandshakeHeader);
  if (!handshake.has_value()) {
    ++stats_.handshake_failures;
    writer.Send(http::JsonError(400, "missing X-Meshvpn-Handshake"));
    return;
  }
  absl::StatusOr<Bytes> initiation = Base64Decode(*handshake);
  if (!initiation.ok()) {
    ++stats_.handshake_failures;
    writer.Send(http::JsonError(400, "X-Meshvpn-Handshake is not base64"));
    return;
  }
  absl::StatusOr<AcceptedChannel> accepted =
      AcceptHandshake(*options_.server_key, ByteSpan(*initiation));
  if (!accepted.ok()) {
    ++stats_.handshake_failures;
    const int status = accepted.status().code() == absl::StatusCode::kUnauthenticated ? 401 : 400;
    writer.Send(http::JsonError(status, Text(accepted.status().message())));
    return;
  }
  const uint64_t id = next_id_++;
  auto channel = std::make_unique<Channel>(this, id, accepted->machine_key, request.remote_address,
                                           std::move(accepted->channel));
  Channel* raw = channel.get();
  std::string buffered;
  http::UpgradedStream stream = writer.AcceptUpgrade(
      http::Headers{{"Upgrade", std::string(kControlUpgrade)}}, raw, &buffered);
  if (!stream.alive()) return;
  raw->Attach(std::move(stream));
  raw->QueueRaw(accepted->response);
  channels_.emplace(id, std::move(channel));
  ++stats_.handshakes;
  raw->Flush();
  options_.acceptor->OnChannelOpen(*raw);
  if (!buffered.empty() && channels_.contains(id)) raw->OnStreamData(AsBytes(buffered));
}

}  // namespace meshvpn::control
