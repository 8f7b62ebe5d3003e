#!/usr/bin/env bash
# Installs the Debian 12 packages msvc needs to build, test and benchmark,
# unless they are already there.  Uses sudo when not run as root.
#   --bench  also wrk, and h2load (nghttp2-client) for the HTTP/2 rows
#   --test   also valgrind (the examples run under it) and a Go toolchain
#            of at least the version tests/ferretdb/go.mod asks for (1.24),
#            to build the FerretDB test server (Debian 12's golang-go is
#            1.19); see ensure_go below; and a Python venv with
#            schemathesis for tests/openapi (see ensure_test_venv); and
#            clang with its runtimes for the fuzzers (scripts/fuzz.sh)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
go_min_minor=24
go_min_minor_switch=21 # the first Go that fetches toolchains (GOTOOLCHAIN)
# The toolchain fetched when none is recent enough: go.mod's toolchain line.
go_toolchain=$(sed -n 's/^toolchain \(go[0-9.]*\)$/\1/p' "$root/tests/ferretdb/go.mod")
go_toolchain=${go_toolchain:-go1.24.2}
# Where a fetched toolchain is linked for the tests (tests/mongo/tests.cmake
# looks here first); an older deps.sh unpacked one here, which still works.
go_root=$HOME/.cache/msvc/go

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

