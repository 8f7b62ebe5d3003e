/* counting_store.c - your own store backend, registered by URL scheme.
 *
 * "counting:sqlite:counting.db" opens the SQLite store underneath and
 * counts every call made to it: a wrapper of the kind you would write to
 * add metrics, tracing or fault injection to any backend.  The table only
 * forwards, through the msvc_store_*() wrappers, which accept exactly what
 * the methods receive.  Methods a table leaves NULL answer
 * MSVC_EUNSUPPORTED; this one fills them all.
 *
 *   cc -std=c11 counting_store.c $(pkg-config --cflags --libs libmsvc)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msvc.h>

#define PREFIX "counting:"

typedef struct counting {
  msvc_store_t *inner;
  unsigned long reads, writes;
} counting_t;

static int counting_open(const char *url, const msvc_store_config_t *cfg,
                         void **ctx, char *errbuf, size_t errlen) {
  counting_t *c = (counting_t *)calloc(1, sizeof(*c));
  int rc;
  if (c == NULL)
    return MSVC_ENOMEM;
  /* Whatever follows the scheme is the URL of the store to wrap. */
  rc = msvc_store_open(url + strlen(PREFIX), cfg, &c->inner, errbuf, errlen);
  if (rc != 0) {
    free(c);
    return rc;
  }
  *ctx = c;
  return 0;
}

static void counting_close(void *ctx) {
  counting_t *c = (counting_t *)ctx;
  printf("counting store: %lu reads, %lu writes\n", c->reads, c->writes);
  msvc_store_close(c->inner);
  free(c);
}

static int counting_ping(void *ctx) {
  return msvc_store_ping(((counting_t *)ctx)->inner);
}

#define READ(ctx) (((counting_t *)(ctx))->reads++, ((counting_t *)(ctx))->inner)
#define WRITE(ctx)                                                             \
  (((counting_t *)(ctx))->writes++, ((counting_t *)(ctx))->inner)

static int user_insert(void *ctx, const msvc_user_record_t *rec) {
  return msvc_store_user_insert(WRITE(ctx), rec);
}
static int user_find_by_id(void *ctx, const char *id, msvc_user_record_t *out) {
  return msvc_store_user_find_by_id(READ(ctx), id, out);
}
static int user_find_by_email(void *ctx, const char *email,
                              msvc_user_record_t *out) {
  return msvc_store_user_find_by_email(READ(ctx), email, out);
}
static int user_update(void *ctx, const msvc_user_record_t *rec) {
  return msvc_store_user_update(WRITE(ctx), rec);
}
static int users_find_many(void *ctx, const msvc_id_t *ids, size_t n,
                           msvc_user_t *const *out, size_t *nout) {
  return msvc_store_users_find_many(READ(ctx), ids, n, out, nout);
}
static int post_insert(void *ctx, const msvc_post_t *post) {
  return msvc_store_post_insert(WRITE(ctx), post);
}
static int post_find(void *ctx, const char *id, msvc_post_t *out) {
  return msvc_store_post_find(READ(ctx), id, out);
}
static int post_update(void *ctx, const msvc_post_t *post) {
  return msvc_store_post_update(WRITE(ctx), post);
}
static int post_delete(void *ctx, const char *id) {
  return msvc_store_post_delete(WRITE(ctx), id);
}
static int post_list(void *ctx, const msvc_post_query_t *q,
                     msvc_post_t *const *out, size_t *nout) {
  return msvc_store_post_list(READ(ctx), q, out, nout);
}

/* The table, filled field by field (the same in C and C++, and a table of
 * an older layout is just one that leaves later methods NULL).  Version 2
 * is the table as libmsvc 0.2.0 first defined it, without the six session
 * methods version 3 appended: the library keeps accepting older tables and
 * runs with sessions off on such a store.  Forward those six too and say
 * MSVC_STORE_VERSION to get sessions. */
static msvc_store_methods_t counting_methods;

static void fill_methods(msvc_store_methods_t *m) {
  memset(m, 0, sizeof(*m));
  m->version = 2;
  m->name = "counting";
  m->flags = 0; /* reads may wait: no MSVC_STORE_LOCAL_READS */
  m->open = counting_open;
  m->close = counting_close;
  m->ping = counting_ping;
  m->user_insert = user_insert;
  m->user_find_by_id = user_find_by_id;
  m->user_find_by_email = user_find_by_email;
  m->user_update = user_update;
  m->users_find_many = users_find_many;
  m->post_insert = post_insert;
  m->post_find = post_find;
  m->post_update = post_update;
  m->post_delete = post_delete;
  m->post_list = post_list;
}

int main(void) {
  static const char secret[] = "yet another secret of 32 bytes or more";
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_options_t *opts = NULL;
  msvc_t *svc = NULL;
  char err[256] = "";
  int rc;
  fill_methods(&counting_methods);
  rc = msvc_store_register("counting", &counting_methods);
  if (rc == 0)
    rc = msvc_options_new(&opts);
  if (rc == 0)
    rc = msvc_options_set_database_url(opts, PREFIX "sqlite:counting.db");
  if (rc == 0)
    rc = msvc_options_set_jwt_secret(opts, secret, strlen(secret));
  if (rc == 0)
    rc = msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 4);
  if (rc == 0)
    rc = msvc_open(opts, &svc, err, sizeof err);
  msvc_options_free(opts);
  if (rc != 0) {
    fprintf(stderr, "counting_store: %s %s\n", msvc_strerror(rc), err);
    return 1;
  }
  in.name = "Edsger";
  in.email = "edsger@example.com";
  in.password = "goto considered harmful";
  rc = msvc_register(svc, NULL, &in, NULL, NULL); /* 1 write */
  if (rc == 0)
    rc = msvc_login(svc, NULL, &in, NULL, NULL, NULL); /* 1 read */
  if (rc != 0)
    fprintf(stderr, "counting_store: %s\n", msvc_strerror(rc));
  msvc_close(svc); /* prints the counts */
  msvc_store_unregister("counting");
  return rc != 0;
}
