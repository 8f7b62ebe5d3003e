/* http_resolver.c - the individual, batch and cached HTTP user resolvers.
 *
 * A resolve() call turns the distinct, valid ids it was given (sorted, so
 * they can be found again by bsearch) into lookups, sends the requests that
 * answer them (one GET per id, or one POST per MSVC__GET_USERS_MAX ids, on
 * the routes of wire/routes.h) through the libcurl transport
 * (transport.c), and places each answered lookup into every slot that
 * asked for its id.  Answers are read through the project's one strict
 * JSON path (msvc__json_parse_strict).  Invariants:
 *  - a user is only ever stored under the id it carries in the answer, and
 *    only when that id was asked for: an upstream cannot put another user's
 *    details under an id;
 *  - an answer is applied whole or not at all, so a retried request never
 *    mixes two upstreams' views;
 *  - every endpoint chosen for a request gets its outcome reported, which
 *    also releases a probe it was given;
 *  - the whole call (both attempts) fits within timeout_ms: the first
 *    attempt gets half of it when another endpoint could take a retry.
 * Endpoint health (consecutive failures, time of the last one, a pending
 * probe) and the round-robin cursor sit under one mutex held only for those
 * few fields; counters are atomics; the cached strategy's map has its own
 * lock (cache.c).  When a call fails, the last upstream failure it saw
 * ("http://h:p: Connection refused") is left with msvc_set_error_detail().
 * msvc__http_resolver_apply_answer (answer.h) runs the reading half, from
 * lookups to placed users, on an answer given by hand (tests, fuzzing).
 */
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "msvc/http_resolver.h"
#include "resolver/http/answer.h"
#include "resolver/http/cache.h"
#include "resolver/http/transport.h"
#include "wire/json.h"
#include "wire/routes.h"

#define BATCH_MAX MSVC__GET_USERS_MAX /* ids per POST: the contract's cap */
#define ABSENT_TTL_MAX_MS 10000 /* how long "no such user" is remembered */
#define NAME_MAX_BYTES (MSVC_NAME_MAX_CHARS * 4) /* 100 UTF-8 characters */
#define TOKEN_MAX_BYTES 8192
#define REQUEST_ID_MAX_BYTES 200
#define NO_EP ((size_t)-1)

typedef struct endpoint {
  char *base;        /* "scheme://host[:port]", owned */
  int fails;         /* consecutive failures */
  int64_t failed_ms; /* when the last failure happened */
  int probing;       /* one request is testing whether it is back */
  /* For monitoring (msvc_resolver_endpoint), outside the lock. */
  _Atomic uint64_t requests, failures, latency_us;
} endpoint_t;

typedef struct http_resolver {
  int timeout_ms;
  int fail_threshold;
  int probe_interval_ms;
  int64_t ttl_ms;
  int64_t absent_ttl_ms;
  msvc_credential_fn credential;
  void *credential_arg;
  msvc__http_t *http;
  pthread_mutex_t lock; /* eps[].fails, .failed_ms, .probing and rr */
  endpoint_t *eps;
  size_t neps;
  size_t rr;
  msvc__user_cache_t *cache; /* cached strategy only */
  _Atomic uint64_t hits, misses, requests, failures;
} http_resolver_t;

/* ---- configuration ---- */

void msvc_http_resolver_config_init(msvc_http_resolver_config_t *c) {
  if (c == NULL)
    return;
  memset(c, 0, sizeof(*c));
  c->size = sizeof(*c);
  c->strategy = MSVC_RESOLVER_CACHED;
  c->timeout_ms = 1000;
  c->cache_size = 10000;
  c->cache_ttl_s = 60;
  c->fail_threshold = 2;
  c->probe_interval_ms = 1000;
}

int msvc_resolver_strategy_parse(const char *s, msvc_resolver_strategy_t *out) {
  static const struct {
    const char *name;
    msvc_resolver_strategy_t strategy;
  } names[] = {{"individual", MSVC_RESOLVER_INDIVIDUAL},
               {"batch", MSVC_RESOLVER_BATCH},
               {"cached", MSVC_RESOLVER_CACHED}};
  if (s == NULL || out == NULL)
    return MSVC_EINVAL;
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(names); i++) {
    if (strcasecmp(s, names[i].name) == 0) {
      *out = names[i].strategy;
      return 0;
    }
  }
  return MSVC_EINVAL;
}

static int check_config(const msvc_http_resolver_config_t *c, char *errbuf,
                        size_t errlen) {
  const char *why = NULL;
  int cached = c->strategy == MSVC_RESOLVER_CACHED;
  if (c->strategy != MSVC_RESOLVER_INDIVIDUAL &&
      c->strategy != MSVC_RESOLVER_BATCH && !cached)
    why = "unknown resolver strategy";
  else if (c->timeout_ms < 1)
    why = "timeout_ms must be at least 1";
  else if (cached && c->cache_size < 1)
    why = "cache_size must be at least 1";
  else if (cached && c->cache_ttl_s < 1)
    why = "cache_ttl_s must be at least 1";
  else if (c->fail_threshold < 1)
    why = "fail_threshold must be at least 1";
  else if (c->probe_interval_ms < 0)
    why = "probe_interval_ms must not be negative";
  if (why == NULL)
    return 0;
  msvc__set_error(errbuf, errlen, "%s", why);
  return MSVC_ECONFIG;
}

