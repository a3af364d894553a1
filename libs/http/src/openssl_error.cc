// OpenSSL's error queue as text.
#include "openssl_error.h"

#include <openssl/err.h>

#include <cstdio>

namespace meshvpn::http::internal {

std::string DrainOpenSslErrors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    std::string one;
    if (const char* reason = ERR_reason_error_string(code); reason != nullptr) {
      one = reason;
    } else {
      char hex[32];
      std::snprintf(hex, sizeof(hex), "error %08lx", code);
      one = hex;
    }
    // The same reason is often queued twice (once per layer): say it once.
    if (text == one || text.ends_with("; " + one)) continue;
    if (!text.empty()) text += "; ";
    text += one;
  }
  return text;
}

}  // namespace meshvpn::http::internal
