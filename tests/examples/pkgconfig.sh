#!/usr/bin/env bash
# The installed .pc files are complete:
#  - `pkg-config --static --libs` resolves for libmsvc and each installed
#    module (every Requires/Requires.private exists under its real name);
#  - every library a shared object of ours is linked against (its ELF
#    NEEDED entries) appears among those static flags, so a static link
#    would find all of them;
#  - the core's plain `--libs` names no module dependency.
# Usage: pkgconfig.sh PREFIX
set -euo pipefail
. "$(dirname "$0")/common.sh"
use_prefix "$1"

for pcfile in "$pcdir"/*.pc; do
  pkg=$(basename "$pcfile" .pc)
  for req in $(pkg-config --print-requires --print-requires-private "$pkg" | awk '{ print $1 }'); do
    pkg-config --exists "$req" || {
      echo "FAIL: $pkg requires $req, which pkg-config cannot find" >&2
      exit 1
    }
  done
  static=$(pkg-config --static --libs "$pkg")
  echo "$pkg --static: $static"

  # lib<pkg minus "lib">.so: libmsvc-mongo.pc describes libmsvc-mongo.so.
  so="$libdir/$pkg.so"
  [ -e "$so" ] || { echo "FAIL: $pkg.pc installed without $so" >&2; exit 1; }
  for needed in $(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case "$needed" in # the C library and the loader come with the compiler
    libc.so.* | ld-linux*.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.*) continue ;;
    libasan.so.* | libubsan.so.* | libstdc++.so.* | libgcc_s.so.*) continue ;;
    esac
    flag=${needed#lib}
    flag="-l${flag%%.so*}"
    case " $static " in
    *" $flag "*) ;;
    *)
      echo "FAIL: $(basename "$so") needs $needed but \`pkg-config --static --libs $pkg\` has no $flag" >&2
      exit 1
      ;;
    esac
  done
done

core=$(pkg-config --libs libmsvc)
if grep -Eq 'mongoc|bson|curl|json-c' <<<"$core"; then
  echo "FAIL: pkg-config --libs libmsvc names a module's dependency: $core" >&2
  exit 1
fi
echo "ok: every installed .pc resolves statically and covers its library's NEEDED entries"
