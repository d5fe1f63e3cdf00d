#!/usr/bin/env bash
# Installs the build into a scratch prefix, then checks that the installed
# binary finds the installed catalog (not the source tree's) and that a
# program built against the installed CMake package runs.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
file=$(cd / && "$prefix/bin/suanli" catalog show h20 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
case "$file" in
  "$prefix"/share/suanli/catalog/*) ;;
  *) echo "install_test: the installed binary read $file, not the installed catalog" >&2; exit 1 ;;
esac
# Quiet unless a step fails: then its whole output.
quiet() { local log; log=$("$@" 2>&1) || { echo "install_test: failed: $*" >&2; echo "$log" >&2; exit 1; }; }
quiet cmake -S "$(dirname "$0")/consumer" -B "$prefix/consumer-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
quiet cmake --build "$prefix/consumer-build"
out=$(cd / && "$prefix/consumer-build/consumer")
case "$out" in
  "$prefix"/share/suanli/catalog*) echo "install_test: $out" ;;
  *) echo "install_test: the consumer found '$out'" >&2; exit 1 ;;
esac
# The Python module, when built: importable from the installed prefix, and
# finding the installed catalog.
# Found by Debian's python3 with no PYTHONPATH: the directory it went to,
# under /usr/local (the default prefix) or /usr, is on that python3's path;
# and a python3 of this prefix (its site directories, as Debian's site.py
# makes them) imports it and finds the catalog.
if [ -d "$build/python/suanli" ]; then
  module=$(cd "$prefix" && find . -path '*dist-packages/suanli/__init__.py' | head -n 1)
  [ -n "$module" ] || { echo "install_test: no suanli package installed under $prefix" >&2; exit 1; }
  rel=${module#./}
  rel=${rel%/suanli/__init__.py}
  (cd / && env -u PYTHONPATH /usr/bin/python3 -c '
import site, sys
rel = sys.argv[1]
on_path = [p for p in ("/usr/local/" + rel, "/usr/" + rel) if p in sys.path or p in site.getsitepackages()]
if "/usr/local/" + rel not in on_path:
    sys.exit(f"install_test: {rel} under /usr/local is not on Debian python3 path {sys.path}")
print("install_test: python: /usr/local/" + rel, "is on Debian python3 path")' "$rel")
  dir=$(cd / && env -u SUANLI_CATALOG -u PYTHONPATH /usr/bin/python3 -S -c '
import site, sys
for d in site.getsitepackages([sys.argv[1]]):
    site.addsitedir(d)
import suanli
print(suanli.Catalog.load().dir)' "$prefix")
  case "$dir" in
    "$prefix"/share/suanli/catalog*) echo "install_test: python: $dir" ;;
    *) echo "install_test: the installed Python module found '$dir'" >&2; exit 1 ;;
  esac
fi
# The web app, when built: installed beside the catalog, where the installed binary looks.
if [ -f "$build/web-app/index.html" ]; then
  [ -f "$prefix/share/suanli/web/index.html" ] && [ -f "$prefix/share/suanli/web/app.js" ] ||
    { echo "install_test: the web app was not installed in $prefix/share/suanli/web" >&2; exit 1; }
fi
