#!/usr/bin/env bash
# Fails if any C++ source under libs/ tools/ test/ bench/ differs from what clang-format-14 makes of
# it (style: .clang-format at the root). Fix with: clang-format-14 -i <files listed>
set -euo pipefail
root=${1:?usage: check_format.sh <source root>}
cd "$root"
clang_format=$(command -v clang-format-14 || command -v clang-format || true)
[[ -n "$clang_format" ]] || { echo "check_format: clang-format-14 not found" >&2; exit 2; }
mapfile -t files < <(find libs tools test bench \( -name '*.h' -o -name '*.cc' \) \
  -not -path '*/testdata/*' -not -path '*/corpus/*' | sort)
bad=()
for f in "${files[@]}"; do
  "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -gt 0 ]]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} files are not clang-formatted:"
  printf '  %s\n' "${bad[@]}"
  echo "fix with: $clang_format -i ${bad[*]}"
  exit 1
fi
echo "check_format: ${#files[@]} files are clang-formatted"
