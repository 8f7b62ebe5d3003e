/* msvc/mongo.h - the MongoDB store backend (module libmsvc-mongo).
 *
 * Link with `pkg-config --libs libmsvc-mongo` (CMake: msvc::mongo).  The
 * backend serves the seed's collections (User, Post) through mongo-c-driver
 * with one client pool per open store.
 *
 * Process-wide state: the module never touches mongoc's log handler (the
 * driver logs through its default handler, or through the one your program
 * installs with mongoc_log_set_handler()).  It calls mongoc_init() once, at
 * the first open (pthread_once), and never mongoc_cleanup(): the driver
 * cannot be initialised again after a cleanup, and other code in your
 * process may be using it.  Call mongoc_cleanup() yourself at exit, after
 * closing every store, if you want the driver's memory released.
 *
 * Thread safety: every function here, and every method of the table, may
 * be called from any thread.
 */
#ifndef MSVC_MONGO_H
#define MSVC_MONGO_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend's table (static; never NULL). */
MSVC_EXTERN const msvc_store_methods_t *msvc_store_mongo(void);

/* Registers the schemes "mongodb" and "mongodb+srv" with
 * msvc_store_register().  Calling it again is harmless (0).  MSVC_EEXIST
 * when another table already holds one of the schemes; MSVC_ENOMEM. */
MSVC_EXTERN int msvc_mongo_register(void);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_MONGO_H */
