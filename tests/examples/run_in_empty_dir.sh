#!/usr/bin/env bash
# Runs one example program in a fresh empty directory; fails if it does.
# With --valgrind (the default build), under valgrind: any memory error or
# leak (reachable blocks included) fails it.  Without valgrind installed
# the program still runs, and the test reports itself skipped (77) unless
# CI=true, where it fails.
# Usage: run_in_empty_dir.sh [--valgrind] PROGRAM
set -euo pipefail
. "$(dirname "$0")/common.sh"
if [ "${1:-}" = "--valgrind" ]; then
  shift
  if need valgrind "running the example under valgrind"; then
    run_in_empty_dir --valgrind "$1"
    echo "$(basename "$1"): ran clean under valgrind"
    exit 0
  fi
  run_in_empty_dir "$1"
  exit 77
fi
run_in_empty_dir "$1"
