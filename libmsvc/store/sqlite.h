/* store/sqlite.h - internals of the SQLite backend that its tests inspect.
 *
 * Not installed.  The backend itself is reached through msvc_store_sqlite()
 * (msvc/store.h); this header only names the SQL it prepares, so that a
 * test can ask SQLite for each statement's query plan, gives the schema
 * version it migrates files to, and exposes the size of a store's
 * connection pool and its synchronous setting.
 */
#ifndef MSVC_STORE_SQLITE_H
#define MSVC_STORE_SQLITE_H

#include "internal.h"

/* PRAGMA user_version of the schema this library creates and reads: the
 * number of migration steps it knows.  A file at a lower version is
 * migrated forward at open; one at a higher version is refused. */
#define MSVC__SQLITE_SCHEMA_VERSION 3

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
  MSVC__SQL_SESSION_INSERT,
  MSVC__SQL_SESSION_FIND,
  MSVC__SQL_SESSION_BY_HASH,
  MSVC__SQL_SESSION_ROTATE,
  MSVC__SQL_SESSIONS_REVOKE_ONE,
  MSVC__SQL_SESSIONS_REVOKE_OTHERS,
  MSVC__SQL_SESSIONS_REVOKE_ALL,
  MSVC__SQL_SESSIONS_LIST,
  MSVC__SQL_EVENT_ADD,
  MSVC__SQL_EVENT_STATS,
  MSVC__SQL_EVENT_DELETE_ONE,
  MSVC__SQL_EVENT_DELETE_KEY,
  MSVC__SQL_EVENT_PRUNE,
  MSVC__SQL_CALLER_FIND,
  MSVC__SQL_POST_LIST_AUTHORS,
  MSVC__SQL_POST_LIST_AUTHORS_BY_USER,
  MSVC__SQL_POST_LIST_FIRST,
  MSVC__SQL_POST_LIST_BY_USER_FIRST,
  MSVC__SQL_POST_LIST_AUTHORS_FIRST,
  MSVC__SQL_POST_LIST_AUTHORS_BY_USER_FIRST,
  MSVC__SQL_COUNT
} msvc__sqlite_sql_t;

/* The text of statement `which`; a static string, NULL when out of range. */
const char *msvc__sqlite_sql(int which);

/* Connections an open SQLite store holds now, in use or idle; never more
 * than its configured bound.  -1 when store is not an SQLite store. */
int msvc__sqlite_open_connections(const msvc_store_t *store);

/* 1 when the store commits with synchronous=FULL, 0 with NORMAL (the
 * URL's ?synchronous=normal); -1 when store is not an SQLite store. */
int msvc__sqlite_synchronous_full(const msvc_store_t *store);

/* The context a store's open() returned (store.c); NULL for NULL. */
void *msvc__store_context(const msvc_store_t *store);

#endif