/* "url[, url...]" into the endpoint table. */
static int parse_urls(http_resolver_t *hr, const char *urls, char *errbuf,
                      size_t errlen) {
  char *bases[MSVC__HTTP_MAX_BASES];
  size_t n = 0;
  int rc = msvc__http_base_list_parse(urls, bases, &n, errbuf, errlen);
  if (rc == 0 && (hr->eps = calloc(n, sizeof(*hr->eps))) == NULL)
    rc = MSVC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (rc == 0)
      hr->eps[hr->neps++].base = bases[i];
    else
      free(bases[i]);
  }
  return rc;
}

/* ---- endpoint health ---- */

/* Least recently failed endpoint other than avoid, or NO_EP.  Lock held. */
static size_t least_recently_failed(const http_resolver_t *hr, size_t avoid) {
  size_t pick = NO_EP;
  for (size_t i = 0; i < hr->neps; i++)
    if (i != avoid &&
        (pick == NO_EP || hr->eps[i].failed_ms < hr->eps[pick].failed_ms))
      pick = i;
  return pick;
}

/* The endpoint for the next request: round-robin over the healthy ones.  A
 * skipped endpoint whose probe interval has passed is given to one request
 * at a time; when every endpoint is skipped, the least recently failed one
 * is tried anyway.  avoid is the endpoint that just failed (or NO_EP). */
static size_t ep_pick(http_resolver_t *hr, size_t avoid, int64_t now) {
  size_t pick = NO_EP;
  pthread_mutex_lock(&hr->lock);
  for (size_t k = 0; k < hr->neps && pick == NO_EP; k++) {
    size_t i = (hr->rr + k) % hr->neps;
    endpoint_t *e = &hr->eps[i];
    if (i == avoid)
      continue;
    if (e->fails < hr->fail_threshold) {
      pick = i;
    } else if (!e->probing && now - e->failed_ms >= hr->probe_interval_ms) {
      e->probing = 1;
      pick = i;
    }
  }
  if (pick != NO_EP)
    hr->rr = (pick + 1) % hr->neps;
  else
    pick = least_recently_failed(hr, avoid);
  pthread_mutex_unlock(&hr->lock);
  return pick;
}

static void ep_report(http_resolver_t *hr, size_t i, int healthy, int64_t now) {
  endpoint_t *e = &hr->eps[i];
  pthread_mutex_lock(&hr->lock);
  e->probing = 0;
  if (healthy) {
    e->fails = 0;
  } else {
    if (e->fails < INT_MAX)
      e->fails++;
    e->failed_ms = now;
  }
  pthread_mutex_unlock(&hr->lock);
}

/* ---- request headers ---- */

/* Printable ASCII from `lowest` up, at most max bytes: safe in a header. */
static int header_value_ok(const char *s, size_t max, unsigned char lowest) {
  size_t n = 0;
  for (; s[n]; n++)
    if ((unsigned char)s[n] < lowest || (unsigned char)s[n] > 0x7e)
      return 0;
  return n > 0 && n <= max;
}

/* The headers every lookup carries, as the transport takes them. */
typedef struct headers {
  const char *list[5]; /* NULL-terminated */
  char *auth;          /* "Authorization: Bearer ...", owned */
  char *rid;           /* "X-Request-Id: ...", owned */
} headers_t;

static void headers_free(headers_t *h) {
  free(h->auth);
  free(h->rid);
  memset(h, 0, sizeof(*h));
}

/* prefix + value in memory from malloc(), or NULL. */
static char *concat(const char *prefix, const char *value) {
  size_t len = strlen(prefix) + strlen(value) + 1;
  char *line = malloc(len);
  if (line != NULL)
    snprintf(line, len, "%s%s", prefix, value);
  return line;
}

/* A request id that could not travel safely is left out; a token that
 * could not is an error (MSVC_EUNAVAIL: the call cannot be made as
 * configured). */
static int make_headers(http_resolver_t *hr, const char *request_id,
                        int json_body, headers_t *h) {
  char *token = hr->credential ? hr->credential(hr->credential_arg) : NULL;
  int rid =
      request_id && header_value_ok(request_id, REQUEST_ID_MAX_BYTES, 0x21);
  size_t n = 0;
  int rc = 0;
  memset(h, 0, sizeof(*h));
  if (token != NULL && !header_value_ok(token, TOKEN_MAX_BYTES, 0x21)) {
    msvc_set_error_detail("the credential cannot travel in an HTTP header");
    free(token);
    return MSVC_EUNAVAIL;
  }
  if (token != NULL &&
      (h->auth = concat("Authorization: Bearer ", token)) == NULL)
    rc = MSVC_ENOMEM;
  if (rid && (h->rid = concat("X-Request-Id: ", request_id)) == NULL)
    rc = MSVC_ENOMEM;
  free(token);
  h->list[n++] = "Accept: application/json";
  if (json_body)
    h->list[n++] = "Content-Type: application/json";
  if (h->auth != NULL)
    h->list[n++] = h->auth;
  if (h->rid != NULL)
    h->list[n++] = h->rid;
  h->list[n] = NULL;
  if (rc != 0)
    headers_free(h);
  return rc;
}

/* ---- lookups ---- */

enum { LK_FAILED = 0, LK_FOUND, LK_ABSENT };

typedef struct lookup {
  char id[MSVC_ID_SIZE]; /* lower-case */
  int state;
  msvc_user_t user;    /* when LK_FOUND (internal: the library's own sizeof) */
  msvc_user_t *placed; /* the answer slot user's strings moved to */
} lookup_t;

/* Lower-cases a valid id into key; 0 when it is not an id. */
static int id_key(const char *hex, char key[MSVC_ID_SIZE]) {
  size_t len = strnlen(hex, MSVC_ID_SIZE);
  if (!msvc_id_valid(hex, len))
    return 0;
  memcpy(key, hex, MSVC_ID_SIZE);
  msvc__hex_lower(key, MSVC_ID_LEN);
  return 1;
}

