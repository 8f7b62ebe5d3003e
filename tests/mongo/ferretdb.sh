#!/usr/bin/env bash
# ferretdb.sh - a throwaway FerretDB (MongoDB's wire protocol over SQLite)
# for msvc's tests, on loopback.
#
#   ferretdb.sh build [DIR]         build the launcher if missing or stale
#   ferretdb.sh start DIR [ADDR]    start with a fresh data dir DIR/data on
#                                   ADDR (default 127.0.0.1:0: a free port);
#                                   prints the mongodb:// URL, also in DIR/url
#   ferretdb.sh start-tls DIR [ADDR]  the same, TLS only, with a fresh
#                                   self-signed certificate for 127.0.0.1 in
#                                   DIR/tls; the URL carries tls=true and
#                                   tlsCAFile
#   ferretdb.sh restart DIR         start again on DIR/url's address, keeping
#                                   the data (after stop or kill)
#   ferretdb.sh stop DIR            SIGTERM, SIGKILL after 10 s
#   ferretdb.sh kill DIR            SIGKILL (a crash); the data stays
#   ferretdb.sh pause|resume DIR    SIGSTOP/SIGCONT: a hung server whose port
#                                   still takes connections
#   ferretdb.sh run DIR NAME CMD... run CMD with every "@URL@" in its
#                                   arguments replaced by DIR/url plus a
#                                   fresh database name starting with NAME
#
# The launcher is tests/ferretdb (a Go module using FerretDB's embeddable
# package), built once per version of its sources (main.go, go.mod,
# go.sum) into ~/.cache/msvc/ferretdb/<hash>/ ($MSVC_FERRETDB_CACHE) and
# linked from $MSVC_FERRETDB (default tests/ferretdb/bin/msvc-ferretdb):
# another build directory, the sanitizer build or a fresh clone reuses it.
# Go's own caches persist where Go keeps them (GOCACHE ~/.cache/go-build,
# GOMODCACHE ~/go/pkg/mod), so even a new version builds in seconds; only
# the very first build is slow.  Where it cannot be had (no Go toolchain, modules
# not downloadable), start writes the reason to DIR/skip, says so loudly
# and exits 77, and `run` exits 77 the same way: ctest shows the tests as
# skipped.  With CI=true a skip is a failure (exit 1) instead.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
module=$(cd "$here/../ferretdb" && pwd)
bin=${MSVC_FERRETDB:-$module/bin/msvc-ferretdb}
cache_root=${MSVC_FERRETDB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/msvc/ferretdb}
go=${GO:-go}

die() {
  echo "ferretdb.sh: $*" >&2
  exit 1
}

# Says loudly that the MongoDB tests cannot run, and exits: 77 (a skip),
# or 1 in CI, where they must run.
skip_exit() {
  if [ "${CI:-}" = "true" ]; then
    echo "ferretdb.sh: FAILED: $1 (CI=true: the MongoDB tests must run here)" >&2
    exit 1
  fi
  echo "ferretdb.sh: SKIPPED: the MongoDB tests do not run: $1" >&2
  exit 77
}

# Records why in DIR/skip (for `run`), then skip_exit.
skip() {
  if [ -n "$1" ]; then
    mkdir -p "$1"
    printf '%s\n' "$2" >"$1/skip"
  fi
  skip_exit "$2"
}

# The version of the launcher's sources: what a built one is kept under.
sources_key() {
  cat "$module/main.go" "$module/go.mod" "$module/go.sum" | sha256sum | cut -c1-16
}

is_fresh() {
  [ -x "$bin" ] && [ "$(cat "$bin.key" 2>/dev/null)" = "$(sources_key)" ]
}

# Links the launcher of these sources to $bin, building it into the cache
# first unless it is there; on trouble that is not ours, skips (see above).
build() {
  local dir=$1 key cached
  is_fresh && return 0
  key=$(sources_key)
  cached=$cache_root/$key/msvc-ferretdb
  if [ -x "$cached" ]; then
    echo "ferretdb.sh: reusing the FerretDB launcher $cached" >&2
  else
    command -v "$go" >/dev/null 2>&1 ||
      skip "$dir" "no Go toolchain ('$go' not on PATH) to build FerretDB"
    echo "ferretdb.sh: building the FerretDB launcher into $cached (the first build takes minutes)" >&2
    (cd "$module" && "$go" mod download) >&2 ||
      skip "$dir" "'go mod download' failed in $module (no network or module proxy?)"
    mkdir -p "$(dirname "$cached")"
    (cd "$module" && "$go" build -buildvcs=false -o "$cached.tmp.$$" .) >&2 ||
      die "go build failed in $module"
    mv -f "$cached.tmp.$$" "$cached"
  fi
  mkdir -p "$(dirname "$bin")"
  ln -sfn "$cached" "$bin.tmp.$$"
  mv -fT "$bin.tmp.$$" "$bin"
  echo "$key" >"$bin.key"
}

