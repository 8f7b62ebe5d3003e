#!/usr/bin/env bash
# find_package(msvc) against the installed library, from the tiny project
# in this folder (CMAKE_PREFIX_PATH = the install prefix):
#  - `find_package(msvc 0.2 REQUIRED)` (and 0.2.0 EXACT) configure, build
#    and link msvc::msvc, and the program runs;
#  - 0.x compatibility is the same minor version only: 0.1, 0.1 EXACT, 0.3
#    and 1.0 requests are not satisfied (configure fails on the version);
#  - COMPONENTS: each module this build has resolves to msvc::<module> and
#    links; a module it lacks, or an unknown component, fails when
#    required, and leaves msvc_<c>_FOUND false when optional.
# In the sanitizer build the installed library is instrumented, and
# MSVC_EXAMPLE_CFLAGS (-fsanitize=...) is passed on as CMAKE_C_FLAGS.
# Usage: check.sh PREFIX SOURCE_DIR "BUILT_COMPONENTS"
set -euo pipefail
prefix=$(cd "$1" && pwd)
src=$2
read -r -a built <<<"${3:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LD_LIBRARY_PATH="$prefix/lib:$prefix/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
n=0

# configure NAME ARGS...: configures a fresh build of the project; the
# output is in $work/NAME.log; returns cmake's status.
configure() {
  local name=$1
  shift
  cmake -S "$src" -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="${MSVC_EXAMPLE_CFLAGS:-}" "$@" >"$work/$name.log" 2>&1
}

# expect_ok NAME ARGS...: configure, build and run every program built.
expect_ok() {
  local name=$1 exe
  n=$((n + 1))
  if ! configure "$@" || ! cmake --build "$work/$name" >>"$work/$name.log" 2>&1; then
    cat "$work/$name.log" >&2
    echo "FAIL: $name: find_package(msvc) should be satisfied and link" >&2
    exit 1
  fi
  for exe in "$work/$name"/consumer*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    "$exe"
  done
  echo "ok: $name"
}

# expect_refused NAME PATTERN ARGS...: configure must fail, with PATTERN
# (an extended regex) in its output so it fails for the reason meant.
expect_refused() {
  local name=$1 pattern=$2
  shift 2
  n=$((n + 1))
  if configure "$name" "$@"; then
    cat "$work/$name.log" >&2
    echo "FAIL: $name: find_package(msvc) was satisfied but must not be" >&2
    exit 1
  fi
  # CMake wraps its messages: match on the text with whitespace runs joined.
  if ! tr -s ' \n' '  ' <"$work/$name.log" | grep -Eq "$pattern"; then
    cat "$work/$name.log" >&2
    echo "FAIL: $name: configure failed, but not with /$pattern/" >&2
    exit 1
  fi
  echo "ok: $name refused"
}

expect_ok v0.2 -DMSVC_REQUEST=0.2
expect_ok v0.2.0-exact "-DMSVC_REQUEST=0.2.0;EXACT"
expect_ok no-version -DMSVC_REQUEST=
version_refused='compatible with requested version|exactly matches requested version'
expect_refused v0.1 "$version_refused" -DMSVC_REQUEST=0.1
expect_refused v0.1-exact "$version_refused" "-DMSVC_REQUEST=0.1;EXACT"
expect_refused v0.3 "$version_refused" -DMSVC_REQUEST=0.3
expect_refused v1.0 "$version_refused" -DMSVC_REQUEST=1.0

for comp in mongo http; do
  if [[ " ${built[*]} " == *" $comp "* ]]; then
    expect_ok "component-$comp" -DMSVC_COMPONENTS=$comp
    grep -q "msvc_${comp}_FOUND=1" "$work/component-$comp.log" || {
      echo "FAIL: find_package(msvc COMPONENTS $comp) left msvc_${comp}_FOUND false" >&2
      exit 1
    }
  else
    expect_refused "component-$comp-absent" "lacks the required component.*$comp" \
      -DMSVC_COMPONENTS=$comp
  fi
done
if [ ${#built[@]} -eq 2 ]; then
  expect_ok components-both "-DMSVC_COMPONENTS=mongo;http"
fi
expect_refused component-unknown "lacks the required component.*nosuch" \
  -DMSVC_COMPONENTS=nosuch
expect_ok optional-unknown -DMSVC_OPTIONAL=nosuch
grep -q "msvc_nosuch_FOUND=0" "$work/optional-unknown.log" || {
  cat "$work/optional-unknown.log" >&2
  echo "FAIL: an unknown optional component must leave msvc_nosuch_FOUND false" >&2
  exit 1
}
echo "find_package(msvc): $n cases as expected (built components: ${built[*]:-none})"
