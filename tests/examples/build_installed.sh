#!/usr/bin/env bash
# Compiles every example against the *installed* library in strict C11
# (gcc -std=c11 -pedantic -Wall -Wextra -Werror) with nothing but
# `pkg-config --cflags --libs libmsvc`, then runs each in an empty directory
# under valgrind: zero errors, zero leaks (reachable blocks included).
#
# In the sanitizer build (MSVC_EXAMPLE_CFLAGS=-fsanitize=..., set by
# tests.cmake) the installed library is instrumented, so the examples are
# too, and ASan/LSan/UBSan take valgrind's place (MSVC_NO_VALGRIND=1).
# Usage: build_installed.sh PREFIX EXAMPLES_DIR
set -euo pipefail
. "$(dirname "$0")/common.sh"
use_prefix "$1"
examples=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cflags=()
[ -n "${MSVC_EXAMPLE_CFLAGS:-}" ] && read -r -a cflags <<<"$MSVC_EXAMPLE_CFLAGS"
read -r -a pc <<<"$(pkg-config --cflags --libs libmsvc)"
run=(--valgrind)
skipped=0
if [ -n "${MSVC_NO_VALGRIND:-}" ]; then
  run=()
elif ! need valgrind "running the installed examples under valgrind"; then
  run=()
  skipped=1
fi

for src in "$examples"/*.c; do
  name=$(basename "$src" .c)
  gcc -std=c11 -pedantic -Wall -Wextra -Werror "${cflags[@]}" \
    "$src" "${pc[@]}" -o "$out/$name"
  echo "example $name: compiled strictly with pkg-config --cflags --libs libmsvc"
  run_in_empty_dir "${run[@]}" "$out/$name" >"$out/$name.log" 2>&1 || {
    cat "$out/$name.log" >&2
    echo "FAIL: example $name${run:+ under valgrind}" >&2
    exit 1
  }
  echo "example $name: ran in an empty directory${run:+ under valgrind, clean}"
done
[ "$skipped" -eq 0 ] || exit 77
