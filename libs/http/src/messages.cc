// Status texts from http_parser's table.
#include "meshvpn/http/messages.h"

#include <http_parser.h>

#include <cstring>

namespace meshvpn::http {

std::string_view StatusText(int status) {
  if (status < 100 || status > 999) return "Unknown";
  const char* text = http_status_str(static_cast<enum http_status>(status));
  if (text == nullptr || text[0] == '<') return "Unknown";
  return std::string_view(text, std::strlen(text));
}

}  // namespace meshvpn::http
