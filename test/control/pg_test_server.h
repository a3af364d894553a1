// A throwaway PostgreSQL server for tests: initdb and pg_ctl into a temporary directory, reached
// only through a Unix socket there (no TCP), run as nobody when the test runs as root (PostgreSQL
// refuses root), and removed with its directory when the test binary exits, however it exits
// (a watchdog process does it when the binary's end of a pipe closes).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshvpn::test {

class PgTestServer {
 public:
  // The server binaries' directory: $MESHVPN_PG_BINDIR, else Debian's PostgreSQL 15.
  static std::string BinDir();
  // Starts a server; FailedPrecondition naming what is missing if the binaries are not there.
  static absl::StatusOr<std::unique_ptr<PgTestServer>> Start();
  // One server per test binary run, started at first use and stopped at exit.
  static absl::StatusOr<PgTestServer*> Shared();

  ~PgTestServer();
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  const std::string& dir() const { return dir_; }
  // libpq keyword/value pairs for `database` as the superuser.
  std::string ConnInfo(std::string_view database) const;
  // A new empty database; its name.
  absl::StatusOr<std::string> CreateDatabase();

 private:
  PgTestServer() = default;

  std::string dir_;
  int watchdog_fd_ = -1;  // closing it stops the server and removes dir_
  pid_t watchdog_pid_ = -1;
  int databases_ = 0;
};

}  // namespace meshvpn::test
