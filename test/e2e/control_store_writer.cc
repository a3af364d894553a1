// Drives control's store for the SIGKILL durability test (control_store_kill_test.sh).
//   control_store_writer --url URL [--count N]     registers nodes in a loop (N: forever), printing
//       "ACK <id> <machine_key_hex> <ipv4> <ipv6>" on stdout only after RegisterNode returned OK
//   control_store_writer --url URL --check FILE...  reopens the store: every ACKed node must exist
//       with that machine key and those addresses, and no address may be held by two nodes
//   control_store_writer --url URL --bench N       registers N nodes, prints RegisterNode/s
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "meshvpn/control/store.h"

namespace {

using meshvpn::control::NodeRecord;
using meshvpn::control::Store;

int Usage() {
  std::fprintf(stderr,
               "usage: control_store_writer --url URL [--count N | --bench N | --check FILE...]\n");
  return 2;
}

meshvpn::x25519::PublicKey RandomKey(std::mt19937_64& random) {
  std::array<uint8_t, 32> bytes;
  for (auto& b : bytes) b = static_cast<uint8_t>(random());
  return meshvpn::x25519::PublicKey(meshvpn::x25519::KeySpan(bytes));
}

// The user every writer registers under, created by whichever writer comes first.
absl::StatusOr<uint64_t> WriterUser(Store& store) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto user = store.GetUserByName("writer");
    if (user.ok()) return user->id;
    if (user.status().code() != absl::StatusCode::kNotFound) return user.status();
    auto created = store.CreateUser("writer", "SIGKILL test writer");
    if (created.ok()) return created->id;
    if (created.status().code() != absl::StatusCode::kAlreadyExists) return created.status();
  }
  return absl::AbortedError("could not create or find user writer");
}

// One line, one write(2): a line on stdout is either whole or absent when SIGKILL lands.
void WriteLine(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::exit(3);
    done += static_cast<size_t>(n);
  }
}

int Write(Store& store, long count, bool bench) {
  auto user = WriterUser(store);
  if (!user.ok()) {
    std::fprintf(stderr, "writer: %s\n", user.status().ToString().c_str());
    return 1;
  }
  std::mt19937_64 random(std::random_device{}() ^ (static_cast<uint64_t>(getpid()) << 32));
  const auto start = std::chrono::steady_clock::now();
  long failures = 0;
  for (long i = 0; count < 0 || i < count; ++i) {
    NodeRecord node;
    node.user_id = *user;
    node.machine_key = RandomKey(random);
    node.node_key = RandomKey(random);
    const std::string hex = node.machine_key.ToHex();
    node.hostname = "writer";
    node.given_name = "w-" + hex.substr(0, 16);
    node.os = "linux";
    node.endpoints = {"192.0.2.1:41641"};
    auto registered = store.RegisterNode(node, std::nullopt);
    if (!registered.ok()) {
      ++failures;
      std::fprintf(stderr, "writer: RegisterNode: %s\n", registered.status().ToString().c_str());
      if (bench) return 1;
      continue;
    }
    if (!bench) {
      WriteLine(absl::StrCat("ACK ", registered->id, " ", hex, " ", registered->ipv4, " ",
                             registered->ipv6, "\n"));
    }
  }
  if (bench) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %ld RegisterNode in %.2f s: %.0f/s\n", std::string(store.backend()).c_str(),
                count, seconds, static_cast<double>(count) / seconds);
  }
  return failures == 0 ? 0 : 1;
}

int Check(Store& store, const std::vector<std::string>& files) {
  struct Ack {
    std::string machine_key, ipv4, ipv6;
  };
  std::map<uint64_t, Ack> acks;
  int problems = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "check: cannot read %s\n", file.c_str());
      return 1;
    }
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    size_t begin = 0;
    // A line without its newline was cut by SIGKILL mid-write: it was never an ACK.
    for (size_t end; (end = all.find('\n', begin)) != std::string::npos; begin = end + 1) {
      std::istringstream line(all.substr(begin, end - begin));
      std::string word;
      uint64_t id = 0;
      Ack ack;
      if (!(line >> word >> id >> ack.machine_key >> ack.ipv4 >> ack.ipv6) || word != "ACK") {
        std::fprintf(stderr, "check: %s: malformed line \"%s\"\n", file.c_str(),
                     all.substr(begin, end - begin).c_str());
        ++problems;
        continue;
      }
      if (acks.contains(id)) {
        std::fprintf(stderr, "check: node %llu ACKed twice\n", static_cast<unsigned long long>(id));
        ++problems;
      }
      acks[id] = ack;
    }
  }
  auto nodes = store.ListNodes();
  if (!nodes.ok()) {
    std::fprintf(stderr, "check: ListNodes: %s\n", nodes.status().ToString().c_str());
    return 1;
  }
  std::map<uint64_t, const NodeRecord*> by_id;
  std::set<std::string> ipv4, ipv6;
  for (const NodeRecord& node : *nodes) {
    by_id[node.id] = &node;
    if (!ipv4.insert(node.ipv4).second) {
      std::fprintf(stderr, "check: IPv4 %s held by two nodes\n", node.ipv4.c_str());
      ++problems;
    }
    if (!ipv6.insert(node.ipv6).second) {
      std::fprintf(stderr, "check: IPv6 %s held by two nodes\n", node.ipv6.c_str());
      ++problems;
    }
  }
  for (const auto& [id, ack] : acks) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      std::fprintf(stderr, "check: ACKed node %llu is missing\n",
                   static_cast<unsigned long long>(id));
      ++problems;
      continue;
    }
    const NodeRecord& node = *it->second;
    if (node.machine_key.ToHex() != ack.machine_key || node.ipv4 != ack.ipv4 ||
        node.ipv6 != ack.ipv6) {
      std::fprintf(stderr, "check: node %llu is %s %s %s, ACKed as %s %s %s\n",
                   static_cast<unsigned long long>(id), node.machine_key.ToHex().c_str(),
                   node.ipv4.c_str(), node.ipv6.c_str(), ack.machine_key.c_str(), ack.ipv4.c_str(),
                   ack.ipv6.c_str());
      ++problems;
    }
  }
  std::printf("check: %zu ACKed nodes, %zu nodes stored, %d problems\n", acks.size(), nodes->size(),
              problems);
  return problems == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  long count = -1;
  long bench = 0;
  std::vector<std::string> check;
  bool checking = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--url" && i + 1 < argc) {
      url = argv[++i];
    } else if (arg == "--count" && i + 1 < argc) {
      count = std::atol(argv[++i]);
    } else if (arg == "--bench" && i + 1 < argc) {
      bench = std::atol(argv[++i]);
    } else if (arg == "--check") {
      checking = true;
    } else if (checking && arg.rfind("--", 0) != 0) {
      check.push_back(arg);
    } else {
      return Usage();
    }
  }
  if (url.empty()) return Usage();
  auto store = meshvpn::control::OpenStore(url);
  if (!store.ok()) {
    std::fprintf(stderr, "control_store_writer: %s\n", store.status().ToString().c_str());
    return 1;
  }
  if (checking) return Check(**store, check);
  if (bench > 0) return Write(**store, bench, /*bench=*/true);
  return Write(**store, count, /*bench=*/false);
}
