# The examples, as an embedder meets them:
#  example.<name>      the build's own target, run in an empty directory
#                      (under valgrind; under ASan/UBSan in the sanitizer build)
#  example.install     fixture: `cmake --install` into <build>/tests-install
#  example.installed   each example compiled in strict C11 against the
#                      installed library with only pkg-config, run the same way
#  example.cxx         the installed headers (and the examples) as C++11
#  example.pkgconfig   the installed .pc files resolve with --static
#  example.footprint   an SQLite-only program loads no module dependency;
#                      prints ldd counts and start-up times, core vs full
# Scripts exit 77 (skipped) when valgrind or g++ is missing, except under
# CI=true, where they fail.
#
# The install fixture serves tests/package too, so it exists without the
# examples.
set(MSVC_INSTALL_PREFIX ${PROJECT_BINARY_DIR}/tests-install)
add_test(NAME example.install
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/install_prefix.sh
    ${PROJECT_BINARY_DIR} ${MSVC_INSTALL_PREFIX})
set_tests_properties(example.install PROPERTIES
  FIXTURES_SETUP msvc_installed TIMEOUT 120 LABELS examples)

if(MSVC_BUILD_EXAMPLES)
  set(MSVC_EXAMPLES_ENV)
  if(MSVC_SANITIZE)
    # The installed library is instrumented: so are the examples built
    # against it, and the sanitizers take valgrind's place.
    set(MSVC_EXAMPLES_ENV
      "MSVC_EXAMPLE_CFLAGS=-fsanitize=address,undefined" MSVC_NO_VALGRIND=1)
    set(MSVC_VALGRIND_ARG)
  else()
    set(MSVC_VALGRIND_ARG --valgrind)
  endif()

  foreach(src ${MSVC_EXAMPLES})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME example.${name}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_in_empty_dir.sh
        ${MSVC_VALGRIND_ARG} $<TARGET_FILE:example-${name}>)
    set_tests_properties(example.${name} PROPERTIES
      TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS examples)
  endforeach()

  set(MSVC_EX ${PROJECT_SOURCE_DIR}/examples)
  add_test(NAME example.installed COMMAND bash
    ${CMAKE_CURRENT_LIST_DIR}/build_installed.sh ${MSVC_INSTALL_PREFIX} ${MSVC_EX})
  add_test(NAME example.cxx COMMAND bash
    ${CMAKE_CURRENT_LIST_DIR}/cxx.sh ${MSVC_INSTALL_PREFIX} ${MSVC_EX})
  add_test(NAME example.pkgconfig COMMAND bash
    ${CMAKE_CURRENT_LIST_DIR}/pkgconfig.sh ${MSVC_INSTALL_PREFIX})
  add_test(NAME example.footprint COMMAND bash
    ${CMAKE_CURRENT_LIST_DIR}/footprint.sh ${MSVC_INSTALL_PREFIX} ${MSVC_EX})
  set(MSVC_INSTALLED_TESTS
    example.installed example.cxx example.pkgconfig example.footprint)
  set_tests_properties(${MSVC_INSTALLED_TESTS} PROPERTIES
    FIXTURES_REQUIRED msvc_installed TIMEOUT 300 SKIP_RETURN_CODE 77
    LABELS examples)
  if(MSVC_EXAMPLES_ENV)
    set_tests_properties(example.installed example.footprint PROPERTIES
      ENVIRONMENT "${MSVC_EXAMPLES_ENV}")
  endif()
endif()
