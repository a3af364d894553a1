#!/usr/bin/env bash
# Pipes the sample registry's Prometheus text exposition through `promtool check metrics`, which
# parses it with Prometheus' own text parser and lints it (naming, _total, help, units). Also
# checks the content negotiation answer for the Accept header Prometheus sends.
# Usage: promtool_test.sh <path to metrics_sample>. Exits 77 (skipped) without promtool.
set -euo pipefail
sample=${1:?usage: promtool_test.sh <metrics_sample>}
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool not found (apt-get install prometheus; it is in cmake/debian-packages.txt)"
  exit 77
fi
promtool --version 2>&1 | head -1

echo "== promtool check metrics < Prometheus text 0.0.4"
out=$("$sample" text | promtool check metrics 2>&1) || {
  echo "promtool rejected our exposition:"; echo "$out"; "$sample" text; exit 1; }
[[ -z "$out" ]] || { echo "promtool reported problems:"; echo "$out"; exit 1; }
echo "ok: no problems"

echo "== negotiation for Prometheus' own Accept header"
accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
head=$("$sample" --accept "$accept" | head -1)
[[ "$head" == "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8" ]] || {
  echo "unexpected: $head"; exit 1; }
"$sample" openmetrics | tail -1 | grep -qx '# EOF' || { echo "no # EOF"; exit 1; }
echo "ok: $head"
echo "promtool accepted the exposition"
