# The black-box HTTP suite: tests/http/test_*.py (Python's standard library
# only, run by tests/http/run.py) drives the real executables over HTTP on
# free loopback ports, once per deployment:
#   http.server             msvc-server on SQLite
#   http.framing            framing, file modes, shutdown, descriptors only
#   http.split.cached       two msvc-auth behind one msvc-post, with the
#                           default user resolver (cached): the whole suite
#   http.split.<strategy>   the same for the other resolvers (individual,
#                           batch), only the tests that depend on the
#                           resolver (MSVC_HTTP_RESOLVER_TESTS below)
#   http.split.es256        one msvc-auth signing ES256 behind msvc-post,
#                           which verifies with the published keys: the
#                           key suite (test_keys.py: rotation, JWKS, auth
#                           down) and the session suite
#   http.server.mongo       msvc-server on FerretDB (fixture "ferretdb" of
#                           tests/mongo/tests.cmake); the sessions suite too
#   http.mutate.<name>      the suite's self-check: with every answer
#                           corrupted as harness.MUTATIONS <name> says, the
#                           tests run.py names for it must fail
# Label "variant": a case that repeats another's checks under another
# setting (the other resolvers); "mutate": the self-check.  The sanitizer
# pass of scripts/test.sh leaves both out.
# An executable whose target does not exist makes its cases skip (77), and
# so does a test whose tool is missing (harness.skip_missing); under CI=true
# both are failures (run.py).  A test that does not apply to the deployment
# (REQUIRES_MODE, ES256 only) is skipped by design, in CI too.
find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3)
  return() # said (or, under CI=true, failed) by tests/CMakeLists.txt
endif()
if(NOT TARGET msvc-server)
  return() # MSVC_BUILD_SERVERS=OFF: nothing to drive
endif()

set(MSVC_HTTP_RUN ${MSVC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/run.py)
set(MSVC_HTTP_ENV "MSVC_VECTORS_FILE=${MSVC_VECTORS_FILE}")
foreach(exe server auth post)
  string(TOUPPER ${exe} upper)
  if(TARGET msvc-${exe})
    list(APPEND MSVC_HTTP_ENV "MSVC_${upper}_BIN=$<TARGET_FILE:msvc-${exe}>")
  endif()
endforeach()

function(msvc_http_test name)
  cmake_parse_arguments(ARG "" "" "ENV;COMMAND" ${ARGN})
  if(NOT ARG_COMMAND)
    set(ARG_COMMAND ${MSVC_HTTP_RUN})
  endif()
  add_test(NAME ${name} COMMAND ${ARG_COMMAND})
  # The cases share two cores: the lock keeps two deployments' worth of
  # servers from competing with each other (the suite has a few deadline
  # checks and a login storm).
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "${MSVC_HTTP_ENV};${ARG_ENV}"
    TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS http
    RESOURCE_LOCK msvc_http)
endfunction()

msvc_http_test(http.server ENV MSVC_DEPLOY=server)
msvc_http_test(http.split.cached ENV MSVC_DEPLOY=split MSVC_RESOLVER=cached)
# What msvc-post's user resolver decides: every post answer embeds its
# author through it (test_posts, paging under inserts), the auth services'
# faults and misbehaviour (test_split), an author the auth service does not
# know (SeedVectors) and the resolver's own metrics.
set(MSVC_HTTP_RESOLVER_TESTS test_posts test_split test_tokens.SeedVectors
  test_concurrency.Races.test_paging_under_concurrent_inserts
  test_operations.MetricsCase.test_split_reports_resolver_and_endpoints)
foreach(strategy individual batch)
  msvc_http_test(http.split.${strategy}
    ENV MSVC_DEPLOY=split MSVC_RESOLVER=${strategy}
    COMMAND ${MSVC_HTTP_RUN} ${MSVC_HTTP_RESOLVER_TESTS})
  set_tests_properties(http.split.${strategy} PROPERTIES
    LABELS "http;variant")
endforeach()
# Issue 11's process-level checks alone (http.server runs them too).
msvc_http_test(http.framing ENV MSVC_DEPLOY=server
  COMMAND ${MSVC_HTTP_RUN} test_framing test_files test_shutdown test_fdlimit)
msvc_http_test(http.split.es256
  ENV MSVC_DEPLOY=split MSVC_JWT_ALGORITHM=ES256
  COMMAND ${MSVC_HTTP_RUN} test_keys test_sessions)

# tests/mongo/tests.cmake is included after this file (glob order), so its
# variables are not set yet: the same fixture directory is named here.
set(MSVC_HTTP_FERRETDB_SH ${CMAKE_CURRENT_LIST_DIR}/../mongo/ferretdb.sh)
if(EXISTS ${MSVC_HTTP_FERRETDB_SH} AND
   EXISTS ${CMAKE_CURRENT_LIST_DIR}/../mongo/tests.cmake)
  msvc_http_test(http.server.mongo ENV MSVC_DEPLOY=server
    COMMAND ${MSVC_HTTP_FERRETDB_SH} run ${CMAKE_BINARY_DIR}/ferretdb/run
      msvc_http ${MSVC_HTTP_RUN} --database-url @URL@)
  set_tests_properties(http.server.mongo PROPERTIES
    FIXTURES_REQUIRED ferretdb LABELS "http;mongo")
endif()

# The self-check: one case per mutation (run.py --list-mutations), each a
# few seconds, outside the lock (short, and a slow machine can only make
# them fail later, not pass).
execute_process(COMMAND ${MSVC_HTTP_RUN} --list-mutations
  OUTPUT_VARIABLE MSVC_HTTP_MUTATIONS OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE MSVC_HTTP_LIST_RC)
if(NOT MSVC_HTTP_LIST_RC EQUAL 0 OR NOT MSVC_HTTP_MUTATIONS)
  message(FATAL_ERROR "tests/http/run.py --list-mutations failed")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/harness.py)
foreach(mutation ${MSVC_HTTP_MUTATIONS})
  add_test(NAME http.mutate.${mutation}
    COMMAND ${MSVC_HTTP_RUN} -q --mutate ${mutation})
  set_tests_properties(http.mutate.${mutation} PROPERTIES
    ENVIRONMENT "${MSVC_HTTP_ENV}"
    TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "http;mutate")
endforeach()
