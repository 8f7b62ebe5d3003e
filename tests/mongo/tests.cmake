# Only with the MongoDB module (MSVC_WITH_MONGO).
if(NOT TARGET msvc_mongo_static)
  return()
endif()

# MongoDB tests, against a real FerretDB (MongoDB's wire protocol over
# SQLite) that the fixture script tests/mongo/ferretdb.sh builds from the Go
# module tests/ferretdb and runs on a free loopback port.
#
# The ctest fixture "ferretdb" starts one shared server before the tests
# that require it and stops it after them.  Its URL is in
# ${MSVC_FERRETDB_DIR}/url; a test should take a database of its own,
# which `ferretdb.sh run DIR NAME CMD... @URL@` does (see the script).
# Without a Go toolchain the fixture and every test report themselves
# skipped (exit 77, with the reason); with CI=true that is a failure.
set(MSVC_FERRETDB_SH ${CMAKE_CURRENT_LIST_DIR}/ferretdb.sh)
set(MSVC_FERRETDB_BIN ${CMAKE_BINARY_DIR}/ferretdb/bin/msvc-ferretdb)
set(MSVC_FERRETDB_DIR ${CMAKE_BINARY_DIR}/ferretdb/run)

# The Go toolchain builds the launcher on the first run (ferretdb.sh
# build); without one the MongoDB tests skip, which is worth saying now.
# scripts/deps.sh --test links ~/.cache/msvc/go to one when the machine
# has none recent enough (a Go >= 1.21 fetches it through GOTOOLCHAIN), so
# that one is looked for first: PATH may hold an older go (Debian's 1.19).
find_program(MSVC_GO NAMES go PATHS $ENV{HOME}/.cache/msvc/go/bin NO_DEFAULT_PATH)
find_program(MSVC_GO NAMES go PATHS /usr/local/go/bin)
set(MSVC_FERRETDB_ENV "MSVC_FERRETDB=${MSVC_FERRETDB_BIN}")
if(MSVC_GO)
  list(APPEND MSVC_FERRETDB_ENV "GO=${MSVC_GO}")
elseif(NOT EXISTS ${MSVC_FERRETDB_BIN})
  message(WARNING "Go toolchain not found: the MongoDB tests (on FerretDB) "
    "will be reported as skipped. Install Go 1.24 or newer to run them.")
endif()

add_test(NAME mongo.ferretdb.start
  COMMAND ${MSVC_FERRETDB_SH} start ${MSVC_FERRETDB_DIR})
add_test(NAME mongo.ferretdb.stop
  COMMAND ${MSVC_FERRETDB_SH} stop ${MSVC_FERRETDB_DIR})
set_tests_properties(mongo.ferretdb.start PROPERTIES FIXTURES_SETUP ferretdb
  TIMEOUT 1800)
set_tests_properties(mongo.ferretdb.stop PROPERTIES FIXTURES_CLEANUP ferretdb)

# Adds a ctest case that runs CMD under `ferretdb.sh run` (skip handling,
# a fresh database for @URL@) and requires the fixture.
function(msvc_mongo_test name)
  add_test(NAME ${name} COMMAND ${MSVC_FERRETDB_SH} run ${MSVC_FERRETDB_DIR}
    ${ARGN})
  set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED ferretdb
    TIMEOUT 300)
endfunction()

foreach(src seed_data uri fault tls)
  add_executable(mongo_${src} ${CMAKE_CURRENT_LIST_DIR}/${src}.c)
  target_compile_definitions(mongo_${src} PRIVATE _GNU_SOURCE
    MSVC_VECTORS_FILE="${MSVC_VECTORS_FILE}")
  target_include_directories(mongo_${src} PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/../unit)
  target_link_libraries(mongo_${src} PRIVATE msvc_mongo_static msvc_static)
endforeach()
# seed_data reads the interop vectors with json-c.
if(NOT TARGET PkgConfig::JSONC)
  pkg_check_modules(JSONC REQUIRED IMPORTED_TARGET json-c)
endif()
target_link_libraries(mongo_seed_data PRIVATE PkgConfig::JSONC)

msvc_mongo_test(mongo.seed_data seed $<TARGET_FILE:mongo_seed_data> @URL@)
# A timeout of the URI's own must win over the configured 60 s: the
# ctest TIMEOUT is what fails if it does not.
msvc_mongo_test(mongo.uri uri $<TARGET_FILE:mongo_uri> @URL@)
set_tests_properties(mongo.uri PROPERTIES TIMEOUT 90)
msvc_mongo_test(mongo.fault fault $<TARGET_FILE:mongo_fault>
  ${MSVC_FERRETDB_SH} ${CMAKE_BINARY_DIR}/ferretdb/fault)
msvc_mongo_test(mongo.tls tls $<TARGET_FILE:mongo_tls>
  ${MSVC_FERRETDB_SH} ${CMAKE_BINARY_DIR}/ferretdb/tls)
# msvc-server itself through a database outage, over HTTP.
find_package(Python3 COMPONENTS Interpreter)
if(TARGET msvc-server AND Python3_FOUND)
  msvc_mongo_test(mongo.server_outage outage ${Python3_EXECUTABLE}
    ${CMAKE_CURRENT_LIST_DIR}/server_outage.py ${MSVC_FERRETDB_SH}
    ${CMAKE_BINARY_DIR}/ferretdb/outage $<TARGET_FILE:msvc-server>)
  set(MSVC_MONGO_OUTAGE_TEST mongo.server_outage)
endif()

# The store conformance suite of tests/store, unchanged, on FerretDB (its
# target is defined by tests/store/tests.cmake, included after this file).
set(mongo_tests mongo.ferretdb.start mongo.ferretdb.stop mongo.seed_data
  mongo.uri mongo.fault mongo.tls ${MSVC_MONGO_OUTAGE_TEST})
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../store/tests.cmake)
  msvc_mongo_test(store.mongo conformance
    $<TARGET_FILE:store_conformance> @URL@)
  list(APPEND mongo_tests store.mongo)
endif()

# Every test here finds the launcher the fixture built, and shows skips.
set_tests_properties(${mongo_tests} PROPERTIES
  ENVIRONMENT "${MSVC_FERRETDB_ENV}"
  SKIP_RETURN_CODE 77 LABELS mongo)
if(TEST store.mongo)
  # FerretDB 1.x on SQLite pushes down no filter but {_id: x}: every email
  # lookup and listing scans its collection, so the paging and load cases
  # take minutes on two busy cores.
  set_tests_properties(store.mongo PROPERTIES TIMEOUT 1500
    LABELS "mongo;store")
endif()
