// The store, one suite run against every backend: SQLite in a temporary file, and PostgreSQL in a
// fresh database of a server this test binary starts (pg_test_server.h).
#include "meshvpn/control/store.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/temp_dir.h"
#include "meshvpn/control/auth_keys.h"
#include "pg_test_server.h"
#include "store_migrations.h"
#include "store_sql.h"

namespace meshvpn::control {
namespace {

using absl::StatusCode;

using test::TempDir;

struct SqliteBackend {
  static constexpr std::string_view kName = "sqlite";
  TempDir dir{"store"};
  std::string path = dir.path() + "/store.db";
  std::string url = "sqlite:" + path;
};

struct PostgresBackend {
  static constexpr std::string_view kName = "postgres";
  std::string url;
  PostgresBackend() {
    absl::StatusOr<test::PgTestServer*> server = test::PgTestServer::Shared();
    INFO(server.status().ToString());
    REQUIRE(server.ok());
    absl::StatusOr<std::string> database = (*server)->CreateDatabase();
    INFO(database.status().ToString());
    REQUIRE(database.ok());
    url = "postgres:" + (*server)->ConnInfo(*database);
  }
};

std::unique_ptr<Store> Open(const std::string& url, const StoreOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(url, options);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

x25519::PublicKey RandomKey() {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::array<uint8_t, 32> bytes;
  for (auto& b : bytes) b = static_cast<uint8_t>(random());
  return x25519::PublicKey(x25519::KeySpan(bytes));
}

NodeRecord MakeNode(uint64_t user_id, std::string_view name) {
  NodeRecord node;
  node.user_id = user_id;
  node.machine_key = RandomKey();
  node.node_key = RandomKey();
  node.hostname = std::string(name);
  node.given_name = std::string(name);
  node.os = "linux";
  node.endpoints = {"192.0.2.1:41641", "[2001:db8::1]:41641"};
  node.home_derp_region = 1;
  node.tags = {"tag:server"};
  return node;
}

PreAuthKeyRecord MakeKey(uint64_t user_id, bool reusable = false, int64_t expiration_ms = 0) {
  absl::StatusOr<NewKey> made = MakePreAuthKey();
  REQUIRE(made.ok());
  PreAuthKeyRecord key;
  key.user_id = user_id;
  key.prefix = made->prefix;
  key.key_hash = made->hash;
  key.reusable = reusable;
  key.expiration_ms = expiration_ms;
  key.tags = {"tag:ci"};
  return key;
}

ApiKeyRecord MakeApi() {
  absl::StatusOr<NewKey> made = MakeApiKey();
  REQUIRE(made.ok());
  ApiKeyRecord key;
  key.prefix = made->prefix;
  key.key_hash = made->hash;
  return key;
}

void CheckSameNode(const NodeRecord& a, const NodeRecord& b) {
  CHECK(a.id == b.id);
  CHECK(a.user_id == b.user_id);
  CHECK(a.machine_key == b.machine_key);
  CHECK(a.node_key == b.node_key);
  CHECK(a.disco_key == b.disco_key);
  CHECK(a.hostname == b.hostname);
  CHECK(a.given_name == b.given_name);
  CHECK(a.os == b.os);
  CHECK(a.ipv4 == b.ipv4);
  CHECK(a.ipv6 == b.ipv6);
  CHECK(a.endpoints == b.endpoints);
  CHECK(a.home_derp_region == b.home_derp_region);
  CHECK(a.last_seen_ms == b.last_seen_ms);
  CHECK(a.key_expiry_ms == b.key_expiry_ms);
  CHECK(a.expiry_disabled == b.expiry_disabled);
  CHECK(a.ephemeral == b.ephemeral);
  CHECK(a.tags == b.tags);
  CHECK(a.auth_key_id == b.auth_key_id);
  CHECK(a.created_ms == b.created_ms);
}

// The constraint an AlreadyExists names in its message.
void CheckAlreadyExists(const absl::Status& status, std::string_view constraint) {
  INFO(status.ToString());
  CHECK(status.code() == StatusCode::kAlreadyExists);
  CHECK(std::string(status.message()).find(std::string(constraint)) != std::string::npos);
}

TEMPLATE_TEST_CASE("Store users", "[control][store]", SqliteBackend, PostgresBackend) {
  TestType backend;
  FakeClock clock;
  StoreOptions options;
  options.clock = &clock;
  auto store = Open(backend.url, options);
  CHECK(store->backend() == TestType::kName);

  auto alice = store->CreateUser("alice", "Alice A.");
  REQUIRE(alice.ok());
  CHECK(alice->id != 0);
  CHECK(alice->name == "alice");
  CHECK(alice->display_name == "Alice A.");
  CHECK(alice->created_ms == 1577836800000);  // FakeClock's wall start, 2020-01-01
  clock.Advance(std::chrono::seconds(1));
  auto bob = store->CreateUser("bob", "");
  REQUIRE(bob.ok());
  CHECK(bob->id > alice->id);

  SECTION("read back by id, by name, in a list by id") {
    auto got = store->GetUser(alice->id);
    REQUIRE(got.ok());
    CHECK(got->name == "alice");
    auto by_name = store->GetUserByName("bob");
    REQUIRE(by_name.ok());
    CHECK(by_name->id == bob->id);
    CHECK(by_name->created_ms == 1577836801000);
    auto users = store->ListUsers();
    REQUIRE(users.ok());
    REQUIRE(users->size() == 2);
    CHECK((*users)[0].name == "alice");
    CHECK((*users)[1].name == "bob");
    CHECK(store->GetUser(999).status().code() == StatusCode::kNotFound);
    CHECK(store->GetUserByName("carol").status().code() == StatusCode::kNotFound);
  }

  SECTION("names are unique and not empty") {
    CheckAlreadyExists(store->CreateUser("alice", "again").status(), "users_name_key");
    CHECK(store->CreateUser("", "x").status().code() == StatusCode::kInvalidArgument);
    CHECK(store->ListUsers()->size() == 2);
  }

  SECTION("a user with nodes cannot be deleted; without, it goes with its keys") {
    auto key = store->CreatePreAuthKey(MakeKey(alice->id));
    REQUIRE(key.ok());
    auto node = store->RegisterNode(MakeNode(alice->id, "laptop"), std::nullopt);
    REQUIRE(node.ok());
    absl::Status refused = store->DeleteUser(alice->id);
    CHECK(refused.code() == StatusCode::kFailedPrecondition);
    CHECK(store->GetUser(alice->id).ok());
    REQUIRE(store->DeleteNode(node->id).ok());
    REQUIRE(store->DeleteUser(alice->id).ok());
    CHECK(store->GetUser(alice->id).status().code() == StatusCode::kNotFound);
    CHECK(store->GetPreAuthKey(key->id).status().code() == StatusCode::kNotFound);
    CHECK(store->DeleteUser(alice->id).code() == StatusCode::kNotFound);
    // Ids are never reused.
    auto carol = store->CreateUser("carol", "");
    REQUIRE(carol.ok());
    CHECK(carol->id > bob->id);
  }
}

TEMPLATE_TEST_CASE("Store pre-auth and API keys", "[control][store]", SqliteBackend,
                   PostgresBackend) {
  TestType backend;
  FakeClock clock;
  StoreOptions options;
  options.clock = &clock;
  auto store = Open(backend.url, options);
  auto alice = store->CreateUser("alice", "");
  REQUIRE(alice.ok());

  SECTION("pre-auth keys: create, find by prefix, list, expire") {
    const PreAuthKeyRecord wanted = MakeKey(alice->id, /*reusable=*/true, 1577836900000);
    auto key = store->CreatePreAuthKey(wanted);
    REQUIRE(key.ok());
    CHECK(key->id != 0);
    CHECK(key->prefix == wanted.prefix);
    CHECK(key->key_hash == wanted.key_hash);
    CHECK(key->reusable);
    CHECK_FALSE(key->used);
    CHECK(key->tags == std::vector<std::string>{"tag:ci"});
    CHECK(key->created_ms == 1577836800000);

    auto found = store->FindPreAuthKeyByPrefix(wanted.prefix);
    REQUIRE(found.ok());
    CHECK(found->id == key->id);
    CHECK(KeyHashesEqual(found->key_hash, wanted.key_hash));
    CHECK(store->FindPreAuthKeyByPrefix("mpak_000000000000").status().code() ==
          StatusCode::kNotFound);
    auto second = store->CreatePreAuthKey(MakeKey(alice->id));
    REQUIRE(second.ok());
    auto listed = store->ListPreAuthKeys(alice->id);
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 2);
    CHECK((*listed)[0].id == key->id);
    CHECK((*listed)[1].id == second->id);

    clock.Advance(std::chrono::seconds(10));
    REQUIRE(store->ExpirePreAuthKey(second->id).ok());
    CHECK(store->GetPreAuthKey(second->id)->expiration_ms == 1577836810000);
    // A key that expires later is moved to now.
    REQUIRE(store->ExpirePreAuthKey(key->id).ok());
    CHECK(store->GetPreAuthKey(key->id)->expiration_ms == 1577836810000);
    clock.Advance(std::chrono::seconds(10));
    REQUIRE(store->ExpirePreAuthKey(key->id).ok());  // an expired key keeps its time
    CHECK(store->GetPreAuthKey(key->id)->expiration_ms == 1577836810000);
    CHECK(store->ExpirePreAuthKey(999).code() == StatusCode::kNotFound);
  }

  SECTION("pre-auth keys: unique prefix, a real hash, an existing user") {
    const PreAuthKeyRecord wanted = MakeKey(alice->id);
    REQUIRE(store->CreatePreAuthKey(wanted).ok());
    PreAuthKeyRecord same_prefix = MakeKey(alice->id);
    same_prefix.prefix = wanted.prefix;
    CheckAlreadyExists(store->CreatePreAuthKey(same_prefix).status(), "pre_auth_keys_prefix_key");
    PreAuthKeyRecord bad_hash = MakeKey(alice->id);
    bad_hash.key_hash = "ABCDEF";
    CHECK(store->CreatePreAuthKey(bad_hash).status().code() == StatusCode::kInvalidArgument);
    bad_hash.key_hash = std::string(64, 'G');
    CHECK(store->CreatePreAuthKey(bad_hash).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->CreatePreAuthKey(MakeKey(999)).status().code() == StatusCode::kNotFound);
    CHECK(store->ListPreAuthKeys(alice->id)->size() == 1);
  }

  SECTION("API keys: create, find, list, touch, expire, unique prefix") {
    const ApiKeyRecord wanted = MakeApi();
    auto key = store->CreateApiKey(wanted);
    REQUIRE(key.ok());
    CHECK(key->prefix == wanted.prefix);
    CHECK(key->key_hash == wanted.key_hash);
    CHECK(key->expiration_ms == 0);
    CHECK(key->last_used_ms == 0);
    CHECK(key->created_ms == 1577836800000);
    auto found = store->FindApiKeyByPrefix(wanted.prefix);
    REQUIRE(found.ok());
    CHECK(found->id == key->id);
    CHECK(store->FindApiKeyByPrefix("mapi_nothing").status().code() == StatusCode::kNotFound);
    CheckAlreadyExists(store->CreateApiKey(wanted).status(), "api_keys_prefix_key");
    REQUIRE(store->CreateApiKey(MakeApi()).ok());
    CHECK(store->ListApiKeys()->size() == 2);

    REQUIRE(store->TouchApiKey(key->id, 1577836805000).ok());
    CHECK(store->FindApiKeyByPrefix(wanted.prefix)->last_used_ms == 1577836805000);
    CHECK(store->TouchApiKey(999, 1).code() == StatusCode::kNotFound);
    clock.Advance(std::chrono::seconds(3));
    REQUIRE(store->ExpireApiKey(key->id).ok());
    CHECK(store->FindApiKeyByPrefix(wanted.prefix)->expiration_ms == 1577836803000);
    CHECK(store->ExpireApiKey(999).code() == StatusCode::kNotFound);
    ApiKeyRecord bad = MakeApi();
    bad.key_hash = "00";
    CHECK(store->CreateApiKey(bad).status().code() == StatusCode::kInvalidArgument);
  }
}

TEMPLATE_TEST_CASE("Store nodes", "[control][store]", SqliteBackend, PostgresBackend) {
  TestType backend;
  FakeClock clock;
  StoreOptions options;
  options.clock = &clock;
  // 100.100.100.96/29: .97-.102 minus the MagicDNS resolver .100, five addresses.
  options.ipam.ipv4_prefix = "100.100.100.96/29";
  auto store = Open(backend.url, options);
  auto alice = store->CreateUser("alice", "");
  auto bob = store->CreateUser("bob", "");
  REQUIRE(alice.ok());
  REQUIRE(bob.ok());

  SECTION("registered nodes read back whole, by id and both keys") {
    NodeRecord wanted = MakeNode(alice->id, "laptop");
    wanted.disco_key = RandomKey();
    wanted.key_expiry_ms = 1600000000000;
    wanted.ephemeral = true;
    wanted.ipv4 = "1.2.3.4";  // ignored
    auto node = store->RegisterNode(wanted, std::nullopt);
    REQUIRE(node.ok());
    CHECK(node->id != 0);
    CHECK(node->ipv4 == "100.100.100.97");
    CHECK(node->ipv6 == "fd7a:115c:a1e0::1");
    CHECK(node->created_ms == 1577836800000);
    CHECK(node->machine_key == wanted.machine_key);
    CHECK(node->disco_key == wanted.disco_key);
    CHECK(node->endpoints == wanted.endpoints);
    CHECK(node->tags == wanted.tags);
    CHECK(node->ephemeral);
    CHECK(node->key_expiry_ms == 1600000000000);
    CHECK(node->auth_key_id == 0);

    CheckSameNode(*store->GetNode(node->id), *node);
    CheckSameNode(*store->GetNodeByMachineKey(wanted.machine_key), *node);
    CheckSameNode(*store->GetNodeByNodeKey(wanted.node_key), *node);
    CHECK(store->GetNodeByNodeKey(RandomKey()).status().code() == StatusCode::kNotFound);
    CHECK(store->GetNode(999).status().code() == StatusCode::kNotFound);
    // No disco key yet: all zeros.
    auto plain = store->RegisterNode(MakeNode(alice->id, "desktop"), std::nullopt);
    REQUIRE(plain.ok());
    CHECK(plain->disco_key.IsZero());
    auto nodes = store->ListNodes();
    REQUIRE(nodes.ok());
    REQUIRE(nodes->size() == 2);
    CHECK((*nodes)[0].id == node->id);
    CHECK((*nodes)[1].id == plain->id);
    CHECK(store->RegisterNode(MakeNode(999, "ghost"), std::nullopt).status().code() ==
          StatusCode::kNotFound);
    NodeRecord zero = MakeNode(alice->id, "zero");
    zero.machine_key = x25519::PublicKey();
    CHECK(store->RegisterNode(zero, std::nullopt).status().code() == StatusCode::kInvalidArgument);
  }

  SECTION("addresses are unique, skip reserved ones, and run out cleanly") {
    std::set<std::string> v4, v6;
    for (int i = 0; i < 5; ++i) {
      auto node = store->RegisterNode(MakeNode(alice->id, "n" + std::to_string(i)), std::nullopt);
      REQUIRE(node.ok());
      v4.insert(node->ipv4);
      v6.insert(node->ipv6);
    }
    CHECK(v4 == std::set<std::string>{"100.100.100.97", "100.100.100.98", "100.100.100.99",
                                      "100.100.100.101", "100.100.100.102"});
    CHECK(v6.size() == 5);
    auto key = store->CreatePreAuthKey(MakeKey(alice->id));
    REQUIRE(key.ok());
    auto full = store->RegisterNode(MakeNode(alice->id, "n5"), key->id);
    INFO(full.status().ToString());
    CHECK(full.status().code() == StatusCode::kResourceExhausted);
    CHECK(store->ListNodes()->size() == 5);
    CHECK_FALSE(store->GetPreAuthKey(key->id)->used);  // nothing stored, the key not spent

    // A freed address is handed out again (after the cursor wraps), never a taken one.
    auto nodes = store->ListNodes();
    REQUIRE(store->DeleteNode((*nodes)[1].id).ok());
    auto again = store->RegisterNode(MakeNode(alice->id, "n6"), std::nullopt);
    REQUIRE(again.ok());
    CHECK(again->ipv4 == (*nodes)[1].ipv4);
    CHECK(again->id > (*nodes)[4].id);  // ids are never reused
  }

  SECTION("a single-use key registers one node, once") {
    auto key = store->CreatePreAuthKey(MakeKey(alice->id));
    REQUIRE(key.ok());
    auto first = store->RegisterNode(MakeNode(alice->id, "first"), key->id);
    REQUIRE(first.ok());
    CHECK(first->auth_key_id == key->id);
    CHECK(store->GetPreAuthKey(key->id)->used);
    auto second = store->RegisterNode(MakeNode(alice->id, "second"), key->id);
    CHECK(second.status().code() == StatusCode::kFailedPrecondition);
    CHECK(store->ListNodes()->size() == 1);
  }

  SECTION("keys that may not register a node are refused and nothing is stored") {
    auto reusable = store->CreatePreAuthKey(MakeKey(alice->id, /*reusable=*/true));
    auto expired = store->CreatePreAuthKey(MakeKey(alice->id, false, 1577836800000 - 1));
    auto bobs = store->CreatePreAuthKey(MakeKey(bob->id));
    REQUIRE(reusable.ok());
    REQUIRE(expired.ok());
    REQUIRE(bobs.ok());
    for (uint64_t id : {reusable->id, expired->id, bobs->id, uint64_t{999}}) {
      auto refused = store->RegisterNode(MakeNode(alice->id, "x"), id);
      INFO(refused.status().ToString());
      CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
    }
    CHECK(store->ListNodes()->empty());
    CHECK_FALSE(store->GetPreAuthKey(bobs->id)->used);
    // The failed attempts took no address: the next node gets the first one.
    auto node = store->RegisterNode(MakeNode(alice->id, "ok"), std::nullopt);
    REQUIRE(node.ok());
    CHECK(node->ipv4 == "100.100.100.97");
  }

  SECTION("UpdateNode writes the mutable fields and keeps id, machine key, addresses") {
    auto node = store->RegisterNode(MakeNode(alice->id, "laptop"), std::nullopt);
    REQUIRE(node.ok());
    NodeRecord changed = *node;
    changed.machine_key = RandomKey();
    changed.ipv4 = "10.9.9.9";
    changed.ipv6 = "fd00::9";
    changed.created_ms = 42;
    changed.node_key = RandomKey();
    changed.disco_key = RandomKey();
    changed.hostname = "laptop-2";
    changed.given_name = "laptop-renamed";
    changed.endpoints = {"198.51.100.7:1234"};
    changed.tags = {};
    changed.last_seen_ms = 1577836999000;
    changed.expiry_disabled = true;
    changed.home_derp_region = 7;
    auto updated = store->UpdateNode(changed);
    REQUIRE(updated.ok());
    CHECK(updated->id == node->id);
    CHECK(updated->machine_key == node->machine_key);
    CHECK(updated->ipv4 == node->ipv4);
    CHECK(updated->ipv6 == node->ipv6);
    CHECK(updated->created_ms == node->created_ms);
    CHECK(updated->node_key == changed.node_key);
    CHECK(updated->disco_key == changed.disco_key);
    CHECK(updated->given_name == "laptop-renamed");
    CHECK(updated->endpoints == changed.endpoints);
    CHECK(updated->tags.empty());
    CHECK(updated->expiry_disabled);
    CHECK(updated->home_derp_region == 7);
    CheckSameNode(*store->GetNode(node->id), *updated);
    CHECK(store->GetNodeByNodeKey(node->node_key).status().code() == StatusCode::kNotFound);
    changed.id = 999;
    CHECK(store->UpdateNode(changed).status().code() == StatusCode::kNotFound);
  }

  SECTION("unique keys and names: AlreadyExists naming the constraint, nothing stored") {
    auto laptop = store->RegisterNode(MakeNode(alice->id, "laptop"), std::nullopt);
    REQUIRE(laptop.ok());
    auto key = store->CreatePreAuthKey(MakeKey(alice->id));
    REQUIRE(key.ok());
    CheckAlreadyExists(store->RegisterNode(MakeNode(alice->id, "laptop"), key->id).status(),
                       "nodes_given_name_key");
    CHECK_FALSE(store->GetPreAuthKey(key->id)->used);
    NodeRecord same_machine = MakeNode(alice->id, "other");
    same_machine.machine_key = laptop->machine_key;
    CheckAlreadyExists(store->RegisterNode(same_machine, std::nullopt).status(),
                       "nodes_machine_key_key");
    NodeRecord same_node_key = MakeNode(alice->id, "other");
    same_node_key.node_key = laptop->node_key;
    absl::Status taken = store->RegisterNode(same_node_key, std::nullopt).status();
    CheckAlreadyExists(taken, "nodes_node_key_key");
    CHECK(std::string(taken.message()).find(laptop->node_key.ToHex()) == std::string::npos);
    CHECK(store->ListNodes()->size() == 1);

    auto desktop = store->RegisterNode(MakeNode(alice->id, "desktop"), std::nullopt);
    REQUIRE(desktop.ok());
    NodeRecord rename = *desktop;
    rename.given_name = "laptop";
    CheckAlreadyExists(store->UpdateNode(rename).status(), "nodes_given_name_key");
    rename = *desktop;
    rename.node_key = laptop->node_key;
    CheckAlreadyExists(store->UpdateNode(rename).status(), "nodes_node_key_key");
    CHECK(store->GetNode(desktop->id)->given_name == "desktop");
  }
}

TEST_CASE("Store migrations are planned from the database's version", "[control][store]") {
  for (std::string_view backend : {"sqlite", "postgres"}) {
    const auto migrations = internal::MigrationsFor(backend);
    REQUIRE(migrations.size() >= 2);
    CHECK(internal::MigrationsFor("sqlite").size() == internal::MigrationsFor("postgres").size());
    auto all = internal::PlanMigrations(0, migrations);
    REQUIRE(all.ok());
    CHECK(all->size() == migrations.size());
    CHECK(all->front()->version == 1);
    auto rest = internal::PlanMigrations(1, migrations);
    REQUIRE(rest.ok());
    REQUIRE(rest->size() == migrations.size() - 1);
    CHECK(rest->front()->version == 2);
    CHECK(internal::PlanMigrations(static_cast<int>(migrations.size()), migrations)->empty());
    CHECK(internal::PlanMigrations(static_cast<int>(migrations.size()) + 1, migrations)
              .status()
              .code() == StatusCode::kFailedPrecondition);
  }
  const internal::Migration gap[] = {{1, "one", "SELECT 1"}, {3, "three", "SELECT 3"}};
  CHECK(internal::PlanMigrations(0, gap).status().code() == StatusCode::kInvalidArgument);
  const internal::Migration empty[] = {{1, "one", ""}};
  CHECK(internal::PlanMigrations(0, empty).status().code() == StatusCode::kInvalidArgument);
}

// Plants a schema version newer than the code's in the database at `url`.
void PlantFutureSchema(const std::string& url) {
  auto location = ParseStoreUrl(url);
  REQUIRE(location.ok());
  auto connection = internal::OpenSqlConnection(*location, {});
  REQUIRE(connection.ok());
  const internal::SqlValue params[] = {int64_t{99}};
  auto inserted = (*connection)
                      ->Query(
                          "INSERT INTO schema_version (version, description, applied_ms)"
                          " VALUES ($1, 'from the future', 0)",
                          params);
  INFO(inserted.status().ToString());
  REQUIRE(inserted.ok());
}

TEMPLATE_TEST_CASE("Store schema, reopening and secrets", "[control][store]", SqliteBackend,
                   PostgresBackend) {
  TestType backend;
  const int newest = static_cast<int>(internal::MigrationsFor(TestType::kName).size());

  SECTION("opening again applies nothing and keeps everything") {
    uint64_t node_id = 0;
    NodeRecord registered;
    {
      auto store = Open(backend.url);
      CHECK(store->SchemaVersion().value() == newest);
      auto user = store->CreateUser("alice", "");
      REQUIRE(user.ok());
      auto key = store->CreatePreAuthKey(MakeKey(user->id));
      REQUIRE(key.ok());
      auto node = store->RegisterNode(MakeNode(user->id, "laptop"), key->id);
      REQUIRE(node.ok());
      registered = *node;
      node_id = node->id;
      REQUIRE(store->CreateApiKey(MakeApi()).ok());
    }
    auto store = Open(backend.url);
    CHECK(store->SchemaVersion().value() == newest);
    CheckSameNode(*store->GetNode(node_id), registered);
    CHECK(store->ListUsers()->size() == 1);
    CHECK(store->ListApiKeys()->size() == 1);
    CHECK(store->GetPreAuthKey(registered.auth_key_id)->used);
    // The address cursor survived too: the next node gets the next address.
    auto next = store->RegisterNode(MakeNode(registered.user_id, "desktop"), std::nullopt);
    REQUIRE(next.ok());
    CHECK(next->ipv4 == "100.64.0.2");
    // And one row per migration in schema_version: the second open applied none.
    auto location = ParseStoreUrl(backend.url);
    auto connection = internal::OpenSqlConnection(*location, {});
    REQUIRE(connection.ok());
    auto rows = (*connection)->Query("SELECT count(*) FROM schema_version", {});
    REQUIRE(rows.ok());
    CHECK((*rows)[0].Int(0) == newest);
  }

  SECTION("a database at a newer schema version is refused") {
    { Open(backend.url); }
    PlantFutureSchema(backend.url);
    auto refused = OpenStore(backend.url);
    INFO(refused.status().ToString());
    CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
    CHECK(std::string(refused.status().message()).find("99") != std::string::npos);
  }

  SECTION("bad prefixes are refused at open") {
    StoreOptions options;
    options.ipam.ipv4_prefix = "fd00::/64";
    CHECK(OpenStore(backend.url, options).status().code() == StatusCode::kInvalidArgument);
    options.ipam.ipv4_prefix = "100.64.0.1/10";
    CHECK(OpenStore(backend.url, options).status().code() == StatusCode::kInvalidArgument);
  }

  SECTION("errors never carry a password") {
    CHECK(
        ParseStoreUrl("mysql://user:hunter2secret@db/x").status().message().find("hunter2secret") ==
        absl::string_view::npos);
    for (const std::string& url :
         {std::string("postgres:host=/nonexistent/dir dbname=x password=hunter2secret"),
          std::string("postgresql://user:hunter2secret@/x?host=/nonexistent/dir"),
          std::string("postgres:password=hunter2secret dbname='unterminated")}) {
      auto failed = OpenStore(url);
      INFO(failed.status().ToString());
      CHECK_FALSE(failed.ok());
      CHECK(failed.status().message().find("hunter2secret") == absl::string_view::npos);
    }
  }
}

TEST_CASE("Store SQLite file is 0600 whatever the umask, in WAL mode, synchronous=FULL",
          "[control][store]") {
  SqliteBackend backend;
  const mode_t old_umask = umask(0);
  auto store = OpenStore(backend.url);
  umask(old_umask);
  REQUIRE(store.ok());
  auto user = (*store)->CreateUser("alice", "");
  REQUIRE(user.ok());
  for (const std::string& suffix : {std::string(), std::string("-wal"), std::string("-shm")}) {
    struct stat info {};
    INFO(backend.path + suffix);
    REQUIRE(stat((backend.path + suffix).c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
  }
  // The connection's durability settings.
  auto connection = internal::OpenSqlConnection(*ParseStoreUrl(backend.url), {});
  REQUIRE(connection.ok());
  CHECK((*connection)->Query("PRAGMA journal_mode", {})->at(0).Text(0) == "wal");
  CHECK((*connection)->Query("PRAGMA synchronous", {})->at(0).Int(0) == 2);  // FULL
  CHECK((*connection)->Query("PRAGMA foreign_keys", {})->at(0).Int(0) == 1);
  CHECK((*connection)->Query("PRAGMA busy_timeout", {})->at(0).Int(0) == 5000);
}

// Ends every other session on the PostgreSQL database of `conninfo` (as a server restart or an
// idle timeout would) and waits until they are gone.
void DropOtherSessions(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  auto others = [&](const char* sql) {
    PGresult* result = PQexec(conn, sql);
    REQUIRE(PQresultStatus(result) == PGRES_TUPLES_OK);
    const int rows = PQntuples(result);
    PQclear(result);
    return rows;
  };
  constexpr char kWhere[] =
      " FROM pg_stat_activity WHERE datname = current_database()"
      " AND pid <> pg_backend_pid()";
  CHECK(others((std::string("SELECT pg_terminate_backend(pid)") + kWhere).c_str()) >= 1);
  for (int i = 0; i < 500 && others((std::string("SELECT pid") + kWhere).c_str()) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  PQfinish(conn);
}

TEST_CASE("Store PostgreSQL reconnects after the server drops the connection", "[control][store]") {
  PostgresBackend backend;
  const std::string conninfo = backend.url.substr(std::string_view("postgres:").size());
  auto store = Open(backend.url);
  auto alice = store->CreateUser("alice", "");
  REQUIRE(alice.ok());
  DropOtherSessions(conninfo);
  auto bob = store->CreateUser("bob", "");  // a write: reopened before BEGIN
  INFO(bob.status().ToString());
  CHECK(bob.ok());
  DropOtherSessions(conninfo);
  CHECK(store->GetUser(alice->id).ok());  // a read: run again on a new connection
  DropOtherSessions(conninfo);
  auto node = store->RegisterNode(MakeNode(alice->id, "laptop"), std::nullopt);
  INFO(node.status().ToString());
  CHECK(node.ok());
  CHECK(store->ListUsers()->size() == 2);
}

// Two Store objects on one database (two connections: as two server processes would be),
// registering from two threads at once: every node gets its own addresses.
TEMPLATE_TEST_CASE("Store concurrent registration never duplicates an address", "[control][store]",
                   SqliteBackend, PostgresBackend) {
  TestType backend;
  // Both open the new database at once: one migrates, the other waits and finds nothing to do.
  absl::StatusOr<std::unique_ptr<Store>> opened[2];
  std::thread opener([&] { opened[1] = OpenStore(backend.url); });
  opened[0] = OpenStore(backend.url);
  opener.join();
  INFO(opened[0].status().ToString() << " / " << opened[1].status().ToString());
  REQUIRE(opened[0].ok());
  REQUIRE(opened[1].ok());
  auto first = std::move(opened[0]).value();
  auto second = std::move(opened[1]).value();
  CHECK(second->SchemaVersion().value() ==
        static_cast<int>(internal::MigrationsFor(TestType::kName).size()));
  auto user = first->CreateUser("alice", "");
  REQUIRE(user.ok());
  constexpr int kPerThread = 40;
  std::mutex mutex;
  std::vector<std::string> failures;
  auto work = [&](Store* store, std::string prefix) {
    for (int i = 0; i < kPerThread; ++i) {
      auto node = store->RegisterNode(MakeNode(user->id, prefix + std::to_string(i)), std::nullopt);
      if (!node.ok()) {
        std::lock_guard lock(mutex);
        failures.push_back(node.status().ToString());
      }
    }
  };
  std::thread a(work, first.get(), "a");
  std::thread b(work, second.get(), "b");
  a.join();
  b.join();
  CHECK(failures == std::vector<std::string>{});
  auto nodes = first->ListNodes();
  REQUIRE(nodes.ok());
  CHECK(nodes->size() == 2 * kPerThread);
  std::set<std::string> v4, v6;
  for (const NodeRecord& node : *nodes) {
    v4.insert(node.ipv4);
    v6.insert(node.ipv6);
  }
  CHECK(v4.size() == nodes->size());
  CHECK(v6.size() == nodes->size());
}

}  // namespace
}  // namespace meshvpn::control
