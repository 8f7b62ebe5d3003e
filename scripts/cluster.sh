#!/usr/bin/env bash
# cluster.sh - a multi-instance msvc deployment on this machine: two
# msvc-auth and two msvc-post on loopback ports behind nginx on one public
# port, all on one MongoDB (or one SQLite file).
#
#   scripts/cluster.sh start [options]   start everything, print the URL
#   scripts/cluster.sh status [--dir D]  each process: pid, alive, /readyz
#   scripts/cluster.sh stop [--dir D]    SIGTERM everything (nginx first)
#
# Options of start:
#   --dir DIR         state directory: logs, pids, secret, configuration
#                     (default ./cluster, or $MSVC_CLUSTER_DIR)
#   --port PORT       the public port (default 8080); the instances listen
#                     on 127.0.0.1 PORT+1 (auth), PORT+2 (auth), PORT+3
#                     (post) and PORT+4 (post)
#   --listen ADDR     the public address (default 127.0.0.1)
#   --build-dir DIR   where msvc-auth and msvc-post are (default ./build)
#   --sqlite          one SQLite file DIR/msvc.db for all four instances
#                     (one host only) instead of MongoDB
#
# The database: $MONGODB_URL when set (a mongodb:// URL with the database
# in its path), else --sqlite, else a FerretDB started in DIR/ferretdb by
# tests/mongo/ferretdb.sh (its launcher is built with Go on first use, or
# taken from BUILD/ferretdb/bin/msvc-ferretdb where the tests built it);
# a later start in the same DIR keeps its data (rm -r DIR for a fresh one).
# The JWT secret is made once into DIR/jwt-secret (mode 0600) and given to
# the instances as JWT_SECRET_FILE.  Other settings of the servers
# (PASSWORD_COST, LOG_FORMAT, CACHE_TTL, ...) are taken from the
# environment as they are.  nginx's configuration is
# deploy/nginx/msvc.conf.template with its placeholders filled in,
# written to DIR/nginx/nginx.conf; nginx runs as the calling user.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
template=$root/deploy/nginx/msvc.conf.template

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit "${1:-2}"
}
die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
dir=${MSVC_CLUSTER_DIR:-./cluster}
port=8080
listen=127.0.0.1
build=$root/build
sqlite=0
while [ $# -gt 0 ]; do
  case "$1" in
  --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
  --port) port=${2:?--port needs a number}; shift 2 ;;
  --listen) listen=${2:?--listen needs an address}; shift 2 ;;
  --build-dir) build=${2:?--build-dir needs a directory}; shift 2 ;;
  --sqlite) sqlite=1; shift ;;
  -h | --help) usage 0 ;;
  *) echo "cluster.sh: unknown option $1" >&2; usage ;;
  esac
done
case "$port" in
'' | *[!0-9]*) die "--port must be a number" ;;
esac
[ "$port" -ge 1 ] && [ "$port" -le 65531 ] || die "--port must be 1..65531"

# name, binary, port offset of each instance
instances=(auth-1 auth-2 post-1 post-2)
offset() {
  case "$1" in
  auth-1) echo 1 ;; auth-2) echo 2 ;; post-1) echo 3 ;; post-2) echo 4 ;;
  esac
}

alive() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# GET a URL; prints the status code (000: no answer).
http_status() {
  curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" 2>/dev/null || true
}

wait_ready() {
  local name=$1 url=$2 pidfile=$3
  for _ in $(seq 300); do
    [ "$(http_status "$url/readyz")" = 200 ] && return 0
    alive "$pidfile" || die "$name exited at start; see its log in $dir/$name.log"
    sleep 0.1
  done
  die "$name not ready in 30 s; see $dir/$name.log"
}

# SIGTERM, SIGKILL after 15 s (the servers drain for at most 10 s).
stop_pid() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}

database_url() {
  if [ -n "${MONGODB_URL:-}" ]; then
    echo "$MONGODB_URL"
  elif [ "$sqlite" = 1 ]; then
    echo "sqlite:$dir/msvc.db"
  else
    local url server
    [ -n "${MSVC_FERRETDB:-}" ] ||
      [ ! -x "$build/ferretdb/bin/msvc-ferretdb" ] ||
      export MSVC_FERRETDB=$build/ferretdb/bin/msvc-ferretdb
    # A FerretDB of an earlier start comes back with its data.
    local how=start
    [ -s "$dir/ferretdb/url" ] && [ -d "$dir/ferretdb/data" ] && how=restart
    url=$("$root/tests/mongo/ferretdb.sh" "$how" "$dir/ferretdb") ||
      die "FerretDB did not start (set MONGODB_URL, or use --sqlite)"
    # The database "msvc" on that server.
    server=${url%%\?*}
    echo "${server%/}/msvc${url#"$server"}"
  fi
}

