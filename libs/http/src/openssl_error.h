// Internal to the http library: OpenSSL's thread-local error queue turned into text for a Status.
#pragma once

#include <string>

namespace meshvpn::http::internal {

// Empties the calling thread's OpenSSL error queue and returns its reasons, oldest first, joined
// by "; " ("" when it was empty). Only OpenSSL's fixed reason strings are kept, never the
// free-form data an error may carry, so nothing read from a key or a file can leak into a
// message.
std::string DrainOpenSslErrors();

}  // namespace meshvpn::http::internal
