#!/usr/bin/env bash
# Installs the Debian 12 packages msvc needs to build, test and benchmark,
# unless they are already there.  Uses sudo when not run as root.
#   --bench  also wrk
#   --test   also valgrind (the examples run under it) and a Go toolchain
#            (>= 1.24, for the FerretDB test server):
#            when none is on PATH or in /usr/local/go, the official one is
#            fetched from the Go module proxy into ~/.cache/msvc/go, where
#            the build's tests look for it (Debian 12's golang is too old)
set -euo pipefail

go_min_minor=24
go_version=1.24.2
go_root=$HOME/.cache/msvc/go

# 0 when $1 is a Go toolchain of version 1.$go_min_minor or newer.
go_recent() {
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go1.}
  [ "${v%%.*}" -ge "$go_min_minor" ] 2>/dev/null
}

ensure_go() {
  local g
  for g in "$(command -v go || true)" /usr/local/go/bin/go "$go_root/bin/go"; do
    [ -n "$g" ] && [ -x "$g" ] && go_recent "$g" && return 0
  done
  local url="https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$go_version.linux-amd64.zip"
  local tmp
  tmp=$(mktemp -d)
  echo "msvc: fetching Go $go_version from the Go module proxy into $go_root" >&2
  curl -fsSL "$url" -o "$tmp/go.zip"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$tmp/go.zip" "$tmp"
  rm -rf "$go_root"
  mkdir -p "$(dirname "$go_root")"
  mv "$tmp/golang.org/toolchain@v0.0.1-go$go_version.linux-amd64" "$go_root"
  chmod +x "$go_root"/bin/* "$go_root"/pkg/tool/*/* 2>/dev/null || true
  rm -rf "$tmp"
}

packages=(
  build-essential cmake pkg-config python3 curl
  libh2o-evloop-dev libjwt-dev libjson-c-dev libcrypt-dev libsqlite3-dev
  libmongoc-dev libbson-dev libssl-dev zlib1g-dev libcurl4-openssl-dev
)
want_go=0
for arg in "$@"; do
  case "$arg" in
  --bench) packages+=(wrk) ;;
  --test) packages+=(valgrind) want_go=1 ;;
  *) echo "deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "msvc: installing Debian packages: ${missing[*]}" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "$want_go" -eq 0 ] || ensure_go
