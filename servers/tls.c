/* tls.c - the listener's SSL_CTX: built from PEM files, checked, swapped on
 * reload.  See tls.h for what is offered and why old contexts linger.
 *
 * Invariants: `current` is never NULL once open; `gen` changes (under the
 * lock) every time `current` does, so a loop that saw the same gen holds
 * the current context; a replaced context sits in `retired` until
 * MSVC_TLS_RETIRE_MS have passed (longer than h2o's handshake timeout, the
 * longest a socket keeps the bare pointer) and is freed by a later reload or
 * by msvc_tls_free.
 */
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <h2o.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/* TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (Mozilla's
 * "intermediate" list without DHE); TLS 1.3 keeps OpenSSL's defaults,
 * which are all AEAD. */
#define TLS12_CIPHERS                                                          \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                 \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                 \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Server preference: HTTP/2 first.  h2o keeps the pointer (static). */
static const h2o_iovec_t alpn_protocols[] = {
    {H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};

typedef struct retired_ctx {
  SSL_CTX *ctx;
  int64_t at_ms;
} retired_ctx_t;

struct msvc_tls {
  char *cert_file;
  char *key_file;
  pthread_mutex_t lock; /* guards current, gen's changes and retired */
  SSL_CTX *current;
  unsigned gen; /* read without the lock (atomic) */
  retired_ctx_t *retired;
  size_t nretired;
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last OpenSSL reason, for messages; clears the queue. */
static const char *ssl_reason(void) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
  ERR_clear_error();
  return r != NULL ? r : "unknown OpenSSL error";
}

/* 0 when path can be opened and read, else the reason in errbuf. */
static int check_readable(const char *what, const char *path, char *errbuf,
                          size_t errlen) {
  FILE *f = fopen(path, "r");
  int err = 0;
  if (f == NULL) {
    err = errno;
  } else {
    if (getc(f) == EOF && ferror(f))
      err = errno ? errno : EIO;
    fclose(f);
  }
  if (err == 0)
    return 0;
  snprintf(errbuf, errlen, "cannot read the TLS %s %s: %s", what, path,
           strerror(err));
  return -1;
}

static void format_time(const ASN1_TIME *t, char *buf, size_t len) {
  struct tm tm;
  if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
      strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    snprintf(buf, len, "%s", "(unknown time)");
}

/* The leaf certificate must be valid now. */
static int check_validity(SSL_CTX *ctx, const char *path, char *errbuf,
                          size_t errlen) {
  X509 *cert = SSL_CTX_get0_certificate(ctx);
  char when[64];
  if (cert == NULL) {
    snprintf(errbuf, errlen, "the TLS certificate %s holds no certificate",
             path);
    return -1;
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
    format_time(X509_get0_notAfter(cert), when, sizeof(when));
    snprintf(errbuf, errlen, "the TLS certificate %s expired on %s", path,
             when);
    return -1;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
    format_time(X509_get0_notBefore(cert), when, sizeof(when));
    snprintf(errbuf, errlen, "the TLS certificate %s is not valid before %s",
             path, when);
    return -1;
  }
  return 0;
}

static SSL_CTX *build_ctx(const char *cert, const char *key, char *errbuf,
                          size_t errlen) {
  SSL_CTX *ctx;
  if (check_readable("certificate", cert, errbuf, errlen) != 0 ||
      check_readable("key", key, errbuf, errlen) != 0)
    return NULL;
  ERR_clear_error();
  ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL) {
    snprintf(errbuf, errlen, "cannot create a TLS context: %s", ssl_reason());
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                               SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION |
                               SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
    snprintf(errbuf, errlen, "cannot set the TLS ciphers: %s", ssl_reason());
    goto fail;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
    snprintf(errbuf, errlen,
             "the TLS certificate %s is not a PEM certificate (chain): %s",
             cert, ssl_reason());
    goto fail;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    const char *why = ssl_reason();
    /* OpenSSL checks the pair here already when it can. */
    if (strstr(why, "mismatch") != NULL)
      snprintf(errbuf, errlen,
               "the TLS key %s does not match the certificate %s", key, cert);
    else
      snprintf(errbuf, errlen, "the TLS key %s is not a PEM private key: %s",
               key, why);
    goto fail;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    snprintf(errbuf, errlen, "the TLS key %s does not match the certificate %s",
             key, cert);
    goto fail;
  }
  if (check_validity(ctx, cert, errbuf, errlen) != 0)
    goto fail;
  h2o_ssl_register_alpn_protocols(ctx, alpn_protocols);
  return ctx;
fail:
  SSL_CTX_free(ctx);
  return NULL;
}

