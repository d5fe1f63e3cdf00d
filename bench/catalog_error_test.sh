#!/usr/bin/env bash
# suanli_bench on a catalog with a key this binary does not know: the load
# error (file:line:key) on stderr and exit 2, not an abort without a word.
# Usage: catalog_error_test.sh SUANLI_BENCH CATALOG_DIR
set -uo pipefail
bench=$1
catalog=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$catalog" "$dir/catalog"
chip=$(grep -rl '^id: h20$' "$dir/catalog/chips")
printf 'not_a_chip_key: 1\n' >>"$chip"
line=$(wc -l <"$chip")
SUANLI_BENCH_CATALOG="$dir/catalog" "$bench" --benchmark_filter=BM_ClassifyOne --benchmark_min_time=0.001 \
  >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 2 ]; then
  echo "catalog_error_test: exit $rc, expected 2; stderr:" >&2
  cat "$dir/err" >&2
  exit 1
fi
if ! grep -qF "$chip:$line" "$dir/err" || ! grep -qF "not_a_chip_key" "$dir/err"; then
  echo "catalog_error_test: stderr does not name $chip:$line and the key:" >&2
  cat "$dir/err" >&2
  exit 1
fi
echo "catalog_error_test: $(grep -A1 "does not load" "$dir/err" | tr "\n" " ")"
