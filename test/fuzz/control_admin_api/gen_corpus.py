#!/usr/bin/env python3
"""Writes corpus/: one request per route of the admin API (see the fuzzer's input format)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {
    "users_list": (3, "GET /api/v1/user", ""),
    "user_create": (1, "POST /api/v1/user", '{"name":"bob","displayName":"Bob"}'),
    "user_delete": (2, "DELETE /api/v1/user/al%69ce", ""),
    "key_create": (3, "POST /api/v1/preauthkey",
                   '{"user":"alice","reusable":true,"expiration":"1h30m","aclTags":["tag:x"]}'),
    "key_list": (3, "GET /api/v1/preauthkey?user=alice", ""),
    "key_expire": (1, "POST /api/v1/preauthkey/expire", '{"key":"mpak_0123456789ab_00"}'),
    "nodes": (3, "GET /api/v1/node", ""),
    "node": (3, "GET /api/v1/node/1", ""),
    "pending": (1, "GET /api/v1/node/pending", ""),
    "register": (1, "POST /api/v1/node/register?user=alice&key=abc", ""),
    "expire": (3, "POST /api/v1/node/1/expire", ""),
    "rename": (3, "POST /api/v1/node/1/rename/new%2dname", ""),
    "delete": (1, "DELETE /api/v1/node/18446744073709551615", ""),
    "apikey_create": (1, "POST /api/v1/apikey", '{"expiration":"90d"}'),
    "apikey_expire": (1, "POST /api/v1/apikey/expire", '{"prefix":"mapi_0123456789ab"}'),
    "machines": (0, "GET /api/machines", ""),
    "no_key": (0, "POST /api/v1/user", '{"name":"mallory"}'),
    "bad_json": (1, "POST /api/v1/user", '{"name":'),
    "unknown_field": (1, "POST /api/v1/apikey", '{"expiry":"1d"}'),
}

os.makedirs(os.path.join(HERE, "corpus"), exist_ok=True)
for name, (flags, line, body) in CASES.items():
    with open(os.path.join(HERE, "corpus", name), "wb") as f:
        f.write(bytes([flags]) + (line + "\n" + body).encode())
