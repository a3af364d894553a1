// Start-up shared by every tool: usage text, --help that lists the tool's own flags, flag parsing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshvpn::tools {

// Sets the usage message, makes --help (and --helpshort) list every flag defined outside abseil
// (by default abseil shows only flags from a file named after the binary), parses the command
// line and returns the positional arguments (argv[0] excluded). Exits on a bad flag.
// Flag names may be written with dashes or underscores (--key-file or --key_file).
std::vector<std::string> InitTool(int argc, char** argv, std::string_view usage);

}  // namespace meshvpn::tools
