#!/usr/bin/env bash
# Test fixture: installs the build into PREFIX (emptied first) so that the
# example and package tests work against an installed copy, as an embedder
# would, never against the build tree.
# Usage: install_prefix.sh BUILD_DIR PREFIX
set -euo pipefail
build=$1 prefix=$2
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
echo "installed $build into $prefix:"
(cd "$prefix" && find . -type f -o -type l | LC_ALL=C sort | sed 's/^/  /')
