#include "pg_test_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace meshvpn::test {
namespace {

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string PgTestServer::BinDir() {
  const char* dir = std::getenv("MESHVPN_PG_BINDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/lib/postgresql/15/bin";
}

absl::StatusOr<std::unique_ptr<PgTestServer>> PgTestServer::Start() {
  const std::string bin = BinDir();
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (!Executable(absl::StrCat(bin, "/", tool))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the PostgreSQL tests need the server binaries, but ", bin, "/", tool,
          " is missing: install Debian's postgresql-15 (listed in cmake/debian-packages.txt; "
          "./run setup), or point MESHVPN_PG_BINDIR at another bin directory"));
    }
  }
  // PostgreSQL refuses to run as root: as root, run it as nobody in a directory nobody owns.
  std::string as_user;
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (geteuid() == 0) {
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr) return absl::FailedPreconditionError("no user nobody to run PostgreSQL");
    uid = nobody->pw_uid;
    gid = nobody->pw_gid;
    as_user = Executable("/usr/sbin/runuser") ? "/usr/sbin/runuser -u nobody -- "
                                              : absl::StrCat("/usr/bin/setpriv --reuid=", uid,
                                                             " --regid=", gid, " --clear-groups ");
  }

  char templ[] = "/tmp/meshvpn-pg-XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  std::unique_ptr<PgTestServer> server(new PgTestServer());
  server->dir_ = templ;
  const std::string& dir = server->dir_;
  const std::string data = dir + "/data";
  const std::string pg_ctl = absl::StrCat(as_user, bin, "/pg_ctl -D ", data);

  // The watchdog first, so that whatever happens next the directory is removed: it waits for
  // EOF on the pipe (this process exited, or the destructor closed it), stops the server
  // (immediate, then fast if that did not work) and removes the directory.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  const std::string script =
      absl::StrCat("cat >/dev/null; cd /; if [ -f ", data, "/postmaster.pid ]; then ", pg_ctl,
                   " stop -m immediate -w -t 20 >/dev/null 2>&1 || ", pg_ctl,
                   " stop -m fast -w -t 20 >/dev/null 2>&1; fi; rm -rf ", dir);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    dup2(fds[0], 0);
    setsid();  // outlives a signal sent to the test's process group
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  server->watchdog_fd_ = fds[1];
  server->watchdog_pid_ = pid;

  if (chown(dir.c_str(), uid, gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", dir, ": ", std::strerror(errno)));
  }
  // nobody's home does not exist: HOME and the working directory are the temporary directory.
  const std::string env = absl::StrCat("cd ", dir, " && HOME=", dir, " ");
  const std::string initdb =
      absl::StrCat(env, as_user, bin, "/initdb -D ", data,
                   " --auth=trust --no-sync -U postgres -E UTF8 >", dir, "/initdb.log 2>&1");
  if (std::system(initdb.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed:\n", ReadFile(dir + "/initdb.log")));
  }
  // Only a Unix socket in the directory; fsync off (the tests never crash the server).
  const std::string start =
      absl::StrCat(env, pg_ctl, " -l ", dir, "/server.log -w -t 60 -o \"-c listen_addresses='' ",
                   "-c unix_socket_directories='", dir, "' -c fsync=off -c full_page_writes=off ",
                   "-c max_connections=50\" start >", dir, "/pg_ctl.log 2>&1");
  if (std::system(start.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("pg_ctl start failed:\n", ReadFile(dir + "/pg_ctl.log"),
                                            ReadFile(dir + "/server.log")));
  }
  return server;
}

absl::StatusOr<PgTestServer*> PgTestServer::Shared() {
  static absl::StatusOr<std::unique_ptr<PgTestServer>>* server =
      new absl::StatusOr<std::unique_ptr<PgTestServer>>(Start());
  // Stopped at exit by a static destructor; the watchdog covers every other way out.
  static struct Stopper {
    ~Stopper() {
      if (server->ok()) server->value().reset();
    }
  } stopper;
  if (!server->ok()) return server->status();
  return server->value().get();
}

PgTestServer::~PgTestServer() {
  if (watchdog_fd_ >= 0) close(watchdog_fd_);
  if (watchdog_pid_ > 0) {
    int status = 0;
    while (waitpid(watchdog_pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

std::string PgTestServer::ConnInfo(std::string_view database) const {
  return absl::StrCat("host=", dir_, " port=5432 user=postgres dbname=", std::string(database));
}

absl::StatusOr<std::string> PgTestServer::CreateDatabase() {
  const std::string name = absl::StrCat("test_", getpid(), "_", ++databases_);
  PGconn* conn = PQconnectdb(ConnInfo("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("connect to the test server: ", message));
  }
  PGresult* result =
      PQexec(conn, absl::StrCat("CREATE DATABASE ", name, " STRATEGY FILE_COPY").c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string message = ok ? "" : PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (!ok) return absl::InternalError(absl::StrCat("CREATE DATABASE ", name, ": ", message));
  return name;
}

}  // namespace meshvpn::test
