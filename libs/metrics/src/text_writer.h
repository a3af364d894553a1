// The pieces both text formats share: numbers as Prometheus spells them, and escaping.
#pragma once

#include <string>
#include <string_view>

#include "meshvpn/metrics/value.h"

namespace meshvpn::metrics::internal {

// NaN, +Inf, -Inf, or the shortest decimal that reads back as the same double ("0.1", "1e+21").
void AppendDouble(double v, std::string* out);
// AppendDouble, with ".0" added to a number that has neither '.' nor an exponent (OpenMetrics'
// canonical form for `le`: "1.0", not "1").
void AppendCanonicalDouble(double v, std::string* out);
// An integer exactly, a double as AppendDouble.
void AppendValue(const Value& v, std::string* out);
// A label value between double quotes: \ " and newline escaped as \\ \" \n.
void AppendEscapedLabelValue(std::string_view v, std::string* out);
// Help text: \ and newline escaped; with `escape_quotes` (OpenMetrics) also ".
void AppendEscapedHelp(std::string_view help, bool escape_quotes, std::string* out);

}  // namespace meshvpn::metrics::internal
