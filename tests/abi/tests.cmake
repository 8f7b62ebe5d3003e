# ABI: the dynamic symbols each shared library exports, checked against the
# committed lists tests/abi/<library>.symbols and against the MSVC_EXTERN
# declarations of the headers that make its API (see check_symbols.sh;
# after a deliberate API change, rerun it with --update and commit the list).
set(MSVC_INC ${PROJECT_SOURCE_DIR}/include)
file(GLOB MSVC_ABI_CORE_HEADERS CONFIGURE_DEPENDS ${MSVC_INC}/msvc/*.h)
list(REMOVE_ITEM MSVC_ABI_CORE_HEADERS
  ${MSVC_INC}/msvc/mongo.h ${MSVC_INC}/msvc/http_resolver.h)
list(APPEND MSVC_ABI_CORE_HEADERS ${MSVC_INC}/msvc.h)

# msvc_abi_test(TARGET LIBRARY_NAME HEADER...)
function(msvc_abi_test target name)
  add_test(NAME abi.${name}
    COMMAND bash ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_symbols.sh
      $<TARGET_FILE:${target}> ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${name}.symbols
      ${ARGN})
  set_tests_properties(abi.${name} PROPERTIES LABELS abi)
endfunction()

msvc_abi_test(msvc libmsvc ${MSVC_ABI_CORE_HEADERS})
if(TARGET msvc_mongo)
  msvc_abi_test(msvc_mongo libmsvc-mongo ${MSVC_INC}/msvc/mongo.h)
endif()
if(TARGET msvc_httpres)
  msvc_abi_test(msvc_httpres libmsvc-http ${MSVC_INC}/msvc/http_resolver.h)
endif()
