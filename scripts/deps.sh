#!/usr/bin/env bash
# Installs the Debian 12 packages msvc needs to build, test and benchmark,
# unless they are already there.  Uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config python3 curl
  libh2o-evloop-dev libjwt-dev libjson-c-dev libcrypt-dev libsqlite3-dev
  libmongoc-dev libbson-dev libssl-dev zlib1g-dev
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(wrk)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "msvc: installing Debian packages: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