alive() {
  [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null
}

# Sends a signal and waits (at most ~10 s) for the process to go.
signal_and_wait() {
  local dir=$1 sig=$2 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "-$sig" "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # a paused one must run to exit
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$dir/pid"
}

# host:port of a mongodb:// URL.
url_addr() {
  local addr=${1#mongodb://}
  echo "${addr%%[/?]*}"
}

# Starts the launcher on addr (with TLS when DIR/tls holds a certificate)
# and waits until its URL is out and the port takes a connection.
launch() {
  local dir=$1 addr=$2 url tls=()
  alive "$dir" && signal_and_wait "$dir" TERM
  rm -f "$dir/url" "$dir/skip"
  [ -f "$dir/tls/cert.pem" ] &&
    tls=(-tls-cert "$dir/tls/cert.pem" -tls-key "$dir/tls/key.pem")
  setsid "$bin" -dir "$dir/data" -listen "$addr" -url-file "$dir/url.tmp" \
    "${tls[@]}" </dev/null >>"$dir/ferretdb.log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 300); do
    [ -s "$dir/url.tmp" ] && break
    alive "$dir" || die "FerretDB exited at start; see $dir/ferretdb.log"
    sleep 0.1
  done
  [ -s "$dir/url.tmp" ] || die "FerretDB did not come up in 30 s; see $dir/ferretdb.log"
  url=$(cat "$dir/url.tmp")
  rm -f "$dir/url.tmp"
  [ ${#tls[@]} -gt 0 ] && url="$url&tlsCAFile=$dir/tls/cert.pem"
  addr=$(url_addr "$url")
  (exec 3<>"/dev/tcp/127.0.0.1/${addr##*:}") 2>/dev/null ||
    die "FerretDB does not accept connections on $addr"
  echo "$url" >"$dir/url"
  echo "$url"
}

# A self-signed certificate for 127.0.0.1 and localhost, its own CA.
make_cert() {
  local dir=$1
  command -v openssl >/dev/null 2>&1 ||
    skip_exit "no openssl command to make a test certificate"
  mkdir -p "$dir/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" 2>/dev/null ||
    die "openssl could not make a certificate"
}

cmd_start() {
  local dir=${1:?usage: ferretdb.sh start DIR [ADDR]} addr=${2:-127.0.0.1:0}
  local tls=${3:-}
  mkdir -p "$dir"
  build "$dir"
  alive "$dir" && signal_and_wait "$dir" TERM
  rm -rf "$dir/data" "$dir/tls"
  [ -n "$tls" ] && make_cert "$dir"
  launch "$dir" "$addr"
}

cmd_restart() {
  local dir=${1:?usage: ferretdb.sh restart DIR}
  [ -s "$dir/url" ] || die "no $dir/url: start it first"
  launch "$dir" "$(url_addr "$(cat "$dir/url")")"
}

cmd_run() {
  local dir=${1:?usage: ferretdb.sh run DIR NAME CMD...} name=${2:?} url db
  shift 2
  [ -f "$dir/skip" ] && skip_exit "$(cat "$dir/skip")"
  [ -s "$dir/url" ] || die "no FerretDB running for $dir (fixture not started?)"
  url=$(cat "$dir/url")
  db="${name}_$(date +%s)_$$"
  local server=${url%%\?*} args=() a
  url="${server%/}/$db${url#"$server"}"
  for a in "$@"; do
    args+=("${a//@URL@/"$url"}")
  done
  exec "${args[@]}"
}

case "${1:-}" in
build) build "${2:-}" ;;
start) shift && cmd_start "${1:-}" "${2:-}" ;;
start-tls) shift && cmd_start "${1:-}" "${2:-}" tls ;;
restart) shift && cmd_restart "$@" ;;
stop) signal_and_wait "${2:?usage: ferretdb.sh stop DIR}" TERM ;;
kill) signal_and_wait "${2:?usage: ferretdb.sh kill DIR}" KILL ;;
pause) kill -STOP "$(cat "${2:?usage: ferretdb.sh pause DIR}/pid")" ;;
resume) kill -CONT "$(cat "${2:?usage: ferretdb.sh resume DIR}/pid")" ;;
run) shift && cmd_run "$@" ;;
*) die "usage: ferretdb.sh build|start|start-tls|restart|stop|kill|pause|resume|run ..." ;;
esac
