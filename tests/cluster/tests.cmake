# A real multi-instance deployment (issue 11): tests/cluster/test_cluster.py
# starts two msvc-auth and two msvc-post on one FerretDB database (fixture
# "ferretdb" of tests/mongo/tests.cmake) behind nginx, configured from
# deploy/nginx/msvc.conf.template, and checks SIGKILLs and a rolling
# restart under load (cluster.faults), login throttling across instances
# and client addresses (cluster.throttle) and scripts/cluster.sh
# (cluster.script).  It reuses tests/http/harness.py.  Without nginx, Go
# (FerretDB) or the executables the cases skip (77), or fail with CI=true.
find_program(MSVC_PYTHON3 NAMES python3)
if(NOT MSVC_PYTHON3 OR NOT TARGET msvc-auth OR NOT TARGET msvc-post)
  return()
endif()
set(MSVC_CLUSTER_FERRETDB_SH ${CMAKE_CURRENT_LIST_DIR}/../mongo/ferretdb.sh)
if(NOT TARGET msvc_mongo_static OR NOT EXISTS ${MSVC_CLUSTER_FERRETDB_SH})
  return() # no MongoDB module, or no FerretDB fixture
endif()

set(MSVC_CLUSTER_ENV "MSVC_VECTORS_FILE=${MSVC_VECTORS_FILE}"
  "MSVC_AUTH_BIN=$<TARGET_FILE:msvc-auth>"
  "MSVC_POST_BIN=$<TARGET_FILE:msvc-post>")

foreach(case faults throttle script)
  string(SUBSTRING ${case} 0 1 first)
  string(TOUPPER ${first} first)
  string(SUBSTRING ${case} 1 -1 rest)
  add_test(NAME cluster.${case}
    COMMAND ${MSVC_CLUSTER_FERRETDB_SH} run ${CMAKE_BINARY_DIR}/ferretdb/run
      cluster ${MSVC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_cluster.py
      --database-url @URL@ Cluster${first}${rest})
  # The same lock as the HTTP suites: the cases share the machine's cores.
  set_tests_properties(cluster.${case} PROPERTIES
    ENVIRONMENT "${MSVC_CLUSTER_ENV}"
    FIXTURES_REQUIRED ferretdb
    TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS "cluster;mongo"
    RESOURCE_LOCK msvc_http)
endforeach()
