# The worker pool of the servers is plain pthreads, independent of h2o: its
# unit test (tests/unit/test_server_pool.c) compiles servers/pool.c in
# directly rather than linking the h2o-based server library.
if(TARGET test_server_pool)
  target_sources(test_server_pool PRIVATE ${PROJECT_SOURCE_DIR}/servers/pool.c)
  target_include_directories(test_server_pool PRIVATE ${PROJECT_SOURCE_DIR}/servers)
endif()
