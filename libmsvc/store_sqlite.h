/* store_sqlite.h - internals of the SQLite backend that its tests inspect.
 *
 * Not installed.  The backend itself is the public table msvc_store_sqlite
 * (msvc/store.h); this header only names the SQL it prepares, so that a
 * test can ask SQLite for each statement's query plan, and exposes the
 * size of a store's connection pool.
 */
#ifndef MSVC_STORE_SQLITE_H
#define MSVC_STORE_SQLITE_H

#include "internal.h"

/* PRAGMA user_version of the schema this library creates and reads. */
#define MSVC__SQLITE_SCHEMA_VERSION 1

/* The statements every pooled connection prepares once and keeps. */
typedef enum msvc__sqlite_sql {
  MSVC__SQL_PING,
  MSVC__SQL_USER_INSERT,
  MSVC__SQL_USER_BY_ID,
  MSVC__SQL_USER_BY_EMAIL,
  MSVC__SQL_USER_UPDATE,
  MSVC__SQL_USERS_MANY,
  MSVC__SQL_POST_INSERT,
  MSVC__SQL_POST_FIND,
  MSVC__SQL_POST_UPDATE,
  MSVC__SQL_POST_DELETE,
  MSVC__SQL_POST_LIST,
  MSVC__SQL_POST_LIST_BY_USER,
  MSVC__SQL_COUNT
} msvc__sqlite_sql_t;

/* The text of statement `which`; a static string, NULL when out of range. */
const char *msvc__sqlite_sql(int which);

/* Connections a store context (from msvc_store_sqlite.open) holds open
 * now, in use or idle; never more than its configured bound. */
int msvc__sqlite_open_connections(void *ctx);

#endif
