# TLS and HTTP/2 on the listener (issue 10): tests/tls/test_tls.py starts the
# real executables with certificates it makes with the openssl command and
# checks them with curl --http2, openssl s_client and Python's ssl module
# (ALPN, protocol versions, ciphers, bad input on the TLS port, start-up
# refusals, SIGHUP reload, the split deployment over https://).  It reuses
# tests/http/harness.py.  Without openssl, an HTTP/2 curl or the executables
# the case skips (77), or fails with CI=true.
find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3 OR NOT TARGET msvc-server)
  return()
endif()

set(MSVC_TLS_ENV "MSVC_VECTORS_FILE=${MSVC_VECTORS_FILE}")
foreach(exe server auth post)
  string(TOUPPER ${exe} upper)
  if(TARGET msvc-${exe})
    list(APPEND MSVC_TLS_ENV "MSVC_${upper}_BIN=$<TARGET_FILE:msvc-${exe}>")
  endif()
endforeach()

add_test(NAME tls.server
  COMMAND ${MSVC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_tls.py)
# The same lock as the HTTP suites: the cases share the machine's cores.
set_tests_properties(tls.server PROPERTIES
  ENVIRONMENT "${MSVC_TLS_ENV}"
  TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "http;tls"
  RESOURCE_LOCK msvc_http)
