# Unit tests of the servers' pieces that do not need h2o.  The trusted
# proxies (tests/unit/test_server_proxies.c) and the worker pool
# (tests/unit/test_server_pool.c) is plain pthreads, and the configuration
# (tests/unit/test_config.c) plain C over the internal helpers: each test
# compiles its file of servers/ in directly rather than linking the
# h2o-based msvc_servers library.
if(TARGET test_server_pool)
  target_sources(test_server_pool PRIVATE ${PROJECT_SOURCE_DIR}/servers/pool.c)
  target_include_directories(test_server_pool PRIVATE ${PROJECT_SOURCE_DIR}/servers)
endif()
if(TARGET test_config)
  target_sources(test_config PRIVATE ${PROJECT_SOURCE_DIR}/servers/config.c
    ${PROJECT_SOURCE_DIR}/servers/proxies.c)
  target_include_directories(test_config PRIVATE ${PROJECT_SOURCE_DIR}/servers)
endif()
if(TARGET test_server_proxies)
  target_sources(test_server_proxies PRIVATE ${PROJECT_SOURCE_DIR}/servers/proxies.c)
  target_include_directories(test_server_proxies PRIVATE ${PROJECT_SOURCE_DIR}/servers)
endif()
