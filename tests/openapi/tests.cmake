# The OpenAPI document (issue 10): servers/openapi/openapi.json, served by
# every executable at GET /openapi.json, checked against reality.
#   unit.test_openapi_filter  servers/openapi.c on its own (no h2o): the
#                             filtering by registered routes, the report of
#                             undocumented ones, the embedded document
#   openapi.schemathesis      tests/openapi/test_openapi.py: --print-openapi
#                             of the three executables, the served document
#                             against the routes (405 Allow) and
#                             openapi-spec-validator, then schemathesis
#                             against msvc-server and the split deployment
# schemathesis and openapi-spec-validator come from the venv that
# scripts/deps.sh --test makes ($HOME/.cache/msvc/venv, or MSVC_TEST_VENV);
# without it the case skips (77), or fails with CI=true.
if(TARGET msvc_servers)
  add_executable(test_openapi_filter ${CMAKE_CURRENT_LIST_DIR}/test_openapi_filter.c
    ${PROJECT_SOURCE_DIR}/servers/openapi.c ${MSVC_OPENAPI_C})
  target_include_directories(test_openapi_filter PRIVATE ${PROJECT_SOURCE_DIR}/servers
    ${PROJECT_SOURCE_DIR}/tests/unit)
  target_compile_definitions(test_openapi_filter PRIVATE _GNU_SOURCE)
  target_link_libraries(test_openapi_filter PRIVATE msvc_static PkgConfig::JSONC)
  add_test(NAME unit.test_openapi_filter COMMAND test_openapi_filter)
  set_tests_properties(unit.test_openapi_filter PROPERTIES TIMEOUT 60)
endif()

find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3 OR NOT TARGET msvc-server)
  return()
endif()
set(MSVC_OPENAPI_ENV "MSVC_VECTORS_FILE=${MSVC_VECTORS_FILE}")
foreach(exe server auth post)
  string(TOUPPER ${exe} upper)
  if(TARGET msvc-${exe})
    list(APPEND MSVC_OPENAPI_ENV "MSVC_${upper}_BIN=$<TARGET_FILE:msvc-${exe}>")
  endif()
endforeach()
add_test(NAME openapi.schemathesis
  COMMAND ${MSVC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_openapi.py)
# The same lock as the HTTP suites: the cases share the machine's cores.
set_tests_properties(openapi.schemathesis PROPERTIES
  ENVIRONMENT "${MSVC_OPENAPI_ENV}"
  TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "http;openapi"
  RESOURCE_LOCK msvc_http)
