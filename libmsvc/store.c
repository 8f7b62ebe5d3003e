/* store.c - choosing, opening and calling store backends.
 *
 * The core reaches a backend only through these wrappers, which check their
 * arguments once so that backends can trust them (non-NULL pointers, valid
 * 24-hex ids, limits in range).  An msvc_store_t is just the table and the
 * context its open() returned; it holds no other state.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct msvc_store {
  const msvc_store_methods_t *methods;
  void *ctx;
};

void msvc_store_config_init(msvc_store_config_t *cfg) {
  cfg->timeout_ms = 5000;
  cfg->connections = 0;
}

static int has_prefix(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

const msvc_store_methods_t *msvc_store_backend_for(const char *url) {
  if (url == NULL)
    return NULL;
  if (has_prefix(url, "mongodb://") || has_prefix(url, "mongodb+srv://"))
    return &msvc_store_mongo;
  return &msvc_store_sqlite;
}

int msvc_store_open(const char *url, const msvc_store_config_t *cfg,
                    msvc_store_t **out, char *errbuf, size_t errlen) {
  const msvc_store_methods_t *m = msvc_store_backend_for(url);
  if (m == NULL) {
    msvc__set_error(errbuf, errlen, "no database URL given");
    return MSVC_ECONFIG;
  }
  return msvc_store_open_with(m, url, cfg, out, errbuf, errlen);
}

int msvc_store_open_with(const msvc_store_methods_t *methods, const char *url,
                         const msvc_store_config_t *cfg, msvc_store_t **out,
                         char *errbuf, size_t errlen) {
  msvc_store_config_t defaults;
  msvc_store_t *s;
  int rc;
  *out = NULL;
  if (methods == NULL || methods->version != MSVC_STORE_VERSION ||
      url == NULL) {
    msvc__set_error(errbuf, errlen, "unusable store backend table");
    return MSVC_EINVAL;
  }
  if (cfg == NULL) {
    msvc_store_config_init(&defaults);
    cfg = &defaults;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return MSVC_ENOMEM;
  s->methods = methods;
  rc = methods->open(url, cfg, &s->ctx, errbuf, errlen);
  if (rc != 0) {
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void msvc_store_close(msvc_store_t *store) {
  if (store == NULL)
    return;
  store->methods->close(store->ctx);
  free(store);
}

const msvc_store_methods_t *msvc_store_get_methods(const msvc_store_t *store) {
  return store->methods;
}

void *msvc_store_get_context(const msvc_store_t *store) { return store->ctx; }

int msvc_store_reads_are_local(const msvc_store_t *store) {
  return (store->methods->flags & MSVC_STORE_LOCAL_READS) != 0;
}

static int id_ok(const char *id) {
  return id != NULL && msvc_id_valid(id, strlen(id));
}

int msvc_store_ping(msvc_store_t *s) { return s->methods->ping(s->ctx); }

int msvc_store_user_insert(msvc_store_t *s, const msvc_user_record_t *rec) {
  if (rec == NULL || !id_ok(rec->user.id) || rec->user.email == NULL ||
      rec->user.name == NULL || rec->password_hash == NULL)
    return MSVC_EINVAL;
  return s->methods->user_insert(s->ctx, rec);
}

int msvc_store_user_find_by_id(msvc_store_t *s, const char *id,
                               msvc_user_record_t *out) {
  if (out == NULL)
    return MSVC_EINVAL;
  if (!id_ok(id))
    return MSVC_ENOTFOUND;
  return s->methods->user_find_by_id(s->ctx, id, out);
}

int msvc_store_user_find_by_email(msvc_store_t *s, const char *email,
                                  msvc_user_record_t *out) {
  if (email == NULL || out == NULL)
    return MSVC_EINVAL;
  return s->methods->user_find_by_email(s->ctx, email, out);
}

int msvc_store_user_update(msvc_store_t *s, const msvc_user_record_t *rec) {
  if (rec == NULL || !id_ok(rec->user.id) || rec->user.email == NULL ||
      rec->user.name == NULL || rec->password_hash == NULL)
    return MSVC_EINVAL;
  return s->methods->user_update(s->ctx, rec);
}

int msvc_store_users_find_many(msvc_store_t *s, const msvc_id_t *ids, size_t n,
                               msvc_user_t *out, size_t *nout) {
  if (nout == NULL || (n > 0 && (ids == NULL || out == NULL)))
    return MSVC_EINVAL;
  *nout = 0;
  if (n == 0)
    return 0;
  return s->methods->users_find_many(s->ctx, ids, n, out, nout);
}

int msvc_store_post_insert(msvc_store_t *s, const msvc_post_t *post) {
  if (post == NULL || !id_ok(post->id) || !id_ok(post->user_id) ||
      post->title == NULL || post->content == NULL)
    return MSVC_EINVAL;
  return s->methods->post_insert(s->ctx, post);
}

int msvc_store_post_find(msvc_store_t *s, const char *id, msvc_post_t *out) {
  if (out == NULL)
    return MSVC_EINVAL;
  if (!id_ok(id))
    return MSVC_ENOTFOUND;
  return s->methods->post_find(s->ctx, id, out);
}

int msvc_store_post_update(msvc_store_t *s, const msvc_post_t *post) {
  if (post == NULL || !id_ok(post->id) || post->title == NULL ||
      post->content == NULL)
    return MSVC_EINVAL;
  return s->methods->post_update(s->ctx, post);
}

int msvc_store_post_delete(msvc_store_t *s, const char *id) {
  if (!id_ok(id))
    return MSVC_ENOTFOUND;
  return s->methods->post_delete(s->ctx, id);
}

int msvc_store_post_list(msvc_store_t *s, const msvc_post_query_t *q,
                         msvc_post_t *out, size_t *nout) {
  if (q == NULL || out == NULL || nout == NULL || q->limit == 0 ||
      q->limit > MSVC_LIST_MAX_LIMIT + 1)
    return MSVC_EINVAL;
  if (q->user_id[0] != '\0' && !id_ok(q->user_id))
    return MSVC_EINVAL;
  *nout = 0;
  return s->methods->post_list(s->ctx, q, out, nout);
}
