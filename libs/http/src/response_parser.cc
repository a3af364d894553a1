// ResponseParser: http_parser callbacks that stream a response to a sink within ParserLimits.
#include "meshvpn/http/response_parser.h"

#include <http_parser.h>

#include <cstring>

#include "head_fields.h"

namespace meshvpn::http {

struct ResponseParser::Impl {
  Impl(ParserLimits l, ResponseParserSink* s) : limits(l), sink(s) {
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = this;
  }

  void ResetMessage() {
    head = ResponseHead{};
    in_message = false;
    complete = false;
    interim = false;
    fields.Reset();
  }

  bool CountHead(size_t n) { return fields.Count(n); }

  static Impl* Of(http_parser* p) { return static_cast<Impl*>(p->data); }

  static int OnMessageBegin(http_parser* p) {
    Impl* self = Of(p);
    self->ResetMessage();
    self->in_message = true;
    return 0;
  }

  static int OnStatus(http_parser* p, const char* at, size_t len) {
    Impl* self = Of(p);
    if (!self->CountHead(len)) return -1;
    self->head.reason.append(at, len);
    return 0;
  }

  static int OnHeaderField(http_parser* p, const char* at, size_t len) {
    Impl* self = Of(p);
    return self->fields.OnField(&self->head.headers, at, len);
  }

  static int OnHeaderValue(http_parser* p, const char* at, size_t len) {
    Impl* self = Of(p);
    return self->fields.OnValue(&self->head.headers, at, len);
  }

  static int OnHeadersComplete(http_parser* p) {
    Impl* self = Of(p);
    ResponseHead& h = self->head;
    self->fields.EndHead(&h.headers);  // any further fields are trailers
    h.status = p->status_code;
    h.version_major = p->http_major;
    h.version_minor = p->http_minor;
    h.keep_alive = http_should_keep_alive(p) != 0;
    h.chunked = (p->flags & F_CHUNKED) != 0;
    if ((p->flags & F_CONTENTLENGTH) != 0) h.content_length = p->content_length;
    if (h.status >= 100 && h.status < 200 && h.status != 101) {
      self->interim = true;  // 100 Continue, 103 Early Hints: the real response follows
      return 0;
    }
    self->sink->OnResponseHead(std::move(h));
    if (self->no_body) return 1;
    return 0;
  }

  static int OnBody(http_parser* p, const char* at, size_t len) {
    Of(p)->sink->OnResponseBody(std::string_view(at, len));
    return 0;
  }

  static int OnMessageComplete(http_parser* p) {
    Impl* self = Of(p);
    if (self->interim) {
      self->ResetMessage();
      return 0;
    }
    self->complete = true;
    self->in_message = false;
    self->no_body = false;
    if (!p->upgrade) self->sink->OnResponseComplete();
    http_parser_pause(p, 1);
    return 0;
  }

  static const http_parser_settings& Settings() {
    static const http_parser_settings settings = [] {
      http_parser_settings s;
      http_parser_settings_init(&s);
      s.on_message_begin = &OnMessageBegin;
      s.on_status = &OnStatus;
      s.on_header_field = &OnHeaderField;
      s.on_header_value = &OnHeaderValue;
      s.on_headers_complete = &OnHeadersComplete;
      s.on_body = &OnBody;
      s.on_message_complete = &OnMessageComplete;
      return s;
    }();
    return settings;
  }

  ParseResult Finish(ParseResult r, enum http_errno err) {
    if (complete) return {r.consumed, parser.upgrade ? ParseEvent::kUpgrade : ParseEvent::kMessage};
    if (err != HPE_OK || error != ParseError::kNone) {
      if (error == ParseError::kNone) {
        error = err == HPE_HEADER_OVERFLOW ? ParseError::kHeaderTooLarge : ParseError::kMalformed;
      }
      const char* name = http_errno_name(err);
      detail = std::string_view(name, std::strlen(name));
      return {r.consumed, ParseEvent::kError};
    }
    return r;
  }

  http_parser parser;
  ParserLimits limits;
  ResponseParserSink* sink;
  ResponseHead head;
  ParseError error = ParseError::kNone;
  std::string_view detail;
  ::meshvpn::http::detail::HeadFields fields{&limits, &error};
  bool in_message = false;
  bool complete = false;
  bool interim = false;
  bool no_body = false;
};

ResponseParser::ResponseParser(ParserLimits limits, ResponseParserSink* sink)
    : impl_(std::make_unique<Impl>(limits, sink)) {}
ResponseParser::~ResponseParser() = default;

void ResponseParser::ExpectNoBody() { impl_->no_body = true; }

ParseResult ResponseParser::Parse(std::string_view data) {
  Impl& s = *impl_;
  if (s.error != ParseError::kNone) return {0, ParseEvent::kError};
  if (s.complete) return {0, s.parser.upgrade ? ParseEvent::kUpgrade : ParseEvent::kMessage};
  if (data.empty()) return {0, ParseEvent::kNeedMore};
  const size_t n = http_parser_execute(&s.parser, &Impl::Settings(), data.data(), data.size());
  return s.Finish({n, ParseEvent::kNeedMore}, HTTP_PARSER_ERRNO(&s.parser));
}

ParseEvent ResponseParser::Finish() {
  Impl& s = *impl_;
  if (s.error != ParseError::kNone) return ParseEvent::kError;
  if (s.complete) return ParseEvent::kMessage;
  if (!s.in_message) return ParseEvent::kNeedMore;
  http_parser_execute(&s.parser, &Impl::Settings(), nullptr, 0);
  const ParseResult r = s.Finish({0, ParseEvent::kNeedMore}, HTTP_PARSER_ERRNO(&s.parser));
  if (r.event == ParseEvent::kNeedMore || r.event == ParseEvent::kError) {
    if (s.error == ParseError::kNone || s.error == ParseError::kMalformed) {
      s.error = ParseError::kTruncated;
    }
    return ParseEvent::kError;
  }
  return r.event;
}

void ResponseParser::Resume() {
  Impl& s = *impl_;
  if (!s.complete) return;
  s.ResetMessage();
  http_parser_pause(&s.parser, 0);
}

bool ResponseParser::in_message() const { return impl_->in_message; }
ParseError ResponseParser::error() const { return impl_->error; }
std::string_view ResponseParser::error_detail() const { return impl_->detail; }

}  // namespace meshvpn::http
