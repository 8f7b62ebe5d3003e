#!/usr/bin/env bash
# The one command to start msvc: installs what is missing, builds, and runs
# msvc-server on the embedded SQLite store under ./data/ on 127.0.0.1:3000.
# Arguments are passed to msvc-server (try --help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
exec "$root/build/msvc-server" "$@"
