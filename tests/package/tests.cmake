# find_package(msvc) from a tiny CMake project (tests/package) against the
# installed library: versions (0.x: same minor only) and components.  Uses
# the install fixture of tests/examples/tests.cmake.
set(MSVC_PACKAGE_COMPONENTS)
if(TARGET msvc_mongo)
  list(APPEND MSVC_PACKAGE_COMPONENTS mongo)
endif()
if(TARGET msvc_httpres)
  list(APPEND MSVC_PACKAGE_COMPONENTS http)
endif()
string(REPLACE ";" " " MSVC_PACKAGE_COMPONENTS "${MSVC_PACKAGE_COMPONENTS}")
add_test(NAME package.find_package
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check.sh
    ${PROJECT_BINARY_DIR}/tests-install ${CMAKE_CURRENT_LIST_DIR}
    "${MSVC_PACKAGE_COMPONENTS}")
set_tests_properties(package.find_package PROPERTIES
  FIXTURES_REQUIRED msvc_installed TIMEOUT 300 LABELS package)
if(MSVC_SANITIZE) # the installed library is instrumented: so is the consumer
  set_tests_properties(package.find_package PROPERTIES
    ENVIRONMENT "MSVC_EXAMPLE_CFLAGS=-fsanitize=address,undefined")
endif()