static int lookup_cmp(const void *a, const void *b) {
  return strcmp(((const lookup_t *)a)->id, ((const lookup_t *)b)->id);
}

static int key_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static lookup_t *lookup_find(lookup_t *lk, size_t n, const char *key) {
  return bsearch(key, lk, n, sizeof(*lk), lookup_cmp);
}

/* Up to this many ids (a page of 20, or 100) are sorted in arrays on the
 * stack, and a caller may keep its lookups there too: large requests to
 * malloc cost a consolidation of its free lists each. */
#define LOCAL_LOOKUPS 104
/* The lookups the cached resolver keeps on its stack: a default page's 20
 * authors and more (about 4 KiB). */
#define PAGE_LOOKUPS 32

/* Sorts the distinct valid ids of ids[0..n) into lk (zeroed, room for n);
 * returns how many. */
static size_t distinct_sorted(const msvc_id_t *ids, size_t n,
                              char (*keys)[MSVC_ID_SIZE], const char **order,
                              lookup_t *lk) {
  size_t k = 0, m = 0;
  for (size_t i = 0; i < n; i++)
    if (id_key(ids[i].hex, keys[k])) {
      order[k] = keys[k];
      k++;
    }
  qsort(order, k, sizeof(*order), key_cmp);
  for (size_t i = 0; i < k; i++)
    if (m == 0 || strcmp(lk[m - 1].id, order[i]) != 0)
      memcpy(lk[m++].id, order[i], MSVC_ID_SIZE);
  return m;
}

/* The distinct valid ids of ids[0..n), sorted, in *lk: buf when it has
 * room for n (cap), else a new array; lookups_free(*lk, *m, buf) releases
 * it.  Pointers to the keys are sorted, not the lookups (whose users make
 * them large to move). */
static int lookups_make(const msvc_id_t *ids, size_t n, lookup_t *buf,
                        size_t cap, lookup_t **lk, size_t *m) {
  char local_keys[LOCAL_LOOKUPS][MSVC_ID_SIZE];
  const char *local_order[LOCAL_LOOKUPS];
  int small = n <= LOCAL_LOOKUPS;
  char(*keys)[MSVC_ID_SIZE] =
      small ? local_keys : malloc((n ? n : 1) * sizeof(*keys));
  const char **order =
      small ? local_order : malloc((n ? n : 1) * sizeof(*order));
  *lk = buf != NULL && n <= cap ? memset(buf, 0, n * sizeof(*buf))
                                : calloc(n ? n : 1, sizeof(**lk));
  *m = 0;
  if (keys != NULL && order != NULL && *lk != NULL)
    *m = distinct_sorted(ids, n, keys, order, *lk);
  if (!small) {
    free(keys);
    free(order);
  }
  if (keys == NULL || order == NULL || *lk == NULL) {
    if (*lk != buf)
      free(*lk);
    *lk = NULL;
    return MSVC_ENOMEM;
  }
  return 0;
}

static void lookups_free(lookup_t *lk, size_t m, const lookup_t *buf) {
  for (size_t i = 0; lk != NULL && i < m; i++)
    msvc__user_reset(&lk[i].user);
  if (lk != buf)
    free(lk);
}

/* Fills *out from a found lookup.  The first slot takes the lookup's
 * strings (no copy: a page's authors are distinct, so that is the only
 * one); a repeated id gets a copy of that slot's. */
static int place_one(lookup_t *l, const char *key, msvc_user_t *out) {
  if (l->placed != NULL)
    return msvc_user_set(out, key, l->placed->name, l->placed->email, 0, 0);
  if (l->user.name == NULL || l->user.email == NULL)
    return msvc_user_set(out, key, l->user.name, l->user.email, 0, 0);
  msvc__user_reset(out);
  memcpy(out->id, key, MSVC_ID_SIZE);
  out->name = l->user.name;
  out->email = l->user.email;
  l->user.name = l->user.email = NULL;
  l->placed = out;
  return 0;
}

/* Fills out[i] from the lookup of ids[i], under ids[i] lower-cased.
 * MSVC_EUNAVAIL when some lookup failed (the answered slots stay filled),
 * MSVC_ENOMEM (none filled). */
static int place(const msvc_id_t *ids, size_t n, lookup_t *lk, size_t m,
                 msvc_user_t *const *out) {
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    char key[MSVC_ID_SIZE];
    lookup_t *l = id_key(ids[i].hex, key) ? lookup_find(lk, m, key) : NULL;
    if (l == NULL || l->state == LK_ABSENT || out[i] == NULL)
      continue;
    if (l->state == LK_FAILED) {
      failed = 1;
      continue;
    }
    if (place_one(l, key, out[i]) != 0) {
      for (size_t j = 0; j < n; j++)
        if (out[j] != NULL)
          msvc__user_reset(out[j]);
      return MSVC_ENOMEM;
    }
  }
  return failed ? MSVC_EUNAVAIL : 0;
}

/* ---- reading answers ---- */

