#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang into build-fuzz
# (MSVC_FUZZ=ON, only the target `fuzz`) and runs each one for SECONDS
# (default 30) from a scratch copy of its committed corpus
# (tests/fuzz/corpus/<name>/, never grown by a run), with its dictionary
# when there is one.  Prints each harness's exec/s and coverage (cov: and
# ft: of libFuzzer's last line, -print_final_stats=1) and exits non-zero
# when a harness crashed, keeping the input that did it in
# build-fuzz/crashes/<name>/ (replay it with build-fuzz/tests/fuzz_<name>
# FILE; commit it to tests/fuzz/regressions/<name>/ once fixed).
#   scripts/fuzz.sh [SECONDS] [NAME...]   NAME: only these harnesses
# Environment: MSVC_FUZZ_BUILD (build directory), MSVC_FUZZ_JOBS (harnesses
# run at once, default 1), CC (default clang).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
build=${MSVC_FUZZ_BUILD:-$root/build-fuzz}
jobs=${MSVC_FUZZ_JOBS:-1}
case "$seconds" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a number" >&2; exit 2 ;; esac

command -v "${CC:-clang}" >/dev/null || {
  echo "fuzz.sh: ${CC:-clang} not found (scripts/deps.sh --test installs clang)" >&2
  exit 1
}
echo "== build the fuzzers: $build" >&2
CC=${CC:-clang} cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMSVC_FUZZ=ON -DMSVC_BUILD_SERVERS=OFF -DMSVC_BUILD_EXAMPLES=OFF \
  -DMSVC_WITH_MONGO=OFF >/dev/null
cmake --build "$build" --target fuzz -j"$(nproc)" >/dev/null

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$root"/tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c)
    n=${n#fuzz_}
    [ "$n" = util ] || names+=("$n")
  done
fi

work="$build/fuzz-run"
rm -rf "$work"
mkdir -p "$work" "$build/crashes"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs harness $1; its log is $work/$1.log, its verdict $work/$1.rc.
run_one() {
  local name=$1 bin="$build/tests/fuzz_$1" dict=() rc=0
  mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
  cp -r "$root/tests/fuzz/corpus/$name/." "$work/$name/corpus/" 2>/dev/null || true
  [ -f "$root/tests/fuzz/$name.dict" ] && dict=(-dict="$root/tests/fuzz/$name.dict")
  "$bin" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$work/$name/artifacts/" \
    "$work/$name/corpus" >"$work/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$name.rc"
}

running=0
for name in "${names[@]}"; do
  [ -x "$build/tests/fuzz_$name" ] || { echo "fuzz.sh: no harness $name" >&2; exit 2; }
  echo "== fuzz $name for ${seconds}s" >&2
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
npassed=0
nfailed=0
printf '%-16s %10s %8s %8s %9s  %s\n' harness execs exec/s cov ft verdict
for name in "${names[@]}"; do
  log="$work/$name.log"
  rc=$(cat "$work/$name.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -n 1 || true)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  verdict=ok
  if [ "$rc" != 0 ] || grep -q -E '^==[0-9]+==ERROR|^SUMMARY: ' "$log"; then
    verdict="CRASH (log: $log)"
    failed=1
    nfailed=$((nfailed + 1))
    mkdir -p "$build/crashes/$name"
    cp "$work/$name/artifacts/"* "$build/crashes/$name/" 2>/dev/null || true
  fi
  [ "$verdict" != ok ] || npassed=$((npassed + 1))
  printf '%-16s %10s %8s %8s %9s  %s\n' "$name" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$verdict"
done
echo "fuzz: $npassed passed, $nfailed failed"
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: a harness crashed; inputs kept in $build/crashes/" >&2
  for name in "${names[@]}"; do
    grep -h -A30 -E '^==[0-9]+==ERROR|invariant broken|runtime error' \
      "$work/$name.log" 2>/dev/null | head -n 40 || true
  done
  exit 1
fi
echo "fuzz.sh: ${#names[@]} harnesses, ${seconds}s each, no crash" >&2
