#!/usr/bin/env bash
# The one command to run every test: installs what is missing, builds, runs
# the whole ctest suite (unit, store conformance on SQLite and MongoDB via
# FerretDB, HTTP black-box suites, examples), then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the suite again,
# less the cases labelled "variant" (another resolver strategy repeating
# checks that ran on the same code) and "mutate" (the HTTP suite's
# self-check, which tests the tests, not the build).
#   --quick   skip the sanitizer pass
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1

"$root/scripts/deps.sh" --test
jobs=$(nproc)

echo "== build and test: $root/build" >&2
"$root/scripts/build.sh" "$root/build"
(cd "$root/build" && ctest --output-on-failure -j"$jobs")

if [ "$quick" -eq 0 ]; then
  echo "== build and test with ASan + UBSan: $root/build-sanitize" >&2
  "$root/scripts/build.sh" "$root/build-sanitize" -DMSVC_SANITIZE=ON
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  (cd "$root/build-sanitize" &&
    ctest --output-on-failure -j"$jobs" -LE '^(variant|mutate)$')
fi

# Fuzzing (tests/fuzz): every libFuzzer harness for 20 s, two at a time.
MSVC_FUZZ_JOBS=2 "$root/scripts/fuzz.sh" 20
