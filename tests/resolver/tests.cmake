# The HTTP client and resolver tests talk real HTTP, on loopback, to
# tests/resolver/standin.py: a small auth stand-in written with Python's
# standard library that each test starts as a child process.  The unit
# targets themselves come from the tests/unit glob; this adds what they need
# to find the interpreter, the script and standin.h.  Without python3 they
# report themselves skipped (exit code 77).
find_program(MSVC_PYTHON3 NAMES python3)
foreach(t test_http_client test_http_resolver)
  if(TARGET ${t})
    target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
    if(MSVC_PYTHON3)
      target_compile_definitions(${t} PRIVATE
        MSVC_PYTHON="${MSVC_PYTHON3}"
        MSVC_STANDIN="${CMAKE_CURRENT_LIST_DIR}/standin.py")
    endif()
    set_tests_properties(unit.${t} PROPERTIES SKIP_RETURN_CODE 77
      LABELS resolver TIMEOUT 300)
  endif()
endforeach()