/* A string member of 1..max bytes without NUL. */
static const char *string_member(json_object *o, const char *key, size_t max,
                                 size_t *len) {
  json_object *v;
  const char *s;
  if (!json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  s = json_object_get_string(v);
  *len = (size_t)json_object_get_string_len(v);
  return *len > 0 && *len <= max && memchr(s, '\0', *len) == NULL ? s : NULL;
}

/* PUBLIC_USER -> out (zeroed); MSVC_EIO when any field is unusable. */
static int user_from_json(json_object *o, msvc_user_t *out) {
  const char *id, *name, *email;
  size_t id_len, name_len, email_len;
  if (!json_object_is_type(o, json_type_object))
    return MSVC_EIO;
  id = string_member(o, "id", MSVC_ID_LEN, &id_len);
  name = string_member(o, "name", NAME_MAX_BYTES, &name_len);
  email = string_member(o, "email", MSVC_EMAIL_MAX_BYTES, &email_len);
  if (id == NULL || name == NULL || email == NULL || !msvc_id_valid(id, id_len))
    return MSVC_EIO;
  memcpy(out->id, id, MSVC_ID_LEN);
  out->id[MSVC_ID_LEN] = '\0';
  msvc__ascii_lower(out->id);
  out->name = msvc__strndup(name, name_len);
  out->email = msvc__strndup(email, email_len);
  if (out->name == NULL || out->email == NULL) {
    msvc__user_reset(out);
    return MSVC_ENOMEM;
  }
  return 0;
}

/* The member `key` of the answer body, which must be strict JSON holding
 * an object; *doc is the tree to put (NULL when unusable). */
static json_object *answer_member(const msvc__http_req_t *r, const char *key,
                                  json_object **doc) {
  json_object *v = NULL;
  if (msvc__json_parse_strict(r->resp, r->resp_len, doc) != 0)
    return NULL;
  if (!json_object_is_type(*doc, json_type_object) ||
      !json_object_object_get_ex(*doc, key, &v))
    return NULL;
  return v;
}

/* How an attempt ended: answered, failed for good, or failed in a way that
 * says more about the endpoint than about the lookup. */
enum outcome { OUT_OK, OUT_FINAL, OUT_RETRY };

typedef struct job {
  lookup_t *lk; /* the lookups this request answers, sorted */
  size_t n;
  char path[64];
  char *url;  /* base of the last attempt's endpoint + path; owned */
  char *body; /* owned; NULL for a GET */
  size_t body_len;
  size_t ep; /* endpoint of the last attempt */
  int retry; /* the last attempt ended with OUT_RETRY */
} job_t;

static enum outcome status_outcome(int status) {
  return status >= 500 || status == 408 || status == 429 ? OUT_RETRY
                                                         : OUT_FINAL;
}

/* 200 {"user":PUBLIC_USER} for exactly the id asked, or 404. */
static enum outcome apply_single(job_t *job, const msvc__http_req_t *r) {
  lookup_t *l = job->lk;
  json_object *doc = NULL, *user;
  msvc_user_t u;
  int rc = MSVC_EIO;
  if (r->status == 404) {
    l->state = LK_ABSENT;
    return OUT_OK;
  }
  if (r->status != 200)
    return status_outcome(r->status);
  memset(&u, 0, sizeof(u));
  user = answer_member(r, "user", &doc);
  if (user != NULL)
    rc = user_from_json(user, &u);
  json_object_put(doc);
  if (rc == 0 && strcmp(u.id, l->id) == 0) {
    l->user = u;
    l->state = LK_FOUND;
    return OUT_OK;
  }
  msvc__user_reset(&u);
  return rc == MSVC_ENOMEM ? OUT_FINAL : OUT_RETRY;
}

/* Parses every element of "users" first, so that garbage anywhere rejects
 * the whole answer.  *users owned by the caller (users_free). */
static int users_from_json(json_object *arr, msvc_user_t **users, size_t *n) {
  size_t len = json_object_array_length(arr);
  int rc = 0;
  *n = 0;
  *users = calloc(len ? len : 1, sizeof(**users));
  if (*users == NULL)
    return MSVC_ENOMEM;
  for (size_t i = 0; rc == 0 && i < len; i++) {
    rc = user_from_json(json_object_array_get_idx(arr, i), &(*users)[i]);
    *n += rc == 0;
  }
  return rc;
}

static void users_free(msvc_user_t *users, size_t n) {
  for (size_t i = 0; users != NULL && i < n; i++)
    msvc__user_reset(&users[i]);
  free(users);
}

static int same_user(const msvc_user_t *a, const msvc_user_t *b) {
  return strcmp(a->name, b->name) == 0 && strcmp(a->email, b->email) == 0;
}

/* Gives each asked id its user from the answer; users for ids not asked
 * are ignored, two different users for one id reject the answer. */
static enum outcome match_users(job_t *job, msvc_user_t *users, size_t n) {
  long *owner = malloc((job->n ? job->n : 1) * sizeof(*owner));
  if (owner == NULL)
    return OUT_FINAL;
  for (size_t i = 0; i < job->n; i++)
    owner[i] = -1;
  for (size_t t = 0; t < n; t++) {
    lookup_t *l = lookup_find(job->lk, job->n, users[t].id);
    size_t i = l != NULL ? (size_t)(l - job->lk) : 0;
    if (l == NULL)
      continue;
    if (owner[i] >= 0 && !same_user(&users[owner[i]], &users[t])) {
      free(owner);
      return OUT_RETRY;
    }
    if (owner[i] < 0)
      owner[i] = (long)t;
  }
  for (size_t i = 0; i < job->n; i++) {
    lookup_t *l = &job->lk[i];
    l->state = owner[i] >= 0 ? LK_FOUND : LK_ABSENT;
    if (owner[i] >= 0) {
      l->user = users[owner[i]];
      memset(&users[owner[i]], 0, sizeof(users[owner[i]]));
    }
  }
  free(owner);
  return OUT_OK;
}

/* 200 {"users":[PUBLIC_USER...]}: ids left out do not exist. */
static enum outcome apply_batch(job_t *job, const msvc__http_req_t *r) {
  json_object *doc = NULL, *arr;
  msvc_user_t *users = NULL;
  size_t n = 0;
  enum outcome out = OUT_RETRY;
  int rc = MSVC_EIO;
  if (r->status != 200)
    return status_outcome(r->status);
  arr = answer_member(r, "users", &doc);
  if (arr != NULL && json_object_is_type(arr, json_type_array))
    rc = users_from_json(arr, &users, &n);
  if (rc == 0)
    out = match_users(job, users, n);
  else if (rc == MSVC_ENOMEM)
    out = OUT_FINAL;
  users_free(users, n);
  json_object_put(doc);
  return out;
}

/* The answer r to job's request: a batch POST's or a single GET's. */
static enum outcome apply_answer(job_t *job, const msvc__http_req_t *r) {
  return job->body ? apply_batch(job, r) : apply_single(job, r);
}

/* ---- sending ---- */

/* What one resolve() call carries through its attempts. */
typedef struct call_ctx {
  const headers_t *headers;
  char detail[2 * MSVC__HTTP_DETAIL_MAX]; /* the last failure seen */
} call_ctx_t;

/* Remembers why an attempt on base failed, for msvc_set_error_detail. */
static void note_failure(call_ctx_t *cc, const char *base,
                         const msvc__http_req_t *r) {
  if (r->err != 0)
    snprintf(cc->detail, sizeof(cc->detail), "%.200s: %s", base, r->detail);
  else if (r->status != 200 && r->status != 404)
    snprintf(cc->detail, sizeof(cc->detail), "%.200s: HTTP status %d", base,
             r->status);
  else
    snprintf(cc->detail, sizeof(cc->detail), "%s: unusable answer", base);
}

/* Points job at endpoint ep: its URL is the endpoint's base + path. */
static int job_aim(http_resolver_t *hr, job_t *job, size_t ep) {
  const char *base = hr->eps[ep].base;
  size_t len = strlen(base) + strlen(job->path) + 1;
  free(job->url);
  job->url = malloc(len);
  if (job->url == NULL)
    return MSVC_ENOMEM;
  snprintf(job->url, len, "%s%s", base, job->path);
  job->ep = ep;
  return 0;
}

/* Fills reqs for the jobs that need an attempt now: all of them the first
 * time, the ones that ended with OUT_RETRY (on another endpoint) the
 * second.  Returns how many; which[k] is the job of reqs[k]. */
static size_t prepare(http_resolver_t *hr, job_t *jobs, size_t nj, int again,
                      call_ctx_t *cc, msvc__http_req_t *reqs, size_t *which) {
  int64_t now = msvc__monotonic_ms();
  size_t m = 0;
  for (size_t j = 0; j < nj; j++) {
    size_t ep;
    if (again && !jobs[j].retry)
      continue;
    jobs[j].retry = 0;
    ep = ep_pick(hr, again ? jobs[j].ep : NO_EP, now);
    if (ep == NO_EP)
      continue;
    if (job_aim(hr, &jobs[j], ep) != 0) {
      ep_report(hr, ep, 1, now); /* releases a probe; no fault of ep */
      continue;
    }
    memset(&reqs[m], 0, sizeof(reqs[m]));
    reqs[m].url = jobs[j].url;
    reqs[m].method = jobs[j].body ? "POST" : "GET";
    reqs[m].headers = cc->headers->list;
    reqs[m].body = jobs[j].body;
    reqs[m].body_len = jobs[j].body_len;
    which[m++] = j;
  }
  return m;
}

static void attempt(http_resolver_t *hr, job_t *jobs, size_t nj, int again,
                    call_ctx_t *cc, int64_t deadline, msvc__http_req_t *reqs,
                    size_t *which) {
  size_t m = prepare(hr, jobs, nj, again, cc, reqs, which);
  int64_t now;
  msvc__http_run(hr->http, reqs, m, deadline, 0);
  now = msvc__monotonic_ms();
  for (size_t k = 0; k < m; k++) {
    job_t *job = &jobs[which[k]];
    enum outcome out = OUT_RETRY;
    if (reqs[k].err == 0)
      out = apply_answer(job, &reqs[k]);
    atomic_fetch_add(&hr->requests, 1);
    atomic_fetch_add(&hr->eps[job->ep].requests, 1);
    atomic_fetch_add(
        &hr->eps[job->ep].latency_us,
        (uint64_t)(reqs[k].elapsed_us > 0 ? reqs[k].elapsed_us : 0));
    if (out != OUT_OK) {
      atomic_fetch_add(&hr->failures, 1);
      atomic_fetch_add(&hr->eps[job->ep].failures, 1);
      note_failure(cc, hr->eps[job->ep].base, &reqs[k]);
    }
    ep_report(hr, job->ep, out != OUT_RETRY, now);
    job->retry = out == OUT_RETRY;
    msvc__http_req_reset(&reqs[k]);
  }
}

static void run_jobs(http_resolver_t *hr, job_t *jobs, size_t nj,
                     call_ctx_t *cc, int64_t deadline) {
  msvc__http_req_t *reqs = calloc(nj, sizeof(*reqs));
  size_t *which = calloc(nj, sizeof(*which));
  int64_t now = msvc__monotonic_ms(), first = deadline;
  int retry = 0;
  if (reqs != NULL && which != NULL) {
    if (hr->neps > 1) /* keep room for a retry elsewhere */
      first = now + (deadline - now) / 2;
    attempt(hr, jobs, nj, 0, cc, first, reqs, which);
    for (size_t j = 0; j < nj; j++)
      retry |= jobs[j].retry;
    if (retry && hr->neps > 1)
      attempt(hr, jobs, nj, 1, cc, deadline, reqs, which);
  }
  free(reqs);
  free(which);
}

/* {"userIds":["...",...]} for lk[0..n). */
static char *batch_body(const lookup_t *lk, size_t n, size_t *len) {
  msvc__buf_t b;
  msvc__buf_init(&b);
  MSVC__BUF_LIT(&b, "{\"userIds\":[");
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      msvc__buf_putc(&b, ',');
    msvc__json_cstring(&b, lk[i].id);
  }
  MSVC__BUF_LIT(&b, "]}");
  if (b.failed) {
    msvc__buf_free(&b);
    return NULL;
  }
  *len = b.len;
  return b.data;
}

