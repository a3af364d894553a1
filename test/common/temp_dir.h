// TempDir for tests: a fresh directory under /tmp (or $TMPDIR), removed with its contents when
// the test case ends, also when it fails.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace meshvpn::test {

class TempDir {
 public:
  // `tag` names the directory ("/tmp/meshvpn-<tag>-XXXXXX"), to tell who left one behind.
  explicit TempDir(const std::string& tag = "test") {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr ? base : "/tmp") + "/meshvpn-" + tag + "-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace meshvpn::test
