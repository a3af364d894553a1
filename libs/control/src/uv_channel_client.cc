// UvChannelClient: /key, the upgrade with the Noise initiation, and the channel's Envelopes.
#include "meshvpn/control/uv_channel_client.h"

#include "absl/strings/str_cat.h"
#include "meshvpn/control/uv_channel_server.h"
#include "meshvpn/http/json.h"

namespace meshvpn::control {
namespace {

constexpr size_t kMaxQuotedBody = 300;
// Handed to the connection per Write: it takes all or nothing up to its 1 MiB bound, and a
// refused Write brings OnStreamWritable once it drained to half.
constexpr size_t kWritePiece = 256 << 10;

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxQuotedBody)) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  return out;
}

absl::StatusOr<x25519::PublicKey> ParseKeyResponse(const http::Response& response) {
  if (response.status != 200) {
    return absl::UnavailableError(absl::StrCat("GET /key: HTTP ", response.status));
  }
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("publicKey") || !body["publicKey"].is_string()) {
    return absl::InvalidArgumentError("GET /key: no publicKey in the answer");
  }
  const std::string key = body["publicKey"].get<std::string>();
  if (!key.starts_with("mkey:")) {
    return absl::InvalidArgumentError("GET /key: publicKey is not an mkey:");
  }
  return x25519::PublicKey::FromHex(std::string_view(key).substr(5));
}

}  // namespace

// The handler of one upgrade request's response, then of its stream. Detached (owner null) when
// its attempt is over; it stays allocated while the HTTP client may still call it.
class UvChannelClient::Attempt final : public http::ResponseHandler, public http::StreamHandler {
 public:
  explicit Attempt(UvChannelClient* owner) : owner_(owner) {}
  void Detach() { owner_ = nullptr; }
  bool finished() const { return owner_ == nullptr && response_ended_; }

  void OnResponseHead(const http::ResponseHead& head) override { status_ = head.status; }
  void OnResponseBody(std::string_view data) override {
    if (body_.size() < kMaxQuotedBody) body_.append(data.substr(0, kMaxQuotedBody));
  }
  void OnResponseComplete() override {
    response_ended_ = true;
    if (owner_ == nullptr) return;
    std::string why = absl::StrCat("POST /control/v1: HTTP ", status_);
    if (!body_.empty()) absl::StrAppend(&why, ": ", Printable(body_));
    owner_->Down(absl::UnavailableError(why));
  }
  void OnResponseError(const absl::Status& error) override {
    response_ended_ = true;
    if (owner_ != nullptr) owner_->Down(error);
  }
  void OnUpgrade(const http::ResponseHead& head, http::UpgradedStream stream,
                 std::string buffered) override {
    response_ended_ = true;
    if (owner_ == nullptr) return;
    if (head.status != 101) {
      owner_->Down(absl::UnavailableError(absl::StrCat("POST /control/v1: HTTP ", head.status)));
      return;
    }
    owner_->OnUpgraded(std::move(stream), std::move(buffered));
  }
  void OnStreamData(ByteSpan data) override {
    if (owner_ != nullptr) owner_->OnStreamData(data);
  }
  void OnStreamClosed() override {
    if (owner_ != nullptr)
      owner_->Down(absl::UnavailableError("control: the server closed the channel"));
  }
  void OnStreamWritable() override {
    if (owner_ != nullptr) owner_->Flush();
  }

 private:
  UvChannelClient* owner_;
  int status_ = 0;
  std::string body_;
  bool response_ended_ = false;
};

UvChannelClient::UvChannelClient(uv_loop_t* loop, ChannelClientOptions options,
                                 ChannelClientEvents* events)
    : loop_(loop), options_(std::move(options)), events_(events) {
  http::UvClientOptions http_options;
  http_options.host = options_.host;
  http_options.port = options_.port;
  http_options.tls = options_.tls;
  http_options.server_name = options_.server_name;
  http_ = std::make_unique<http::UvClient>(loop_, std::move(http_options));
}

UvChannelClient::~UvChannelClient() {
  events_ = nullptr;
  Close();
  http_.reset();
}

void UvChannelClient::Connect() {
  if (attempt_ != nullptr || channel_.has_value()) return;
  std::erase_if(attempts_, [](const std::unique_ptr<Attempt>& a) { return a->finished(); });
  attempts_.push_back(std::make_unique<Attempt>(this));
  attempt_ = attempts_.back().get();
  if (options_.server_key.has_value()) {
    StartUpgrade();
  } else {
    FetchKeyThenUpgrade();
  }
}

