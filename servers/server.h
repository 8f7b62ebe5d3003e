/* server.h - threads, the listening socket and the process lifecycle.
 *
 * config.threads event-loop threads, each with its own listening socket
 * in one SO_REUSEPORT group (bound before they start, after a plain probe
 * bind, so a stale process on the port is an error rather than a silent
 * member of the group).  Each
 * loop has its own h2o context over the one h2o configuration of the
 * msvc_http_t.  SIGTERM or SIGINT starts a graceful shutdown: stop
 * accepting, let in-flight requests finish (at most cfg->drain_timeout
 * seconds; past it the jobs still queued are dropped and only the running
 * ones, a password hash at most per worker, are waited for), close the
 * idle keep-alive connections, then return.  SIGHUP reads the
 * TLS certificate and key again (tls.h) without dropping a connection.
 */
#ifndef MSVC_SERVER_SERVER_H
#define MSVC_SERVER_SERVER_H

#include "http.h"

/* The drain deadline when cfg->drain_timeout (DRAIN_TIMEOUT) is 0. */
#define MSVC_SERVER_DRAIN_MS 10000

/* Ignores SIGPIPE and blocks SIGTERM/SIGINT/SIGHUP in the calling thread, so
 * that every thread started afterwards (workers, loops) inherits the mask and
 * only msvc_server_run receives them.  Call first thing in main(). */
void msvc_server_prepare_process(void);

/* SIGTERM or SIGINT when one is pending (blocked since
 * msvc_server_prepare_process, not yet taken), else 0: start-up checks it
 * between its steps, so that a stop asked for while the store opens or
 * the dummy hash runs is honoured right after that step. */
int msvc_server_stop_pending(void);

/* Binds cfg->host:cfg->port, serves until SIGTERM/SIGINT, shuts down
 * gracefully.  Stops the app's pools on the way out (so that jobs still
 * out reach a loop that exists).  0 after a clean stop; 1 when it could not
 * start (the reason is logged); 2 when the drain deadline passed with
 * requests or connections left (the loops are then left undisposed: the
 * caller should close the app and exit without freeing `http`). */
int msvc_server_run(msvc_http_t *http, const msvc_config_t *cfg);

#endif
