#!/usr/bin/env bash
# The crypto ratio report: our OpenSSL backend against `openssl speed` measured in the same run,
# and our reference backend against our OpenSSL backend. Ratios, not absolute numbers, because
# these shared machines drift.
# usage: bench/crypto_report.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: crypto_report.sh BUILD_DIR}
seconds=${MESHVPN_SPEED_SECONDS:-3}

# bench_value BINARY FILTER COLUMN: prints the named CSV column of the single matching benchmark.
bench_value() {
  "$1" --benchmark_filter="$2" --benchmark_format=csv --benchmark_min_time=1 2>/dev/null |
    awk -F, -v col="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
                         c { print $c; exit }'
}

echo "measuring openssl speed (${seconds}s each) and our benchmarks..."
ossl_aead=$(openssl speed -seconds "$seconds" -bytes 1024 -evp chacha20-poly1305 2>/dev/null |
  awk '/^ChaCha20-Poly1305/ { sub("k", "", $2); print $2 * 1000 }')
ours_aead=$(bench_value "$build/bench/aead/bench_aead" 'BM_ChaChaPolySeal/openssl/1024$' bytes_per_second)
ref_aead=$(bench_value "$build/bench/aead/bench_aead" 'BM_ChaChaPolySeal/ref/1024$' bytes_per_second)
ossl_msg=$(bench_value "$build/bench/aead/bench_aead" 'BM_OpenSslSpeedAead/1024$' bytes_per_second)
ossl_dh=$(openssl speed -seconds "$seconds" ecdhx25519 2>/dev/null |
  awk '/ecdh \(X25519\)/ { print $NF }')
ours_dh=$(bench_value "$build/bench/x25519/bench_x25519" 'BM_X25519Dh/openssl$' items_per_second)
ref_dh=$(bench_value "$build/bench/x25519/bench_x25519" 'BM_X25519Dh/ref$' items_per_second)
ours_b2=$(bench_value "$build/bench/noise/bench_noise" 'BM_Blake2s256/1420/0$' bytes_per_second || true)
ref_b2=$(bench_value "$build/bench/noise/bench_noise" 'BM_Blake2s256/1420/1$' bytes_per_second || true)

awk -v oa="$ossl_aead" -v a="$ours_aead" -v ra="$ref_aead" -v om="$ossl_msg" \
    -v od="$ossl_dh" -v d="$ours_dh" -v rd="$ref_dh" -v b="$ours_b2" -v rb="$ref_b2" 'BEGIN {
  printf "\n%-52s %14s %8s\n", "measurement", "value", "ratio"
  printf "%-52s %11.0f MB/s\n", "openssl speed -evp chacha20-poly1305, 1 KiB", oa / 1e6
  printf "%-52s %11.0f MB/s %8.2f\n", "ours (openssl backend) seal 1 KiB, vs openssl speed", a / 1e6, a / oa
  printf "%-52s %11.0f MB/s %8.2f\n", "  OpenSSL per-message AEAD loop, vs openssl speed", om / 1e6, om / oa
  printf "%-52s %11.0f MB/s %8.2f\n", "ours (ref backend) seal 1 KiB, vs openssl backend", ra / 1e6, ra / a
  printf "%-52s %11.0f op/s\n", "openssl speed ecdhx25519", od
  printf "%-52s %11.0f op/s %8.2f\n", "ours (openssl backend) X25519, vs openssl speed", d, d / od
  printf "%-52s %11.0f op/s %8.2f\n", "ours (ref backend) X25519, vs openssl backend", rd, rd / d
  if (b > 0 && rb > 0)
    printf "%-52s %11.0f MB/s %8.2f\n", "ours (ref backend) BLAKE2s 1420 B, vs openssl backend", rb / 1e6, rb / b
  print "\nopenssl speed -evp times EVP_EncryptUpdate on one endless message; a packet also pays"
  print "for its nonce, one-time Poly1305 key and tag, which the per-message loop line shows."
}'