static void jobs_free(job_t *jobs, size_t nj) {
  for (size_t j = 0; jobs != NULL && j < nj; j++) {
    free(jobs[j].body);
    free(jobs[j].url);
  }
  free(jobs);
}

/* One job per lookup (individual) or per BATCH_MAX lookups (batch). */
static job_t *make_jobs(lookup_t *lk, size_t m, int batch, size_t *nj) {
  job_t *jobs;
  *nj = batch ? (m + BATCH_MAX - 1) / BATCH_MAX : m;
  jobs = calloc(*nj ? *nj : 1, sizeof(*jobs));
  for (size_t j = 0; jobs != NULL && j < *nj; j++) {
    job_t *job = &jobs[j];
    job->ep = NO_EP;
    if (!batch) {
      job->lk = &lk[j];
      job->n = 1;
      snprintf(job->path, sizeof(job->path), "%s%s", MSVC__ROUTE_GET_USER,
               lk[j].id);
      continue;
    }
    job->lk = &lk[j * BATCH_MAX];
    job->n = m - j * BATCH_MAX < BATCH_MAX ? m - j * BATCH_MAX : BATCH_MAX;
    snprintf(job->path, sizeof(job->path), "%s", MSVC__ROUTE_GET_USERS);
    job->body = batch_body(job->lk, job->n, &job->body_len);
    if (job->body == NULL) {
      jobs_free(jobs, j);
      jobs = NULL;
    }
  }
  return jobs;
}