int msvc_tls_open(const msvc_config_t *cfg, msvc_tls_t **out, char *errbuf,
                  size_t errlen) {
  msvc_tls_t *tls;
  *out = NULL;
  if (cfg->tls_cert == NULL && cfg->tls_key == NULL)
    return 0;
  if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
    snprintf(errbuf, errlen, "%s",
             cfg->tls_cert == NULL
                 ? "TLS_KEY (--tls-key) needs TLS_CERT (--tls-cert)"
                 : "TLS_CERT (--tls-cert) needs TLS_KEY (--tls-key)");
    return MSVC_ECONFIG;
  }
  tls = calloc(1, sizeof(*tls));
  if (tls == NULL || (tls->cert_file = strdup(cfg->tls_cert)) == NULL ||
      (tls->key_file = strdup(cfg->tls_key)) == NULL) {
    if (tls != NULL) {
      free(tls->cert_file);
      free(tls);
    }
    snprintf(errbuf, errlen, "%s", "out of memory");
    return MSVC_ENOMEM;
  }
  pthread_mutex_init(&tls->lock, NULL);
  tls->current = build_ctx(tls->cert_file, tls->key_file, errbuf, errlen);
  if (tls->current == NULL) {
    msvc_tls_free(tls);
    return MSVC_ECONFIG;
  }
  *out = tls;
  return 0;
}

/* Frees the retired contexts older than the retirement period (all of them
 * with `all`).  Under the lock. */
static void release_retired(msvc_tls_t *tls, int all) {
  int64_t now = now_ms();
  size_t kept = 0;
  for (size_t i = 0; i < tls->nretired; i++) {
    if (all || now - tls->retired[i].at_ms >= MSVC_TLS_RETIRE_MS)
      SSL_CTX_free(tls->retired[i].ctx);
    else
      tls->retired[kept++] = tls->retired[i];
  }
  tls->nretired = kept;
}

int msvc_tls_reload(msvc_tls_t *tls, char *errbuf, size_t errlen) {
  SSL_CTX *fresh;
  retired_ctx_t *grown;
  if (tls == NULL)
    return MSVC_EINVAL;
  fresh = build_ctx(tls->cert_file, tls->key_file, errbuf, errlen);
  if (fresh == NULL)
    return MSVC_ECONFIG;
  pthread_mutex_lock(&tls->lock);
  release_retired(tls, 0);
  grown = realloc(tls->retired, (tls->nretired + 1) * sizeof(*grown));
  if (grown == NULL) {
    pthread_mutex_unlock(&tls->lock);
    SSL_CTX_free(fresh);
    snprintf(errbuf, errlen, "%s", "out of memory");
    return MSVC_ENOMEM;
  }
  tls->retired = grown;
  tls->retired[tls->nretired].ctx = tls->current;
  tls->retired[tls->nretired].at_ms = now_ms();
  tls->nretired++;
  tls->current = fresh;
  __atomic_add_fetch(&tls->gen, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&tls->lock);
  return 0;
}

SSL_CTX *msvc_tls_ctx(msvc_tls_t *tls, unsigned *gen, SSL_CTX *cached) {
  SSL_CTX *ctx;
  if (cached != NULL && __atomic_load_n(&tls->gen, __ATOMIC_ACQUIRE) == *gen)
    return cached;
  pthread_mutex_lock(&tls->lock);
  ctx = tls->current;
  *gen = tls->gen;
  pthread_mutex_unlock(&tls->lock);
  return ctx;
}

void msvc_tls_describe(msvc_tls_t *tls, char *buf, size_t len) {
  X509 *cert;
  char subject[256] = "?", until[64];
  pthread_mutex_lock(&tls->lock);
  cert = SSL_CTX_get0_certificate(tls->current);
  if (cert != NULL)
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
  format_time(cert ? X509_get0_notAfter(cert) : NULL, until, sizeof(until));
  pthread_mutex_unlock(&tls->lock);
  snprintf(buf, len, "TLS 1.2+ with %s (%s, valid until %s); ALPN h2, http/1.1",
           tls->cert_file, subject, until);
}

void msvc_tls_free(msvc_tls_t *tls) {
  if (tls == NULL)
    return;
  pthread_mutex_lock(&tls->lock);
  release_retired(tls, 1);
  pthread_mutex_unlock(&tls->lock);
  SSL_CTX_free(tls->current);
  pthread_mutex_destroy(&tls->lock);
  free(tls->retired);
  free(tls->cert_file);
  free(tls->key_file);
  free(tls);
}
