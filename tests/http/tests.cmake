# The black-box HTTP suite: tests/http/test_*.py (Python's standard library
# only, run by tests/http/run.py) drives the real executables over HTTP on
# free loopback ports, once per deployment:
#   http.server             msvc-server on SQLite
#   http.framing            framing, file modes, shutdown, descriptors only
#   http.split.<strategy>   two msvc-auth behind one msvc-post, for each
#                           user resolver (individual, batch, cached)
#   http.split.es256        one msvc-auth signing ES256 behind msvc-post,
#                           which verifies with the published keys: the
#                           key suite (test_keys.py: rotation, JWKS, auth
#                           down) and the session suite
#   http.server.mongo       msvc-server on FerretDB (fixture "ferretdb" of
#                           tests/mongo/tests.cmake); the sessions suite too
# An executable whose target does not exist makes its cases skip (77).
find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3)
  message(STATUS "python3 not found: the HTTP tests are not registered")
  return()
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
foreach(strategy individual batch cached)
  msvc_http_test(http.split.${strategy}
    ENV MSVC_DEPLOY=split MSVC_RESOLVER=${strategy})
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