# The minor version of the Go toolchain $1 (24 for go1.24.2), or nothing.
go_minor() {
  local v
  v=$(GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null) || return 0
  v=${v#go1.}
  v=${v%%[!0-9]*}
  echo "$v"
}

# Every Go toolchain on the machine: PATH, the official tarball's place,
# the last fetched one, Debian's versioned packages (newest first).
go_candidates() {
  command -v go || true
  echo /usr/local/go/bin/go "$go_root/bin/go"
  ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sort -t. -k2,2nr || true
}

# A Go >= 1.$go_min_minor_switch fetches $go_toolchain through the Go
# module mechanism (Go's toolchain module from GOPROXY, checked
# against GOSUMDB: Go's own settings, no address of ours), into the module
# cache; $go_root becomes a link to it.
fetch_toolchain() {
  local goroot
  echo "msvc: $1 fetches Go ${go_toolchain#go} (GOTOOLCHAIN=$go_toolchain) for the FerretDB tests" >&2
  goroot=$(cd / && GOTOOLCHAIN=$go_toolchain "$1" env GOROOT) || return 1
  [ -x "$goroot/bin/go" ] || return 1
  mkdir -p "$(dirname "$go_root")"
  rm -rf "$go_root"
  ln -s "$goroot" "$go_root"
  echo "msvc: Go ${go_toolchain#go} is in $goroot, linked from $go_root" >&2
}

# Debian 12 has Go 1.21 to 1.23 in bookworm-backports only: enables that
# suite from the mirror bookworm already comes from (apt's own
# configuration names it), when it is not there yet.  Backports are pinned
# low by Debian: only what is asked for by name comes from there.
enable_backports() {
  local site
  # shellcheck disable=SC1091
  [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ] || return 1
  site=$(apt-get indextargets --format '$(SITE)' 'Release: bookworm' \
    'Created-By: Packages' 2>/dev/null | head -n 1)
  [ -n "$site" ] || return 1
  echo "msvc: enabling Debian's bookworm-backports suite (from $site, as bookworm) for a newer Go" >&2
  printf '%s\n' "Types: deb" "URIs: $site" "Suites: bookworm-backports" \
    "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
    "${sudo[@]}" tee /etc/apt/sources.list.d/msvc-backports.sources >/dev/null
  "${sudo[@]}" apt-get update -qq
}

# The newest golang-1.NN-go (NN >= $go_min_minor_switch) apt can install.
debian_go_package() {
  local n
  for n in 29 28 27 26 25 24 23 22 21; do
    [ "$n" -ge "$go_min_minor_switch" ] || continue
    if apt-cache policy "golang-1.$n-go" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      echo "golang-1.$n-go"
      return 0
    fi
  done
  return 1
}

# A Go >= 1.$go_min_minor where the tests find it (on PATH,
# /usr/local/go or $go_root).  In order: one already there; one fetched by
# a Go >= 1.$go_min_minor_switch that is there; one fetched by Debian's
# golang-1.2x-go, installed (from bookworm-backports on Debian 12, enabled
# when needed); else a clear failure.
ensure_go() {
  local g m pkg="" switcher=""
  while read -r g; do
    [ -n "$g" ] && [ -x "$g" ] || continue
    m=$(go_minor "$g")
    [ -n "$m" ] || continue
    if [ "$m" -ge "$go_min_minor" ]; then
      case "$g" in
      "$(command -v go || true)" | /usr/local/go/bin/go | "$go_root"/bin/go) return 0 ;;
      esac
      # Recent but where the tests do not look (/usr/lib/go-1.NN).
      mkdir -p "$(dirname "$go_root")"
      rm -rf "$go_root"
      ln -s "$(dirname "$(dirname "$g")")" "$go_root"
      return 0
    fi
    [ -n "$switcher" ] || [ "$m" -lt "$go_min_minor_switch" ] || switcher=$g
  done < <(go_candidates)
  if [ -z "$switcher" ] && command -v apt-get >/dev/null; then
    pkg=$(debian_go_package) || { enable_backports && pkg=$(debian_go_package); } || true
    if [ -n "$pkg" ]; then
      echo "msvc: installing Debian's $pkg, to fetch Go ${go_toolchain#go} with" >&2
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "$pkg" >/dev/null
      switcher=/usr/lib/go-${pkg#golang-}
      switcher=${switcher%-go}/bin/go
    fi
  fi
  if [ -n "$switcher" ] && fetch_toolchain "$switcher"; then
    return 0
  fi
  cat >&2 <<MSG
deps.sh: FAILED: the FerretDB tests need Go >= 1.$go_min_minor, and none is here.
  No Go on PATH, in /usr/local/go or in $go_root is recent enough, and no
  Go >= 1.$go_min_minor_switch could fetch $go_toolchain (GOTOOLCHAIN) either
  (Debian 12's golang-go is 1.19, too old for that).  Either put a Go >=
  1.$go_min_minor on PATH, or install Debian's golang-1.23-go (Debian 12:
  from the bookworm-backports suite) with the Go module proxy reachable,
  and run $0 --test again.
MSG
  return 1
}

# The venv tests/openapi runs schemathesis from: the pinned versions of
# tests/openapi/requirements.txt, installed with pip from its default index
# (nothing is fetched when they are already there).
test_venv=$HOME/.cache/msvc/venv
ensure_test_venv() {
  [ -x "$test_venv/bin/python" ] || python3 -m venv "$test_venv"
  "$test_venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$root/tests/openapi/requirements.txt"
}

packages=(
  build-essential cmake pkg-config python3 curl
  libh2o-evloop-dev libjwt-dev libjson-c-dev libcrypt-dev libsqlite3-dev
  libmongoc-dev libbson-dev libssl-dev zlib1g-dev libcurl4-openssl-dev
  libsystemd-dev # sd_notify in the servers (optional: MSVC_WITH_SYSTEMD)
)
want_go=0
want_venv=0
for arg in "$@"; do
  case "$arg" in
  --bench) packages+=(wrk nghttp2-client) ;; # h2load: the HTTP/2 rows
  --test) packages+=(valgrind openssl prometheus nginx python3-venv python3-pip) want_go=1 want_venv=1 ;; # openssl: tests/tls; prometheus: promtool; nginx: tests/cluster
  *) echo "deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
[[ " $* " == *" --test "* ]] && packages+=(chromium) # tests/browser: headless Chromium
[[ " $* " == *" --test "* ]] && packages+=(clang libclang-rt-dev) # scripts/fuzz.sh: libFuzzer, sanitizer runtimes

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "msvc: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "$want_go" -eq 0 ] || ensure_go
[ "$want_venv" -eq 0 ] || ensure_test_venv
