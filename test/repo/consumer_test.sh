#!/usr/bin/env bash
# Installs the build into a temporary prefix, then configures, builds and runs test/repo/consumer
# against it with find_package(meshvpn 0.1 REQUIRED COMPONENTS wg).
set -euo pipefail
build=${1:?usage: consumer_test.sh <build dir> <consumer source dir>}
src=${2:?}
work=$(mktemp -d /tmp/meshvpn-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
