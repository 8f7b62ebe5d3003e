#!/usr/bin/env bash
# Installs the build into a temporary prefix, compiles every example with
# only `pkg-config --cflags --libs libmsvc`, and runs each in an empty
# directory.  Usage: build_installed.sh BUILD_DIR EXAMPLES_DIR
set -euo pipefail
build=$1 examples=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name libmsvc.pc -printf '%h\n' | head -n1)
export PKG_CONFIG_PATH="$libdir"
export LD_LIBRARY_PATH="$(dirname "$libdir")"
flags=$(pkg-config --cflags --libs libmsvc)
cflags=()
[ -n "${MSVC_EXAMPLE_CFLAGS:-}" ] && read -r -a cflags <<<"$MSVC_EXAMPLE_CFLAGS"
for src in "$examples"/*.c; do
  name=$(basename "$src" .c)
  cc -Wall -Wextra -Werror "${cflags[@]}" "$src" $flags -o "$prefix/$name"
  mkdir "$prefix/run-$name"
  (cd "$prefix/run-$name" && "$prefix/$name")
  echo "example $name: built with pkg-config and ran"
done
