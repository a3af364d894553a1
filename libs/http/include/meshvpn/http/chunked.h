// The chunked transfer coding's encoder (RFC 9112 7.1); decoding is http_parser's, in the parsers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "meshvpn/http/headers.h"

namespace meshvpn::http {

// Appends one chunk ("<hex size>\r\n<data>\r\n") to `out`. An empty `data` appends nothing: a
// zero-size chunk would end the body.
void AppendChunk(std::string_view data, std::string* out);
// Appends the last chunk, the trailer fields (invalid ones are skipped) and the final CRLF.
void AppendLastChunk(const Headers& trailers, std::string* out);
// How many bytes AppendChunk adds for `data_size` bytes of data.
size_t ChunkOverhead(size_t data_size);

}  // namespace meshvpn::http
