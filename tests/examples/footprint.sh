#!/usr/bin/env bash
# What an SQLite-only program pays for libmsvc, against one that links the
# optional modules too.  Builds the quickstart from the installed library
# twice: with `pkg-config --libs libmsvc` (core only) and with libmsvc +
# libmsvc-mongo + libmsvc-http (linked with --no-as-needed, as a program
# using all three would be).  Asserts that the core-only program loads no
# mongoc, bson, ICU, SASL, curl or json-c.  Prints, without asserting, each
# program's `ldd | wc -l` and the median wall time of 10 runs, each in a
# fresh directory (the whole quickstart: open, register, login, two posts,
# a listing, close), and of 20 runs of a program linked the same way that
# only calls msvc_version_string() (the start-up cost: loading and
# relocating the libraries).
# Usage: footprint.sh PREFIX EXAMPLES_DIR
set -euo pipefail
. "$(dirname "$0")/common.sh"
use_prefix "$1"
src=$2/quickstart.c
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cflags=()
[ -n "${MSVC_EXAMPLE_CFLAGS:-}" ] && read -r -a cflags <<<"$MSVC_EXAMPLE_CFLAGS"
read -r -a core_flags <<<"$(pkg-config --cflags --libs libmsvc)"
gcc -std=c11 "${cflags[@]}" "$src" "${core_flags[@]}" -o "$out/quickstart-core"

modules=()
for m in libmsvc-mongo libmsvc-http; do
  pkg-config --exists "$m" && modules+=("$m")
done
read -r -a full_flags <<<"$(pkg-config --cflags --libs libmsvc "${modules[@]}")"
gcc -std=c11 "${cflags[@]}" "$src" -Wl,--no-as-needed "${full_flags[@]}" \
  -o "$out/quickstart-full"

printf '#include <msvc.h>\nint main(void) { return msvc_version_string()[0] == 0; }\n' \
  >"$out/startup.c"
gcc -std=c11 "${cflags[@]}" "$out/startup.c" "${core_flags[@]}" -o "$out/startup-core"
gcc -std=c11 "${cflags[@]}" "$out/startup.c" -Wl,--no-as-needed "${full_flags[@]}" \
  -o "$out/startup-full"

ldd "$out/quickstart-core" >"$out/core.ldd"
ldd "$out/quickstart-full" >"$out/full.ldd"
if grep -q 'not found' "$out/core.ldd" "$out/full.ldd"; then
  grep 'not found' "$out/core.ldd" "$out/full.ldd" >&2
  echo "FAIL: unresolved libraries" >&2
  exit 1
fi
if grep -E 'mongoc|bson|icu|sasl|curl|json-c' "$out/core.ldd" >&2; then
  echo "FAIL: the core-only quickstart loads the libraries above (optional modules' dependencies)" >&2
  exit 1
fi

# Milliseconds of wall time for one run of $1 in a fresh empty directory.
time_run() {
  local dir t0 t1
  dir=$(mktemp -d)
  t0=$EPOCHREALTIME
  (cd "$dir" && "$1" >/dev/null)
  t1=$EPOCHREALTIME
  rm -rf "$dir"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
}
# report TITLE PROGRAM LDD_FILE RUNS
report() {
  local name=$1 prog=$2 times=() i
  run_in_empty_dir "$prog" >/dev/null # warm the page cache
  for i in $(seq "$4"); do times+=("$(time_run "$prog")"); done
  printf '%-46s %3d ldd lines, median %6.1f ms of %d runs (min %s, max %s)\n' \
    "$name" "$(wc -l <"$out/$3")" "$(median "${times[@]}")" "$4" \
    "$(printf '%s\n' "${times[@]}" | sort -n | head -n1)" \
    "$(printf '%s\n' "${times[@]}" | sort -n | tail -n1)"
}
full="+ ${modules[*]:-no modules}"
report "quickstart, libmsvc only:" "$out/quickstart-core" core.ldd 10
report "quickstart, $full:" "$out/quickstart-full" full.ldd 10
report "start-up only, libmsvc only:" "$out/startup-core" core.ldd 20
report "start-up only, $full:" "$out/startup-full" full.ldd 20
echo "core-only quickstart loads no mongoc/bson/ICU/SASL/curl/json-c: ok"
