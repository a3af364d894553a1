// HeadFields: field pieces into Headers, within the limits.
#include "head_fields.h"

namespace meshvpn::http::detail {
namespace {
std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

int HeadFields::OnField(Headers* headers, const char* at, size_t len) {
  if (last_ != Last::kField) {
    if (++count_ > limits_->max_header_count) {
      *error_ = ParseError::kTooManyHeaders;
      return -1;
    }
    if (!Count(kFieldOverhead)) return -1;
    if (!in_trailers_) headers->Add(std::string(), std::string());
  }
  last_ = Last::kField;
  if (!Count(len)) return -1;
  if (!in_trailers_) headers->back().first.append(at, len);
  return 0;
}

int HeadFields::OnValue(Headers* headers, const char* at, size_t len) {
  last_ = Last::kValue;
  if (!Count(len)) return -1;
  if (!in_trailers_ && !headers->empty()) headers->back().second.append(at, len);
  return 0;
}

void HeadFields::EndHead(Headers* headers) {
  Headers trimmed;
  for (const auto& [name, value] : *headers) trimmed.Add(name, std::string(TrimView(value)));
  *headers = std::move(trimmed);
  in_trailers_ = true;
  last_ = Last::kNone;
}

}  // namespace meshvpn::http::detail
