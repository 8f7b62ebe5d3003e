# Store tests: the conformance program (tests/store/conformance.c) runs the
# whole store contract, and the wrappers' and registry's own rules, against
# the DATABASE_URL it is given, so every backend is held to the same checks.
# Here it runs on SQLite, on a file the fixture "store_sqlite_fresh"
# deletes first (with its WAL and shared memory files) so each run starts
# from an empty database.  Other backends add their own run of the same
# target (for MongoDB, under the FerretDB fixture of tests/mongo); when the
# MongoDB module is built the program links it, and registers it for
# mongodb URLs.
add_executable(store_conformance ${CMAKE_CURRENT_LIST_DIR}/conformance.c)
target_compile_definitions(store_conformance PRIVATE _GNU_SOURCE)
target_include_directories(store_conformance PRIVATE
  ${PROJECT_SOURCE_DIR}/tests/unit)
if(TARGET msvc_mongo_static)
  target_compile_definitions(store_conformance PRIVATE MSVC_HAVE_MONGO=1)
  target_link_libraries(store_conformance PRIVATE msvc_mongo_static)
endif()
target_link_libraries(store_conformance PRIVATE msvc_static Threads::Threads)

set(MSVC_STORE_SQLITE_DB ${CMAKE_CURRENT_BINARY_DIR}/store/conformance.db)
add_test(NAME store.sqlite.clean COMMAND ${CMAKE_COMMAND} -E rm -f
  ${MSVC_STORE_SQLITE_DB} ${MSVC_STORE_SQLITE_DB}-wal
  ${MSVC_STORE_SQLITE_DB}-shm)
set_tests_properties(store.sqlite.clean PROPERTIES
  FIXTURES_SETUP store_sqlite_fresh)
add_test(NAME store.sqlite
  COMMAND store_conformance sqlite:${MSVC_STORE_SQLITE_DB})
set_tests_properties(store.sqlite PROPERTIES
  FIXTURES_REQUIRED store_sqlite_fresh TIMEOUT 300 LABELS store)
