#!/usr/bin/env bash
# Runs one example program in a fresh empty directory; fails if it does.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$1"
