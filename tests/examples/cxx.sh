#!/usr/bin/env bash
# The installed headers are valid C++ (C++11, -pedantic, no warnings):
#  - a translation unit including <msvc.h> and the installed module headers
#    (<msvc/mongo.h>, <msvc/http_resolver.h>), and each header on its own
#    (self-contained), compile with g++ -x c++ and, alone, also as C11;
#  - each example compiles as C++11 too (they cast what C would convert
#    implicitly, so that C++ embedders can copy them as they are).
# Usage: cxx.sh PREFIX EXAMPLES_DIR
set -euo pipefail
. "$(dirname "$0")/common.sh"
use_prefix "$1"
examples=$2
if ! need g++ "compiling the headers and examples as C++"; then
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
read -r -a inc <<<"$(pkg-config --cflags libmsvc)"
cxx=(g++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only "${inc[@]}")
cc=(gcc -x c -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only "${inc[@]}")
includedir=$(pkg-config --variable=includedir libmsvc)

# Every installed header: the umbrella, the concern headers, the modules'.
headers=(msvc.h)
for h in "$includedir"/msvc/*.h; do headers+=("msvc/$(basename "$h")"); done

{
  for h in "${headers[@]}"; do echo "#include <$h>"; done
  echo 'int main() { return msvc_version_string() != 0 ? 0 : 1; }'
} >"$work/all.cpp"
"${cxx[@]}" "$work/all.cpp"
echo "C++11: one unit including ${headers[*]}: ok"

for h in "${headers[@]}"; do
  printf '#include <%s>\nint msvc_test_unit;\n' "$h" >"$work/one.c"
  "${cxx[@]}" "$work/one.c"
  "${cc[@]}" "$work/one.c"
done
echo "each header alone compiles as C++11 and as C11"

for src in "$examples"/*.c; do
  name=$(basename "$src")
  if ! "${cxx[@]}" "$src"; then
    echo "FAIL: example $name does not compile as C++11" >&2
    exit 1
  fi
  echo "C++11: example $name: ok"
done
