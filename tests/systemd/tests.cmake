# systemd (issue 10): tests/systemd/test_systemd.py plays the service
# manager with a NOTIFY_SOCKET of its own (a path and an abstract @name)
# and starts the real executables against it: READY=1 only once the port
# answers /readyz, STATUS=, RELOADING=1/READY=1 on SIGHUP with TLS,
# STOPPING=1 while a slow request is in flight, nothing broken without a
# socket or with one leading nowhere; then `systemd-analyze verify` and
# `security --offline` on the units, configured here with the build's
# binaries (packaging/systemd/*.service.in).  It reuses tests/http/harness.py.
# Without the executables or openssl the case skips (77), or fails with
# CI=true.
#
# systemd.units_installed: `cmake --install` (the example.install fixture)
# put the three units under the prefix, ExecStart naming the configured
# bindir.
find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3 OR NOT TARGET msvc-server)
  return()
endif()

set(MSVC_TEST_UNITS_DIR ${PROJECT_BINARY_DIR}/tests-systemd-units)
set(MSVC_UNIT_BINDIR_SAVED ${MSVC_UNIT_BINDIR})
set(MSVC_UNIT_BINDIR ${PROJECT_BINARY_DIR})
foreach(exe ${MSVC_SERVER_TARGETS})
  configure_file(${PROJECT_SOURCE_DIR}/packaging/systemd/${exe}.service.in
    ${MSVC_TEST_UNITS_DIR}/${exe}.service @ONLY)
endforeach()
set(MSVC_UNIT_BINDIR ${MSVC_UNIT_BINDIR_SAVED})

if(TARGET PkgConfig::SYSTEMD)
  set(MSVC_TEST_HAVE_SYSTEMD 1)
else()
  set(MSVC_TEST_HAVE_SYSTEMD 0)
endif()
set(MSVC_SYSTEMD_ENV "MSVC_VECTORS_FILE=${MSVC_VECTORS_FILE}"
  "MSVC_TEST_UNITS_DIR=${MSVC_TEST_UNITS_DIR}"
  "MSVC_TEST_HAVE_SYSTEMD=${MSVC_TEST_HAVE_SYSTEMD}"
  "MSVC_LIBMSVC=$<TARGET_FILE:msvc>")
foreach(exe server auth post)
  string(TOUPPER ${exe} upper)
  if(TARGET msvc-${exe})
    list(APPEND MSVC_SYSTEMD_ENV "MSVC_${upper}_BIN=$<TARGET_FILE:msvc-${exe}>")
  endif()
endforeach()

add_test(NAME systemd.notify
  COMMAND ${MSVC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_systemd.py)
# The same lock as the HTTP suites: the cases share the machine's cores.
set_tests_properties(systemd.notify PROPERTIES
  ENVIRONMENT "${MSVC_SYSTEMD_ENV}"
  TIMEOUT 180 SKIP_RETURN_CODE 77 LABELS "http;systemd"
  RESOURCE_LOCK msvc_http)

# (MSVC_INSTALL_PREFIX and the fixture come from tests/examples/tests.cmake.)
if(DEFINED MSVC_INSTALL_PREFIX AND NOT IS_ABSOLUTE "${MSVC_SYSTEMD_UNITDIR}")
  add_test(NAME systemd.units_installed
    COMMAND bash -c [=[
set -eu
for exe in "${@:3}"; do
  unit="$1/$exe.service"
  [ -f "$unit" ] || { echo "FAIL: $unit not installed" >&2; exit 1; }
  grep -qx "ExecStart=$2/$exe" "$unit" ||
    { echo "FAIL: $unit: ExecStart is not $2/$exe" >&2; exit 1; }
  echo "ok: $unit"
done
]=] units ${MSVC_INSTALL_PREFIX}/${MSVC_SYSTEMD_UNITDIR}
      ${CMAKE_INSTALL_FULL_BINDIR} ${MSVC_SERVER_TARGETS})
  set_tests_properties(systemd.units_installed PROPERTIES
    FIXTURES_REQUIRED msvc_installed TIMEOUT 60 LABELS "package;systemd")
endif()
