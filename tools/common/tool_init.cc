#include "common/tool_init.h"

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace meshvpn::tools {
namespace {

bool IsOwnFlagFile(absl::string_view file) { return !absl::StrContains(file, "absl/"); }

// abseil names flags with underscores; people type dashes (--key-file). Rewrites the name part of
// every "-x-y" / "--x-y[=value]" argument before the first bare "--" to underscores.
void AcceptDashedFlagNames(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    if (arg[0] != '-') continue;
    if (arg[1] == '-' && arg[2] == '\0') break;  // "--": the rest are positional
    char* name = arg + (arg[1] == '-' ? 2 : 1);
    for (char* c = name + 1; *c != '\0' && *c != '='; ++c) {
      if (*c == '-') *c = '_';
    }
  }
}

}  // namespace

std::vector<std::string> InitTool(int argc, char** argv, std::string_view usage) {
  absl::SetProgramUsageMessage(absl::string_view(usage.data(), usage.size()));
  absl::FlagsUsageConfig config;
  config.contains_helpshort_flags = &IsOwnFlagFile;
  config.contains_help_flags = &IsOwnFlagFile;
  absl::SetFlagsUsageConfig(config);
  AcceptDashedFlagNames(argc, argv);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> positional;
  for (size_t i = 1; i < rest.size(); ++i) positional.emplace_back(rest[i]);
  return positional;
}

}  // namespace meshvpn::tools
