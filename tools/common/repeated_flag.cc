// Collecting a repeated flag's values from argv.
#include "common/repeated_flag.h"

#include <algorithm>

namespace meshvpn::tools {

std::vector<std::string> RepeatedFlag(int argc, char** argv, std::string_view name) {
  std::string wanted(name);
  std::replace(wanted.begin(), wanted.end(), '_', '-');
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    std::string flag = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (const size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      has_value = true;
    }
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (flag != wanted) continue;
    if (has_value) {
      out.push_back(value);
    } else if (i + 1 < argc) {
      out.emplace_back(argv[++i]);
    }
  }
  return out;
}

}  // namespace meshvpn::tools
