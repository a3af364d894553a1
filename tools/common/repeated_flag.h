// Every value of a flag given several times (--split A --split B): abseil keeps only the last.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshvpn::tools {

// The values of --NAME / -NAME, in order, as "--NAME V", "--NAME=V", "-NAME V" or "-NAME=V"
// (dashes and underscores in NAME alike). Stops at "--".
std::vector<std::string> RepeatedFlag(int argc, char** argv, std::string_view name);

}  // namespace meshvpn::tools
