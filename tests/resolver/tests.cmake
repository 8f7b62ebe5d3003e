# The HTTP transport and resolver tests talk real HTTP and HTTPS, on
# loopback, to tests/resolver/standin.py: a small auth stand-in written with
# Python's standard library that each test starts as a child process (the
# HTTPS cases make a throwaway CA and certificate with the openssl command).
# The unit targets themselves come from the tests/unit glob; this links
# them with the module they test and adds what they need to find the
# interpreter, the script and standin.h.  Without python3 they report
# themselves skipped (exit code 77); without openssl the HTTPS cases are
# skipped.  Under CI=true both are failures (TEST_SKIP in testutil.h).
find_program(MSVC_PYTHON3 NAMES python3)
find_program(MSVC_OPENSSL NAMES openssl)
# test_jwks (the JWK Set client of the same module) makes its keys with
# OpenSSL too; the unit glob builds it even without the module, and then it
# only reports itself skipped.
foreach(t test_http_client test_http_resolver test_jwks)
  if(TARGET ${t})
    if(TARGET msvc_httpres_static)
      # msvc_wire calls the core's msvc_errors_*: the core comes again
      # after it on the link line.
      target_link_libraries(${t} PRIVATE msvc_httpres_static msvc_wire
        msvc_static)
      if(t STREQUAL "test_jwks")
        target_link_libraries(${t} PRIVATE PkgConfig::CRYPTO)
        target_compile_definitions(${t} PRIVATE MSVC_TEST_JWKS=1)
      endif()
    endif()
    target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
    if(MSVC_PYTHON3)
      target_compile_definitions(${t} PRIVATE
        MSVC_PYTHON="${MSVC_PYTHON3}"
        MSVC_STANDIN="${CMAKE_CURRENT_LIST_DIR}/standin.py")
    endif()
    if(MSVC_OPENSSL)
      target_compile_definitions(${t} PRIVATE MSVC_OPENSSL="${MSVC_OPENSSL}")
    endif()
    # The tests put a slow getaddrinfo() in front of the C library's (to
    # show that name lookups keep to the deadline): libcurl must see it.
    set_target_properties(${t} PROPERTIES ENABLE_EXPORTS ON)
    set_tests_properties(unit.${t} PROPERTIES SKIP_RETURN_CODE 77
      LABELS resolver TIMEOUT 300)
  endif()
endforeach()
# The wire format is an internal static library of its own.
if(TARGET test_json AND TARGET msvc_wire)
  target_link_libraries(test_json PRIVATE msvc_wire msvc_static)
endif()
