#!/usr/bin/env bash
# Checks the dynamic symbols a shared library exports against the list
# committed next to this script, so that an accidental export (or removal)
# fails CI instead of shipping.  Also fails when an export
#   - is not a function (data objects: D, B, R, V, ...; backends are reached
#     through functions such as msvc_store_sqlite(), never as exported data,
#     which would be copied into callers by copy relocations),
#   - lacks the msvc_ prefix, or
#   - starts with msvc__ (the prefix of internal functions), or
#   - (when HEADERs are given) is not declared MSVC_EXTERN in one of them;
# and when a function the HEADERs declare MSVC_EXTERN is not exported.
#
# Usage: check_symbols.sh [--update] LIBRARY.so SYMBOLS_FILE [HEADER...]
#   --update  rewrite SYMBOLS_FILE from LIBRARY.so (after a deliberate change
#             to the API; commit the new list with the change).  The other
#             checks still run.
#   HEADER    the public headers that declare this library's API
#
# The list holds one exported symbol per line, "name type", sorted by name,
# where type is nm's letter (T: function).  Symbol versions, if a version
# script ever adds them, stay part of the name (msvc_open@@MSVC_0.2).
set -euo pipefail

update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
if [ $# -lt 2 ]; then
  echo "usage: $0 [--update] LIBRARY.so SYMBOLS_FILE [HEADER...]" >&2
  exit 2
fi
lib=$1 list=$2
shift 2
headers=("$@")
[ -f "$lib" ] || { echo "abi: no such library: $lib" >&2; exit 2; }

# "name type" for every defined dynamic symbol.  nm's POSIX format prints
# "name type value size"; version nodes of a version script are type A.
actual=$(nm -D --defined-only --format=posix "$lib" |
  awk '{ print $1, $2 }' | LC_ALL=C sort -u)

status=0
problems=$(awk '
  $2 == "A" { next }                  # a version node, not a symbol
  {
    name = $1; sub(/@.*/, "", name)
    if ($2 != "T" && $2 != "i")
      print "  " $1 ": exported as data (nm type " $2 "); export a function returning it instead"
    if (name !~ /^msvc_/)
      print "  " $1 ": lacks the msvc_ prefix"
    else if (name ~ /^msvc__/)
      print "  " $1 ": msvc__ names are internal and must stay hidden"
  }' <<<"$actual")
if [ -n "$problems" ]; then
  echo "abi: $(basename "$lib") exports symbols it must not:" >&2
  echo "$problems" >&2
  status=1
fi

# The public headers and the exports agree: each MSVC_EXTERN declaration
# (the msvc_ name before the first parenthesis after MSVC_EXTERN) is an
# exported function, and each exported function is declared.
if [ ${#headers[@]} -gt 0 ]; then
  declared=$(perl -0ne 'while (/^\s*MSVC_EXTERN\b[^;(]*?\b(msvc_\w+)\s*\(/mg) { print "$1\n" }' \
    "${headers[@]}" | LC_ALL=C sort -u)
  names=$(awk '$2 != "A" { sub(/@.*/, "", $1); print $1 }' <<<"$actual" | LC_ALL=C sort -u)
  undeclared=$(LC_ALL=C comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$names") | sed '/^$/d')
  unexported=$(LC_ALL=C comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$names") | sed '/^$/d')
  if [ -n "$undeclared" ]; then
    echo "abi: $(basename "$lib") exports functions no public header declares MSVC_EXTERN" \
      "(internal: hide them):" >&2
    sed 's/^/  /' <<<"$undeclared" >&2
    status=1
  fi
  if [ -n "$unexported" ]; then
    echo "abi: public headers declare functions $(basename "$lib") does not export" \
      "(define them, or drop the declaration):" >&2
    sed 's/^/  /' <<<"$unexported" >&2
    status=1
  fi
fi

if [ "$update" -eq 1 ]; then
  printf '%s\n' "$actual" >"$list"
  echo "abi: wrote $(wc -l <"$list") symbols of $(basename "$lib") to $list"
  exit "$status"
fi

if [ ! -f "$list" ]; then
  echo "abi: no committed list $list; create it with:" >&2
  echo "  $0 --update $lib $list" >&2
  exit 1
fi
if ! diff -u --label "committed $(basename "$list")" --label "exported by $(basename "$lib")" \
  "$list" <(printf '%s\n' "$actual") >&2; then
  cat >&2 <<MSG
abi: the symbols exported by $(basename "$lib") differ from the committed list
(- lines: in the list but no longer exported, a removal that breaks every
program linked against them; + lines: newly exported).  If the change is
deliberate (a new public function, declared MSVC_EXTERN in include/msvc/),
update the list and commit it with the change:
  $0 --update $lib $list
otherwise hide the symbol (drop MSVC_EXTERN, make it static, or rename an
internal helper to msvc__*).
MSG
  exit 1
fi
[ "$status" -ne 0 ] || echo "abi: $(basename "$lib"): $(wc -l <<<"$actual") exported functions match $(basename "$list")"
exit "$status"
