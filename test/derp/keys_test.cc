// DERP's key forms: Tailscale's nodekey:/privkey: text, ShortKey, the mesh key, and the server's
// key file (created 0600, reloaded the same, refused when others may read it).
#include "meshvpn/derp/keys.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

namespace meshvpn::derp {
namespace {

std::string TempDir() {
  char dir[] = "/tmp/derp_keys_test.XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  return dir;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("node keys in Tailscale's text forms") {
  const auto key =
      PublicKey::FromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
          .value();
  CHECK(FormatNodeKey(key) ==
        "nodekey:de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  CHECK(ShortKey(key) == "[" + key.ToBase64().substr(0, 5) + "]");
  CHECK(ParseNodeKey(FormatNodeKey(key)).value() == key);
  CHECK(ParseNodeKey(key.ToHex()).value() == key);
  CHECK(ParseNodeKey(key.ToBase64()).value() == key);
  CHECK(ParseNodeKey(" " + FormatNodeKey(key) + "\n").value() == key);
  CHECK_FALSE(ParseNodeKey("nodekey:zz").ok());
  CHECK_FALSE(ParseNodeKey("").ok());
}

TEST_CASE("private keys: privkey:<hex> round trip, errors never echo the text") {
  const PrivateKey key = PrivateKey::Generate().value();
  const std::string text = ExportPrivateKey(key);
  CHECK(text.starts_with("privkey:"));
  CHECK(text.size() == 8 + 64);
  CHECK(ParsePrivateKey(text).value().ConstantTimeEquals(key));
  const std::string bad = "privkey:" + std::string(63, 'a') + "g";
  auto parsed = ParsePrivateKey(bad);
  REQUIRE_FALSE(parsed.ok());
  CHECK(std::string(parsed.status().message()).find(std::string(63, 'a')) == std::string::npos);
}

TEST_CASE("mesh keys: 64 hex digits, constant-time compare") {
  auto a = MeshKey::Parse("6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8\n");
  REQUIRE(a.ok());
  CHECK_FALSE(a->IsZero());
  auto b = MeshKey::Parse("6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8");
  CHECK(a->ConstantTimeEquals(*b));
  auto c = MeshKey::Parse(std::string(64, '0'));
  REQUIRE(c.ok());
  CHECK(c->IsZero());
  CHECK_FALSE(a->ConstantTimeEquals(*c));
  CHECK_FALSE(MeshKey::Parse("abcdefg").ok());
  CHECK_FALSE(MeshKey::Parse(std::string(66, 'f')).ok());
  CHECK(MeshKey().IsZero());

  const std::string dir = TempDir();
  const std::string path = dir + "/mesh.key";
  std::ofstream(path) << "6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8\n";
  auto from_file = MeshKey::ReadFile(path);
  REQUIRE(from_file.ok());
  CHECK(from_file->ConstantTimeEquals(*a));
  std::ofstream(path) << "not a key";
  auto bad = MeshKey::ReadFile(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("not a key") == std::string::npos);
  CHECK_FALSE(MeshKey::ReadFile(dir + "/missing").ok());
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

TEST_CASE("the server key file: created 0600 in derper's JSON, reloaded, refused if shared") {
  const std::string dir = TempDir();
  const std::string path = dir + "/derper.key";
  bool created = false;
  auto first = ServerKeyFile::LoadOrCreate(path, &created);
  REQUIRE(first.ok());
  CHECK(created);
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const std::string text = Slurp(path);
  CHECK(text.find("\"PrivateKey\": \"privkey:") != std::string::npos);

  auto again = ServerKeyFile::LoadOrCreate(path, &created);
  REQUIRE(again.ok());
  CHECK_FALSE(created);
  CHECK(again->ConstantTimeEquals(*first));

  // Tailscale's derper writes the same JSON, tab-indented: read as is.
  std::ofstream(path) << "{\n\t\"PrivateKey\": \"" << ExportPrivateKey(*first) << "\"\n}";
  chmod(path.c_str(), 0600);
  CHECK(ServerKeyFile::LoadOrCreate(path).value().ConstantTimeEquals(*first));

  chmod(path.c_str(), 0644);
  auto shared = ServerKeyFile::LoadOrCreate(path);
  REQUIRE_FALSE(shared.ok());
  CHECK(absl::IsPermissionDenied(shared.status()));
  CHECK(std::string(shared.status().message()).find("privkey") == std::string::npos);

  std::ofstream(path) << "{\"PrivateKey\": 5}";
  chmod(path.c_str(), 0600);
  CHECK(absl::IsInvalidArgument(ServerKeyFile::LoadOrCreate(path).status()));
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace meshvpn::derp