/* Answers lk[0..m) from the upstream; lookups that could not be answered
 * stay LK_FAILED (and cc->detail says why).  0, MSVC_ENOMEM, or
 * MSVC_EUNAVAIL (unusable token). */
static int fetch(http_resolver_t *hr, lookup_t *lk, size_t m, int batch,
                 const char *request_id, int64_t deadline, call_ctx_t *cc) {
  headers_t headers;
  size_t nj = 0;
  job_t *jobs;
  int rc;
  if (m == 0)
    return 0;
  rc = make_headers(hr, request_id, batch, &headers);
  if (rc != 0)
    return rc;
  jobs = make_jobs(lk, m, batch, &nj);
  if (jobs == NULL) {
    headers_free(&headers);
    return MSVC_ENOMEM;
  }
  cc->headers = &headers;
  run_jobs(hr, jobs, nj, cc, deadline);
  cc->headers = NULL;
  jobs_free(jobs, nj);
  headers_free(&headers);
  return 0;
}

/* ---- the resolver methods ---- */

/* The call's verdict: an MSVC_EUNAVAIL carries the last upstream failure
 * as the thread's error detail. */
static int finish(const call_ctx_t *cc, int rc) {
  if (rc == MSVC_EUNAVAIL && cc->detail[0] != '\0')
    msvc_set_error_detail("%s", cc->detail);
  return rc;
}

static int fetch_and_place(http_resolver_t *hr, const msvc_call_t *call,
                           const msvc_id_t *ids, size_t n, int batch,
                           msvc_user_t *const *out) {
  int64_t deadline = msvc__monotonic_ms() + hr->timeout_ms;
  call_ctx_t cc;
  lookup_t *lk;
  size_t m;
  int rc;
  if (msvc__call_flags(call) & MSVC_NOWAIT)
    return MSVC_EWOULDBLOCK;
  memset(&cc, 0, sizeof(cc));
  rc = lookups_make(ids, n, NULL, 0, &lk, &m);
  if (rc != 0)
    return rc;
  atomic_fetch_add(&hr->misses, m);
  rc = fetch(hr, lk, m, batch, msvc__call_request_id(call), deadline, &cc);
  if (rc == 0)
    rc = place(ids, n, lk, m, out);
  lookups_free(lk, m, NULL);
  return finish(&cc, rc);
}

int msvc__http_resolver_apply_answer(const msvc_id_t *ids, size_t n, int batch,
                                     int status, const char *body, size_t len,
                                     msvc_user_t *const *out) {
  lookup_t *lk;
  job_t *jobs = NULL;
  size_t m, nj = 0;
  int rc;
  if ((ids == NULL && n > 0) || (out == NULL && n > 0) ||
      (body == NULL && len > 0))
    return MSVC_EINVAL;
  rc = lookups_make(ids, n, NULL, 0, &lk, &m);
  if (rc != 0)
    return rc;
  if (m > 0 && (jobs = make_jobs(lk, m, batch, &nj)) == NULL)
    rc = MSVC_ENOMEM;
  for (size_t j = 0; rc == 0 && j < nj; j++) {
    msvc__http_req_t r;
    memset(&r, 0, sizeof(r));
    r.status = status;
    r.resp = (char *)(body != NULL ? body : "");
    r.resp_len = len;
    apply_answer(&jobs[j], &r);
  }
  if (rc == 0)
    rc = place(ids, n, lk, m, out);
  jobs_free(jobs, nj);
  lookups_free(lk, m, NULL);
  return rc;
}

