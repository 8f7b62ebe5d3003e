# Helpers the example and package tests source (bash, set -euo pipefail).
# Not a test itself.

# use_prefix PREFIX: compile and run against the copy of libmsvc installed
# under PREFIX (by install_prefix.sh), through its .pc files only.
use_prefix() {
  prefix=$(cd "$1" && pwd)
  pcdir=$(find "$prefix" -name libmsvc.pc -printf '%h\n' | head -n1)
  if [ -z "$pcdir" ]; then
    echo "no libmsvc.pc under $prefix: is the library installed there?" >&2
    exit 1
  fi
  libdir=$(dirname "$pcdir")
  export PKG_CONFIG_PATH="$pcdir"
  export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# need TOOL WHY: returns 0 when TOOL is on PATH.  Otherwise, under CI=true
# the test fails (CI skips nothing); elsewhere it says what is skipped and
# returns 1, and the caller exits 77 (ctest's SKIP_RETURN_CODE) at the end.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1 is missing and CI=true ($2 may not be skipped); scripts/deps.sh --test installs it" >&2
    exit 1
  fi
  echo "SKIP: $1 is missing: $2 (scripts/deps.sh --test installs it)" >&2
  return 1
}

# Valgrind as the examples run under it: any error or any leak, even memory
# still reachable at exit, fails the run.
valgrind_cmd=(valgrind -q --error-exitcode=1 --leak-check=full
  --show-leak-kinds=all --errors-for-leak-kinds=all --track-origins=yes)

# run_in_empty_dir [--valgrind] PROGRAM: runs PROGRAM in a fresh empty
# directory (the examples create their database in the current one).
run_in_empty_dir() {
  local vg=()
  if [ "$1" = "--valgrind" ]; then
    vg=("${valgrind_cmd[@]}")
    shift
  fi
  local dir prog rc=0
  prog=$(readlink -f "$1") # it runs from another directory
  dir=$(mktemp -d)
  (cd "$dir" && "${vg[@]}" "$prog") || rc=$?
  rm -rf "$dir"
  return "$rc"
}

# median N...: the median of the numbers given.
median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
