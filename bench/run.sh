#!/usr/bin/env bash
# The msvc benchmark in one command: installs wrk if missing, builds the
# project Release-like (RelWithDebInfo, no sanitizers) into build-bench
# unless --build-dir names an existing build, builds the hash timer
# bench/hash_time.c against that build's libmsvc, then runs bench/bench.py,
# which starts the servers on fresh loopback ports, seeds them, drives them
# with wrk and prints the tables.  Every option but --build-dir goes to
# bench.py (try --help); common ones:
#   --duration S   seconds per wrk run (default 5)
#   --quick        1 s runs, no warm-up, no 1M-post case
#   --only NAME    user|posts|login|memory|scale|split|sessions|tls|ops,
#                  and only when named: nginx, soak (--soak-seconds S)
#                  (repeatable)
#   --mongo        also run the issue-2 table on FerretDB
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

build=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
  --build-dir) build=${2:?--build-dir needs a directory}; shift 2 ;;
  --build-dir=*) build=${1#--build-dir=}; shift ;;
  *) args+=("$1"); shift ;;
  esac
done

for a in "${args[@]+"${args[@]}"}"; do
  if [ "$a" = "-h" ] || [ "$a" = "--help" ]; then
    exec python3 "$root/bench/bench.py" --build-dir . --help
  fi
done

{ command -v wrk && command -v h2load; } >/dev/null ||
  "$root/scripts/deps.sh" --bench

if [ -z "$build" ]; then
  build=$root/build-bench
  echo "bench: building $build (RelWithDebInfo)" >&2
  "$root/scripts/build.sh" "$build" -DMSVC_SANITIZE=OFF >/dev/null
else
  build=$(cd "$build" && pwd)
  cache=$build/CMakeCache.txt
  [ -f "$cache" ] || { echo "bench: $build is not a build dir" >&2; exit 2; }
  if grep -q '^MSVC_SANITIZE:BOOL=ON' "$cache" ||
    grep -q '^CMAKE_BUILD_TYPE:STRING=Debug' "$cache"; then
    echo "bench: warning: $build is a Debug or sanitizer build;" \
      "its figures mean little" >&2
  fi
fi

# The hash timer: one bcrypt cost-10 hash and check through libmsvc.
hash_time=$build/bench/hash_time
mkdir -p "$build/bench"
if ! cc -std=c11 -O2 -Wall -Wextra -I"$root/include" \
  "$root/bench/hash_time.c" -o "$hash_time" \
  -L"$build" -lmsvc -Wl,-rpath,"$build" 2>"$build/bench/hash_time.err"; then
  echo "bench: warning: bench/hash_time.c did not build" \
    "(see $build/bench/hash_time.err); no login target" >&2
  hash_time=""
fi

exec python3 "$root/bench/bench.py" --build-dir "$build" \
  ${hash_time:+--hash-time "$hash_time"} "${args[@]+"${args[@]}"}"