void UvChannelClient::FetchKeyThenUpgrade() {
  http::Request request;
  request.method = "GET";
  request.target = std::string(kKeyPath);
  request.path = request.target;
  const uint64_t generation = generation_;
  http_->Fetch(std::move(request), [this, generation](absl::StatusOr<http::Response> response) {
    if (generation != generation_ || attempt_ == nullptr) return;  // closed meanwhile
    if (!response.ok()) {
      Down(response.status());
      return;
    }
    absl::StatusOr<x25519::PublicKey> key = ParseKeyResponse(*response);
    if (!key.ok()) {
      Down(key.status());
      return;
    }
    options_.server_key = *key;  // pinned from now on
    StartUpgrade();
  });
}

void UvChannelClient::StartUpgrade() {
  absl::StatusOr<ClientHandshake> hs =
      ClientHandshake::Start(*options_.machine_key, *options_.server_key);
  if (!hs.ok()) {
    Down(hs.status());
    return;
  }
  handshake_ = *std::move(hs);
  first_frame_.clear();
  http::Request request;
  request.method = "POST";
  request.target = std::string(kControlPath);
  request.path = request.target;
  request.headers.Add("Upgrade", std::string(kControlUpgrade));
  request.headers.Add("Connection", "Upgrade");
  request.headers.Add(std::string(kHandshakeHeader),
                      Base64Encode(AsBytes(handshake_->initiation())));
  http_->Send(std::move(request), attempt_);
}

void UvChannelClient::OnUpgraded(http::UpgradedStream stream, std::string buffered) {
  stream_ = std::move(stream);
  stream_.set_handler(attempt_);
  if (!buffered.empty()) OnStreamData(AsBytes(buffered));
}

void UvChannelClient::OnStreamData(ByteSpan data) {
  if (!channel_.has_value()) {
    // The server's response frame first (bounded: a frame is at most 64 KiB + 3).
    first_frame_.append(reinterpret_cast<const char*>(data.data()), data.size());
    const std::optional<size_t> len = CompleteFrameLength(AsBytes(first_frame_));
    if (!len) return;
    absl::StatusOr<NoiseChannel> channel =
        handshake_->Finish(AsBytes(std::string_view(first_frame_).substr(0, *len)));
    handshake_.reset();
    if (!channel.ok()) {
      Down(channel.status());
      return;
    }
    channel_ = *std::move(channel);
    const std::string rest = first_frame_.substr(*len);
    std::string().swap(first_frame_);
    if (events_ != nullptr) events_->OnChannelUp(*options_.server_key);
    if (!channel_.has_value()) return;  // closed from OnChannelUp
    Flush();
    if (rest.empty()) return;
    data = AsBytes(rest);
    std::vector<v1::Envelope> envelopes;
    const absl::Status s = channel_->Receive(data, &envelopes);
    const uint64_t generation = generation_;
    for (v1::Envelope& e : envelopes) {
      if (events_ == nullptr || generation != generation_) return;
      events_->OnEnvelope(std::move(e));
    }
    if (!s.ok() && generation == generation_) Down(s);
    return;
  }
  std::vector<v1::Envelope> envelopes;
  const absl::Status s = channel_->Receive(data, &envelopes);
  const uint64_t generation = generation_;
  for (v1::Envelope& e : envelopes) {
    if (events_ == nullptr || generation != generation_) return;
    events_->OnEnvelope(std::move(e));
  }
  if (!s.ok() && generation == generation_) Down(s);
}

bool UvChannelClient::Send(const v1::Envelope& envelope) {
  if (!channel_.has_value()) return false;
  if (!channel_->Send(envelope, &out_).ok()) return false;
  Flush();
  return true;
}

size_t UvChannelClient::pending_output() const {
  return (out_.size() - out_pos_) + stream_.buffered_output();
}

void UvChannelClient::Flush() {
  while (out_pos_ < out_.size() && stream_.alive()) {
    const size_t n = std::min(kWritePiece, out_.size() - out_pos_);
    if (!stream_.Write(AsBytes(std::string_view(out_).substr(out_pos_, n)))) break;
    out_pos_ += n;
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
}

void UvChannelClient::Down(absl::Status why) {
  const bool had_something = attempt_ != nullptr || channel_.has_value();
  Close();
  if (had_something && events_ != nullptr) events_->OnChannelDown(why);
}

void UvChannelClient::Close() {
  ++generation_;
  if (attempt_ != nullptr) attempt_->Detach();
  attempt_ = nullptr;
  stream_.set_handler(nullptr);
  stream_.Close();
  channel_.reset();
  handshake_.reset();
  std::string().swap(first_frame_);
  out_.clear();
  out_pos_ = 0;
}

}  // namespace meshvpn::control