static int individual_resolve(void *ctx, const msvc_call_t *call,
                              const msvc_id_t *ids, size_t n,
                              msvc_user_t *const *out) {
  return fetch_and_place(ctx, call, ids, n, 0, out);
}

static int batch_resolve(void *ctx, const msvc_call_t *call,
                         const msvc_id_t *ids, size_t n,
                         msvc_user_t *const *out) {
  return fetch_and_place(ctx, call, ids, n, 1, out);
}

/* Looks every lookup up in the cache; returns how many missed, or
 * MSVC_ENOMEM. */
static long from_cache(http_resolver_t *hr, lookup_t *lk, size_t m) {
  int64_t now = msvc__monotonic_ms();
  long missed = 0;
  for (size_t i = 0; i < m; i++) {
    int rc = msvc__user_cache_get(hr->cache, lk[i].id, now, &lk[i].user);
    if (rc < 0)
      return rc;
    lk[i].state = rc == MSVC__CACHE_FOUND    ? LK_FOUND
                  : rc == MSVC__CACHE_ABSENT ? LK_ABSENT
                                             : LK_FAILED;
    missed += rc == MSVC__CACHE_MISS;
  }
  return missed;
}

/* Fetches the lookups still LK_FAILED in one batch, remembers the answers
 * and moves them back into lk. */
static int fill_misses(http_resolver_t *hr, lookup_t *lk, size_t m,
                       size_t nmiss, const char *request_id, int64_t deadline,
                       call_ctx_t *cc) {
  lookup_t *miss = calloc(nmiss, sizeof(*miss));
  int64_t now;
  size_t j = 0;
  int rc;
  if (miss == NULL)
    return MSVC_ENOMEM;
  for (size_t i = 0; i < m; i++)
    if (lk[i].state == LK_FAILED)
      memcpy(miss[j++].id, lk[i].id, MSVC_ID_SIZE);
  rc = fetch(hr, miss, nmiss, 1, request_id, deadline, cc);
  now = msvc__monotonic_ms();
  for (size_t i = 0, k = 0; rc == 0 && i < m; i++) {
    lookup_t *l;
    if (lk[i].state != LK_FAILED)
      continue;
    l = &miss[k++];
    if (l->state == LK_FOUND)
      msvc__user_cache_put(hr->cache, l->id, &l->user, now + hr->ttl_ms);
    else if (l->state == LK_ABSENT)
      msvc__user_cache_put(hr->cache, l->id, NULL, now + hr->absent_ttl_ms);
    lk[i].state = l->state;
    lk[i].user = l->user;
    memset(&l->user, 0, sizeof(l->user));
  }
  lookups_free(miss, nmiss, NULL);
  return rc;
}

static int cached_resolve(void *ctx, const msvc_call_t *call,
                          const msvc_id_t *ids, size_t n,
                          msvc_user_t *const *out) {
  http_resolver_t *hr = ctx;
  int64_t deadline = msvc__monotonic_ms() + hr->timeout_ms;
  lookup_t local[PAGE_LOOKUPS]; /* a page's authors, off the heap */
  call_ctx_t cc;
  lookup_t *lk;
  size_t m;
  long missed;
  int rc = lookups_make(ids, n, local, PAGE_LOOKUPS, &lk, &m);
  if (rc != 0)
    return rc;
  memset(&cc, 0, sizeof(cc));
  missed = from_cache(hr, lk, m);
  if (missed > 0 && (msvc__call_flags(call) & MSVC_NOWAIT))
    rc = MSVC_EWOULDBLOCK;
  else if (missed < 0)
    rc = (int)missed;
  if (rc == 0) {
    atomic_fetch_add(&hr->hits, m - (size_t)missed);
    atomic_fetch_add(&hr->misses, (size_t)missed);
    if (missed > 0)
      rc = fill_misses(hr, lk, m, (size_t)missed, msvc__call_request_id(call),
                       deadline, &cc);
  }
  if (rc == 0)
    rc = place(ids, n, lk, m, out);
  lookups_free(lk, m, local);
  return finish(&cc, rc);
}

/* 0 when some endpoint answers GET /healthz with 200 in time.  A success
 * brings an endpoint back; a failure here does not take one out (lookups
 * do that). */
static int http_ping(void *ctx) {
  static const char *const accept[] = {"Accept: application/json", NULL};
  http_resolver_t *hr = ctx;
  msvc__http_req_t *reqs = calloc(hr->neps, sizeof(*reqs));
  char **urls = calloc(hr->neps, sizeof(*urls));
  int64_t now = msvc__monotonic_ms();
  int ok = 0;
  for (size_t i = 0; reqs != NULL && urls != NULL && i < hr->neps; i++) {
    urls[i] = concat(hr->eps[i].base, "/healthz");
    reqs[i].url = urls[i];
    reqs[i].method = "GET";
    reqs[i].headers = accept;
  }
  if (reqs != NULL && urls != NULL)
    msvc__http_run(hr->http, reqs, hr->neps, now + hr->timeout_ms,
                   MSVC__HTTP_FIRST_OK);
  for (size_t i = 0; reqs != NULL && urls != NULL && i < hr->neps; i++) {
    if (reqs[i].err == 0 && reqs[i].status == 200) {
      ok = 1;
      pthread_mutex_lock(&hr->lock);
      hr->eps[i].fails = 0;
      pthread_mutex_unlock(&hr->lock);
    }
    msvc__http_req_reset(&reqs[i]);
    free(urls[i]);
  }
  if (reqs == NULL || urls == NULL)
    ok = -1;
  free(reqs);
  free(urls);
  return ok > 0 ? 0 : ok < 0 ? MSVC_ENOMEM : MSVC_EUNAVAIL;
}

