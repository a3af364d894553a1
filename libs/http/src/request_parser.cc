// RequestParser: http_parser callbacks that build a Request within ParserLimits.
#include "meshvpn/http/request_parser.h"

#include <http_parser.h>

#include <cstring>

#include "head_fields.h"

namespace meshvpn::http {

struct RequestParser::Impl {
  explicit Impl(ParserLimits l) : limits(l) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
  }

  void ResetMessage() {
    request = Request{};
    request.target.clear();  // OnUrl appends; Request's default "/" is for clients
    in_message = false;
    head_complete = false;
    complete = false;
    expect_continue = false;
    fields.Reset();
    raw_bytes = 0;
  }

  // Returns false (and records the error) once the head is over its limit.
  bool CountHead(size_t n) { return fields.Count(n); }

  size_t RawLimit() const { return limits.max_header_bytes + 2 * limits.max_body_bytes + 4096; }

  static Impl* Of(http_parser* p) { return static_cast<Impl*>(p->data); }

  static int OnMessageBegin(http_parser* p) {
    Impl* self = Of(p);
    self->ResetMessage();
    self->in_message = true;
    return 0;
  }

  static int OnUrl(http_parser* p, const char* at, size_t len) {
    Impl* self = Of(p);
    if (self->request.target.size() + len > self->limits.max_target_bytes) {
      self->error = ParseError::kTargetTooLong;
      return -1;
    }
    if (!self->CountHead(len)) return -1;
    self->request.target.append(at, len);
    return 0;
  }

  static int OnHeaderField(http_parser* p, const char* at, size_t len) {
    Impl* self = Of(p);
    return self->fields.OnField(&self->request.headers, at, len);
  }

  static int OnHeaderValue(http_parser* p, const char* at, size_t len) {
    Impl* self = Of(p);
    return self->fields.OnValue(&self->request.headers, at, len);
  }

  static int OnHeadersComplete(http_parser* p) {
    Impl* self = Of(p);
    Request& r = self->request;
    self->fields.EndHead(&r.headers);  // any further fields are trailers
    const char* method = http_method_str(static_cast<enum http_method>(p->method));
    r.method.assign(method, std::strlen(method));
    r.version_major = p->http_major;
    r.version_minor = p->http_minor;
    r.keep_alive = http_should_keep_alive(p) != 0;
    r.upgrade = p->upgrade != 0;
    if (!SplitTarget(r.target, &r.path, &r.query)) {
      self->error = ParseError::kMalformed;
      return -1;
    }
    const bool chunked = (p->flags & F_CHUNKED) != 0;
    const bool has_length = (p->flags & F_CONTENTLENGTH) != 0;
    if (has_length && p->content_length > self->limits.max_body_bytes) {
      self->error = ParseError::kBodyTooLarge;
      return -1;
    }
    self->expect_continue = r.headers.HasToken("Expect", "100-continue") &&
                            (chunked || (has_length && p->content_length > 0));
    self->head_complete = true;
    return 0;
  }

  static int OnBody(http_parser* p, const char* at, size_t len) {
    Impl* self = Of(p);
    if (self->request.body.size() + len > self->limits.max_body_bytes) {
      self->error = ParseError::kBodyTooLarge;
      return -1;
    }
    self->request.body.append(at, len);
    return 0;
  }

  static int OnMessageComplete(http_parser* p) {
    Impl* self = Of(p);
    self->complete = true;
    self->in_message = false;
    http_parser_pause(p, 1);
    return 0;
  }

  static const http_parser_settings& Settings() {
    static const http_parser_settings settings = [] {
      http_parser_settings s;
      http_parser_settings_init(&s);
      s.on_message_begin = &OnMessageBegin;
      s.on_url = &OnUrl;
      s.on_header_field = &OnHeaderField;
      s.on_header_value = &OnHeaderValue;
      s.on_headers_complete = &OnHeadersComplete;
      s.on_body = &OnBody;
      s.on_message_complete = &OnMessageComplete;
      return s;
    }();
    return settings;
  }

  http_parser parser;
  ParserLimits limits;
  Request request;
  ParseError error = ParseError::kNone;
  std::string_view detail;
  ::meshvpn::http::detail::HeadFields fields{&limits, &error};
  size_t raw_bytes = 0;
  bool in_message = false;
  bool head_complete = false;
  bool complete = false;
  bool expect_continue = false;
};

RequestParser::RequestParser(ParserLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestParser::~RequestParser() = default;

ParseResult RequestParser::Parse(std::string_view data) {
  Impl& s = *impl_;
  if (s.error != ParseError::kNone) return {0, ParseEvent::kError};
  if (s.complete) return {0, s.parser.upgrade ? ParseEvent::kUpgrade : ParseEvent::kMessage};
  if (data.empty()) return {0, ParseEvent::kNeedMore};
  const size_t n = http_parser_execute(&s.parser, &Impl::Settings(), data.data(), data.size());
  s.raw_bytes += n;
  if (s.complete) {
    return {n, s.parser.upgrade ? ParseEvent::kUpgrade : ParseEvent::kMessage};
  }
  const enum http_errno err = HTTP_PARSER_ERRNO(&s.parser);
  if (err != HPE_OK || s.error != ParseError::kNone) {
    if (s.error == ParseError::kNone) {
      s.error = err == HPE_HEADER_OVERFLOW ? ParseError::kHeaderTooLarge : ParseError::kMalformed;
    }
    const char* name = http_errno_name(err);
    s.detail = std::string_view(name, std::strlen(name));
    return {n, ParseEvent::kError};
  }
  if (s.in_message && s.raw_bytes > s.RawLimit()) {
    s.error = ParseError::kBodyTooLarge;
    s.detail = "raw message bytes over the limit";
    return {n, ParseEvent::kError};
  }
  return {n, ParseEvent::kNeedMore};
}

ParseEvent RequestParser::Finish() {
  Impl& s = *impl_;
  if (s.error != ParseError::kNone) return ParseEvent::kError;
  if (s.in_message) {
    s.error = ParseError::kTruncated;
    s.detail = "connection closed in a request";
    return ParseEvent::kError;
  }
  return ParseEvent::kNeedMore;
}

Request RequestParser::TakeRequest() { return std::move(impl_->request); }

void RequestParser::Resume() {
  Impl& s = *impl_;
  if (!s.complete) return;
  s.ResetMessage();
  http_parser_pause(&s.parser, 0);
}

void RequestParser::Reset() {
  Impl& s = *impl_;
  s.ResetMessage();
  s.error = ParseError::kNone;
  s.detail = {};
  http_parser_init(&s.parser, HTTP_REQUEST);
  s.parser.data = &s;
}

bool RequestParser::in_message() const { return impl_->in_message; }
bool RequestParser::head_complete() const { return impl_->head_complete; }
bool RequestParser::expects_continue() const {
  return impl_->head_complete && impl_->expect_continue;
}
const Request& RequestParser::request() const { return impl_->request; }
ParseError RequestParser::error() const { return impl_->error; }
std::string_view RequestParser::error_detail() const { return impl_->detail; }

}  // namespace meshvpn::http
