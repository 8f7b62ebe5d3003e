# A real browser: Debian's chromium, headless (installed by
# scripts/deps.sh --test), loads a page served from one loopback origin
# that uses msvc-server on another port through fetch, with the default
# CORS settings, with CORS_ORIGINS listing the page's origin, and with a
# list that leaves it out (the browser must then block every call).  No
# usable chromium: the case says so loudly and skips (77); with CI=true
# that is a failure (tests/browser/cors_chromium.py).
find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3 OR NOT TARGET msvc-server)
  return()
endif()
add_test(NAME browser.cors
  COMMAND ${MSVC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/cors_chromium.py)
set_tests_properties(browser.cors PROPERTIES
  ENVIRONMENT "MSVC_DEPLOY=server;MSVC_SERVER_BIN=$<TARGET_FILE:msvc-server>;MSVC_VECTORS_FILE=${MSVC_VECTORS_FILE}"
  TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS browser
  RESOURCE_LOCK msvc_http)