static void http_stats(void *ctx, msvc_resolver_stats_t *out) {
  http_resolver_t *hr = ctx;
  out->hits = atomic_load(&hr->hits);
  out->misses = atomic_load(&hr->misses);
  out->requests = atomic_load(&hr->requests);
  out->failures = atomic_load(&hr->failures);
  out->cache_entries =
      hr->cache != NULL ? msvc__user_cache_count(hr->cache) : 0;
}

static int http_endpoint(void *ctx, size_t i, msvc_resolver_endpoint_t *out) {
  http_resolver_t *hr = ctx;
  endpoint_t *e;
  if (i >= hr->neps)
    return MSVC_ENOTFOUND;
  e = &hr->eps[i];
  out->url = e->base;
  pthread_mutex_lock(&hr->lock);
  out->healthy = e->fails < hr->fail_threshold;
  pthread_mutex_unlock(&hr->lock);
  out->requests = atomic_load(&e->requests);
  out->failures = atomic_load(&e->failures);
  out->latency_us = atomic_load(&e->latency_us);
  return 0;
}

static void http_destroy(void *ctx) {
  http_resolver_t *hr = ctx;
  if (hr == NULL)
    return;
  for (size_t i = 0; i < hr->neps; i++)
    free(hr->eps[i].base);
  free(hr->eps);
  msvc__user_cache_free(hr->cache);
  msvc__http_free(hr->http);
  pthread_mutex_destroy(&hr->lock);
  free(hr);
}

static const msvc_resolver_methods_t individual_methods = {
    .version = MSVC_RESOLVER_VERSION,
    .name = "individual",
    .resolve = individual_resolve,
    .ping = http_ping,
    .stats = http_stats,
    .destroy = http_destroy,
    .endpoint = http_endpoint,
};

static const msvc_resolver_methods_t batch_methods = {
    .version = MSVC_RESOLVER_VERSION,
    .name = "batch",
    .resolve = batch_resolve,
    .ping = http_ping,
    .stats = http_stats,
    .destroy = http_destroy,
    .endpoint = http_endpoint,
};

static const msvc_resolver_methods_t cached_methods = {
    .version = MSVC_RESOLVER_VERSION,
    .name = "cached",
    .resolve = cached_resolve,
    .ping = http_ping,
    .stats = http_stats,
    .destroy = http_destroy,
    .endpoint = http_endpoint,
};

static http_resolver_t *resolver_alloc(const msvc_http_resolver_config_t *c) {
  http_resolver_t *hr = calloc(1, sizeof(*hr));
  if (hr == NULL)
    return NULL;
  if (pthread_mutex_init(&hr->lock, NULL) != 0) {
    free(hr);
    return NULL;
  }
  hr->timeout_ms = c->timeout_ms;
  hr->fail_threshold = c->fail_threshold;
  hr->probe_interval_ms = c->probe_interval_ms;
  hr->ttl_ms = (int64_t)c->cache_ttl_s * 1000;
  hr->absent_ttl_ms =
      hr->ttl_ms < ABSENT_TTL_MAX_MS ? hr->ttl_ms : ABSENT_TTL_MAX_MS;
  hr->credential = c->credential;
  hr->credential_arg = c->credential_arg;
  return hr;
}

static const msvc_resolver_methods_t *
methods_for(msvc_resolver_strategy_t strategy) {
  if (strategy == MSVC_RESOLVER_INDIVIDUAL)
    return &individual_methods;
  if (strategy == MSVC_RESOLVER_BATCH)
    return &batch_methods;
  return &cached_methods;
}

/* The caller's config over the defaults: only the fields its size covers
 * are read, so a program built against an older header still works. */
static int read_config(const msvc_http_resolver_config_t *cfg,
                       msvc_http_resolver_config_t *c, char *errbuf,
                       size_t errlen) {
  msvc_http_resolver_config_init(c);
  if (msvc__copy_sized(c, sizeof(*c), cfg) != 0) {
    msvc__set_error(errbuf, errlen,
                    "config not initialised (size field is %zu)", cfg->size);
    return MSVC_EINVAL;
  }
  return check_config(c, errbuf, errlen);
}

int msvc_resolver_http_new(const msvc_http_resolver_config_t *cfg,
                           msvc_resolver_t **out, char *errbuf, size_t errlen) {
  msvc_http_resolver_config_t c;
  http_resolver_t *hr;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (out == NULL || cfg == NULL)
    return MSVC_EINVAL;
  rc = read_config(cfg, &c, errbuf, errlen);
  if (rc != 0)
    return rc;
  hr = resolver_alloc(&c);
  if (hr == NULL)
    return MSVC_ENOMEM;
  rc = parse_urls(hr, c.urls, errbuf, errlen);
  if (rc == 0)
    rc = msvc__http_new(c.ca_file, &hr->http, errbuf, errlen);
  if (rc == 0 && c.strategy == MSVC_RESOLVER_CACHED)
    rc = msvc__user_cache_new((size_t)c.cache_size, &hr->cache);
  if (rc != 0) {
    http_destroy(hr);
    return rc;
  }
  /* msvc_resolver_new owns hr from here on, failing or not. */
  return msvc_resolver_new(methods_for(c.strategy), hr, out);
}
