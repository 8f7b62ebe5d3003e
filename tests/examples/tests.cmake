# The examples, two ways: the build's own targets run in an empty directory,
# and each example compiled against an installed copy of the library with
# nothing but `pkg-config --cflags --libs libmsvc`.
if(MSVC_BUILD_EXAMPLES)
  foreach(src ${MSVC_EXAMPLES})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME example.${name}
      COMMAND ${CMAKE_COMMAND} -E env bash ${PROJECT_SOURCE_DIR}/tests/examples/run_in_empty_dir.sh $<TARGET_FILE:example-${name}>)
  endforeach()
  add_test(NAME example.installed
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/examples/build_installed.sh
      ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}/examples)
  set_tests_properties(example.installed PROPERTIES TIMEOUT 300)
  if(MSVC_SANITIZE) # the installed library is instrumented: so is the example
    set_tests_properties(example.installed PROPERTIES
      ENVIRONMENT "MSVC_EXAMPLE_CFLAGS=-fsanitize=address,undefined")
  endif()
endif()