cmd_start() {
  command -v nginx >/dev/null || die "nginx is not installed (apt-get install nginx)"
  command -v curl >/dev/null || die "curl is not installed"
  for exe in msvc-auth msvc-post; do
    [ -x "$build/$exe" ] || die "no $build/$exe: build first (scripts/build.sh)"
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  build=$(cd "$build" && pwd)
  for name in "${instances[@]}" nginx; do
    alive "$dir/$name.pid" && die "already running ($name); stop it first: $0 stop --dir $dir"
  done
  # A start that fails half-way stops what it started.
  started=0
  trap '[ "$started" = 1 ] || { echo "cluster.sh: start failed, stopping what was started" >&2; cmd_stop; }' EXIT
  if [ ! -s "$dir/jwt-secret" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$dir/jwt-secret")
  fi
  local db
  db=$(database_url)
  printf '%s\n' "$db" >"$dir/database-url"

  local auth_urls="http://127.0.0.1:$((port + 1)),http://127.0.0.1:$((port + 2))"
  for name in "${instances[@]}"; do
    local p=$((port + $(offset "$name"))) exe=msvc-${name%-*} extra=()
    [ "$exe" = msvc-post ] && extra=(AUTH_MICRO_URL="$auth_urls")
    mkdir -p "$dir/data-$name"
    env -u JWT_SECRET -u DATABASE_URL -u AUTH_MICRO_URL \
      HOST=127.0.0.1 PORT="$p" DATABASE_URL="$db" \
      JWT_SECRET_FILE="$dir/jwt-secret" TRUSTED_PROXIES=127.0.0.1 \
      DATA_DIR="$dir/data-$name" "${extra[@]}" \
      setsid "$build/$exe" </dev/null >>"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
    echo "$p" >"$dir/$name.port"
    wait_ready "$name" "http://127.0.0.1:$p" "$dir/$name.pid"
  done

  mkdir -p "$dir/nginx/tmp"
  sed -e "s|@PREFIX@|$dir/nginx|g" -e "s|@LISTEN@|$listen:$port|g" \
    -e "s|@AUTH_1@|127.0.0.1:$((port + 1))|g" \
    -e "s|@AUTH_2@|127.0.0.1:$((port + 2))|g" \
    -e "s|@POST_1@|127.0.0.1:$((port + 3))|g" \
    -e "s|@POST_2@|127.0.0.1:$((port + 4))|g" "$template" >"$dir/nginx/nginx.conf"
  local g="daemon off; pid $dir/nginx.pid; error_log $dir/nginx/error.log;"
  nginx -t -q -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g "$g" 2>>"$dir/nginx.log" ||
    die "nginx refuses its configuration; see $dir/nginx.log"
  setsid nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g "$g" \
    </dev/null >>"$dir/nginx.log" 2>&1 &
  local url="http://$listen:$port"
  [ "$listen" = 0.0.0.0 ] && url="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    [ "$(http_status "$url/healthz")" = 200 ] && break
    sleep 0.1
  done
  [ "$(http_status "$url/healthz")" = 200 ] ||
    die "nginx does not answer on $url; see $dir/nginx.log and $dir/nginx/error.log"
  started=1
  echo "cluster.sh: 2 msvc-auth, 2 msvc-post and nginx running; state in $dir" >&2
  echo "$url"
}

cmd_status() {
  local rc=0 name pidfile p state
  for name in nginx "${instances[@]}"; do
    pidfile=$dir/$name.pid
    if ! alive "$pidfile"; then
      printf '%-7s stopped\n' "$name"
      rc=3
      continue
    fi
    if [ "$name" = nginx ]; then
      state="running"
    else
      p=$(cat "$dir/$name.port" 2>/dev/null || echo 0)
      state="running, port $p, /readyz $(http_status "http://127.0.0.1:$p/readyz")"
    fi
    printf '%-7s pid %s, %s\n' "$name" "$(cat "$pidfile")" "$state"
  done
  if alive "$dir/ferretdb/pid"; then
    printf '%-7s pid %s, %s\n' ferretdb "$(cat "$dir/ferretdb/pid")" "$(cat "$dir/ferretdb/url")"
  fi
  return $rc
}

cmd_stop() {
  local name
  stop_pid "$dir/nginx.pid"
  for name in post-2 post-1 auth-2 auth-1; do
    stop_pid "$dir/$name.pid"
  done
  if [ -f "$dir/ferretdb/pid" ]; then
    "$root/tests/mongo/ferretdb.sh" stop "$dir/ferretdb"
  fi
  echo "cluster.sh: stopped (state kept in $dir)" >&2
}

case "$cmd" in
start) cmd_start ;;
status) cmd_status ;;
stop) cmd_stop ;;
-h | --help) usage 0 ;;
*) echo "cluster.sh: unknown command $cmd" >&2; usage ;;
esac
