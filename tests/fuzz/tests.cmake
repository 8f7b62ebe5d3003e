# Fuzzing (issue 11): libFuzzer harnesses in tests/fuzz/fuzz_<name>.c.
#
# In every build each harness is also linked with tests/fuzz/replay.c as
# fuzz_replay_<name>, and the ctest case fuzz.replay.<name> runs the
# committed seed corpus (tests/fuzz/corpus/<name>/) and crash regressions
# (tests/fuzz/regressions/<name>/) through it: cheap coverage in every run,
# under ASan and UBSan in the MSVC_SANITIZE pass.
#
# MSVC_FUZZ=ON with clang (a build directory of its own; scripts/fuzz.sh
# makes build-fuzz) also builds the fuzzers fuzz_<name>, target `fuzz`:
# the libraries they use (msvc_base, the core's, the wire's and the HTTP
# module's objects) get -fsanitize=fuzzer-no-link,address,undefined, the
# harnesses -fsanitize=fuzzer,address,undefined.  Build only the target
# `fuzz` there: the rest of the tree is not meant to link with those
# libraries.
option(MSVC_FUZZ "Build the libFuzzer harnesses of tests/fuzz (clang only)" OFF)

set(MSVC_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
# name: the libraries it needs (all of them must exist to build it).
set(MSVC_FUZZ_HARNESSES body token jwks cursor id_list config resolver_answer)
set(MSVC_FUZZ_LIBS_body msvc_wire msvc_static)
set(MSVC_FUZZ_LIBS_token msvc_static)
set(MSVC_FUZZ_LIBS_jwks msvc_httpres_static msvc_wire msvc_static)
set(MSVC_FUZZ_LIBS_cursor msvc_static)
set(MSVC_FUZZ_LIBS_id_list msvc_wire msvc_static)
set(MSVC_FUZZ_LIBS_config msvc_static)
set(MSVC_FUZZ_LIBS_resolver_answer msvc_httpres_static msvc_wire msvc_static)
# The configuration parser is the servers' own: compiled in directly, as
# tests/unit/test_config.c does, so that no h2o is needed.
set(MSVC_FUZZ_SOURCES_config ${PROJECT_SOURCE_DIR}/servers/config.c
  ${PROJECT_SOURCE_DIR}/servers/proxies.c)

set(MSVC_FUZZ_ENABLED OFF)
if(MSVC_FUZZ)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    set(MSVC_FUZZ_ENABLED ON)
    set(MSVC_FUZZ_LIB_FLAGS -fsanitize=fuzzer-no-link,address,undefined
      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    set(MSVC_FUZZ_EXE_FLAGS -fsanitize=fuzzer,address,undefined
      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    foreach(lib msvc_base msvc_objects msvc_wire msvc_httpres_objects)
      if(TARGET ${lib})
        target_compile_options(${lib} PRIVATE ${MSVC_FUZZ_LIB_FLAGS})
      endif()
    endforeach()
    add_custom_target(fuzz)
  else()
    message(WARNING "MSVC_FUZZ needs clang (CC=clang); the fuzzers are not built")
  endif()
endif()

foreach(name ${MSVC_FUZZ_HARNESSES})
  set(ok ON)
  foreach(lib ${MSVC_FUZZ_LIBS_${name}})
    if(NOT TARGET ${lib})
      set(ok OFF)
    endif()
  endforeach()
  if(NOT ok)
    continue()
  endif()
  set(srcs ${MSVC_FUZZ_DIR}/fuzz_${name}.c ${MSVC_FUZZ_DIR}/fuzz_util.c
    ${MSVC_FUZZ_SOURCES_${name}})
  set(targets fuzz_replay_${name})
  add_executable(fuzz_replay_${name} ${srcs} ${MSVC_FUZZ_DIR}/replay.c)
  if(MSVC_FUZZ_ENABLED)
    add_executable(fuzz_${name} ${srcs})
    target_compile_options(fuzz_${name} PRIVATE ${MSVC_FUZZ_EXE_FLAGS})
    target_link_options(fuzz_${name} PRIVATE ${MSVC_FUZZ_EXE_FLAGS})
    add_dependencies(fuzz fuzz_${name})
    list(APPEND targets fuzz_${name})
  endif()
  foreach(t ${targets})
    target_compile_definitions(${t} PRIVATE _GNU_SOURCE)
    target_include_directories(${t} PRIVATE ${MSVC_FUZZ_DIR}
      ${PROJECT_SOURCE_DIR}/servers)
    target_link_libraries(${t} PRIVATE ${MSVC_FUZZ_LIBS_${name}}
      PkgConfig::JSONC PkgConfig::CRYPTO)
  endforeach()
  add_test(NAME fuzz.replay.${name} COMMAND fuzz_replay_${name}
    ${MSVC_FUZZ_DIR}/corpus/${name} ${MSVC_FUZZ_DIR}/regressions/${name})
  set_tests_properties(fuzz.replay.${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
endforeach()
