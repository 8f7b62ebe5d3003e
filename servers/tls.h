/* tls.h - TLS (and with it HTTP/2) on the listener.
 *
 * With --tls-cert and --tls-key (TLS_CERT / TLS_KEY, PEM files) every
 * loop's h2o accept context points at one OpenSSL SSL_CTX: TLS 1.2 and
 * later only, forward-secret AEAD ciphers for TLS 1.2 (OpenSSL's defaults
 * for TLS 1.3), no compression or renegotiation, and ALPN offering "h2"
 * then "http/1.1" (h2o runs HTTP/2 when "h2" is chosen, HTTP/1.1 for
 * anything else, no ALPN included).  Cleartext HTTP/2 stays off.
 *
 * A certificate that cannot be read, is not valid now (expired or not yet
 * valid) or does not match the key is refused with a readable reason, at
 * start and on reload alike.
 *
 * Reload (SIGHUP): a new SSL_CTX is built from the same files; when that
 * works it becomes current and new connections get it, while connections
 * already open keep theirs (each OpenSSL SSL holds a reference on its
 * SSL_CTX).  h2o 2.2.5 keeps the SSL_CTX pointer of an accepted socket
 * without a reference until the first bytes of its handshake arrive
 * (sock->ssl->ssl_ctx, SSL_new in create_ossl), bounded by the handshake
 * timeout (10 s): so the replaced context is only released once it has
 * been retired for MSVC_TLS_RETIRE_MS, or when the server is freed.  When
 * the new files are bad, the old context stays and the reason is logged.
 *
 * Loops read the current context with msvc_tls_ctx() before each
 * h2o_accept: one atomic load when nothing changed.
 */
#ifndef MSVC_SERVER_TLS_H
#define MSVC_SERVER_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "config.h"

#define MSVC_TLS_RETIRE_MS 60000

typedef struct msvc_tls msvc_tls_t;

/* TLS for cfg's --tls-cert/--tls-key: *out is NULL (and 0 returned) when
 * neither is set; one without the other, or a bad certificate or key,
 * is MSVC_ECONFIG with the reason in errbuf. */
int msvc_tls_open(const msvc_config_t *cfg, msvc_tls_t **out, char *errbuf,
                  size_t errlen);

/* Reads the files again (SIGHUP); 0 when the new context is current, else
 * an MSVC_E* code with the reason in errbuf and the old one kept.  Also
 * releases contexts retired long enough ago.  Main thread. */
int msvc_tls_reload(msvc_tls_t *tls, char *errbuf, size_t errlen);

/* The context new connections must get: `cached` when *gen is still
 * current, else the current one (and *gen updated).  Any thread. */
SSL_CTX *msvc_tls_ctx(msvc_tls_t *tls, unsigned *gen, SSL_CTX *cached);

/* One line about the certificate in use: subject and expiry. */
void msvc_tls_describe(msvc_tls_t *tls, char *buf, size_t len);

/* Releases every context; only once no loop can accept any more and no
 * connection is left (after a clean stop).  NULL is allowed. */
void msvc_tls_free(msvc_tls_t *tls);

#endif
