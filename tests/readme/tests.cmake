# readme.session: the README's curl session (the ```sh block after the
# "<!-- readme-session" line) run verbatim with bash -euo pipefail against
# a fresh msvc-server on a free loopback port; only MSVC, the base URL the
# block reads, is set.  Needs python3, curl and the msvc-server target.
find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3 OR NOT TARGET msvc-server)
  return()
endif()
add_test(NAME readme.session
  COMMAND ${MSVC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/session.py
    ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(readme.session PROPERTIES
  ENVIRONMENT "MSVC_SERVER_BIN=$<TARGET_FILE:msvc-server>"
  TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS readme)
