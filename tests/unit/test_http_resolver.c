/* test_http_resolver.c - the individual, batch and cached HTTP resolvers
 * against real HTTP auth stand-ins (tests/resolver/standin.py) on loopback:
 * identical answers from all three strategies, request counts, the cache
 * (hits, expiry, bound, never another user's details), failover over
 * refused, hanging, garbage and failing endpoints, an endpoint coming back,
 * the headers that must arrive, non-blocking calls, threads and ping, the
 * error detail a failure leaves, and HTTPS upstreams (a test CA accepted, a
 * wrong one refused).  The only timing checks are generous upper bounds
 * that prove a deadline held. */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "msvc/http_resolver.h"
#include "resolver/http/cache.h"
#include "standin.h"
#include "testutil.h"

#define PAGE 20
#define INVALID -1
#define UPPER 0x100 /* the same id written in upper case */

/* A page of 20 author ids: repeats, two unknown ids (0x50, 0x51: the
 * stand-in knows 0..39), one upper-case id and one that is not an id.
 * 15 distinct valid ids. */
static const int page[PAGE] = {0,          1, 2,  0,    3,  0x50,   4,
                               1,          5, 6,  0x51, 7,  8,      2,
                               UPPER | 13, 9, 10, 0x50, 11, INVALID};
#define PAGE_DISTINCT 15

static const msvc_resolver_strategy_t strategies[] = {
    MSVC_RESOLVER_INDIVIDUAL, MSVC_RESOLVER_BATCH, MSVC_RESOLVER_CACHED};

static void make_id(msvc_id_t *id, int index) {
  if (index == INVALID) {
    snprintf(id->hex, sizeof(id->hex), "not-an-id");
    return;
  }
  snprintf(id->hex, sizeof(id->hex), "%s00000000000000000000%02x",
           (index & UPPER) ? "5F" : "5f", index & 0xff);
  if (index & UPPER)
    for (char *p = id->hex; *p; p++)
      if (*p >= 'a' && *p <= 'f')
        *p = (char)(*p - 'a' + 'A');
}

static void make_page(msvc_id_t ids[PAGE]) {
  for (int i = 0; i < PAGE; i++)
    make_id(&ids[i], page[i]);
}

static int known(int index) {
  return index != INVALID && (index & 0xff) < 40;
}

/* Counts slots that differ from the stand-in's table; a filled slot with
 * another user's details is always an error, an empty one only when
 * `complete`.  A filled slot carries its id lower-cased. */
static int page_errors(const msvc_id_t ids[PAGE], msvc_user_t *const *out,
                       int complete) {
  int errors = 0;
  for (int i = 0; i < PAGE; i++) {
    char name[32], email[64], id[MSVC_ID_SIZE];
    int index = page[i] & 0xff;
    snprintf(name, sizeof(name), "User %d", index);
    snprintf(email, sizeof(email), "user%d@example.com", index);
    memcpy(id, ids[i].hex, sizeof(id));
    msvc__ascii_lower(id);
    if (out[i]->id[0] == '\0') {
      errors += known(page[i]) && complete;
      continue;
    }
    if (!known(page[i]) || strcmp(out[i]->id, id) != 0 ||
        out[i]->name == NULL || strcmp(out[i]->name, name) != 0 ||
        out[i]->email == NULL || strcmp(out[i]->email, email) != 0) {
      fprintf(stderr, "slot %d: %s %s %s\n", i, out[i]->id,
              out[i]->name ? out[i]->name : "-",
              out[i]->email ? out[i]->email : "-");
      errors++;
    }
  }
  return errors;
}

/* n zeroed users from the library, as a caller of resolve() passes. */
static msvc_user_t **users_new(size_t n) {
  msvc_user_t **out = NULL;
  CHECK_EQ_INT(msvc__users_alloc(n, &out), 0);
  return out;
}

static void clear_page(msvc_user_t **out) {
  msvc_users_free(out, PAGE);
}

/* A call context with flags and a request id. */
static msvc_call_t call_with(unsigned flags, const char *rid) {
  msvc_call_t call = MSVC_CALL_INIT;
  call.flags = flags;
  call.request_id = rid;
  return call;
}

static msvc_resolver_stats_t stats_of(msvc_resolver_t *r) {
  msvc_resolver_stats_t st = MSVC_RESOLVER_STATS_INIT;
  CHECK_EQ_INT(msvc_resolver_stats(r, &st), 0);
  return st;
}

/* Resolves the page into a fresh *out (freed with clear_page) and checks
 * that it is whole and right. */
static int resolve_page(msvc_resolver_t *r, unsigned flags, const char *rid,
                        msvc_user_t ***out) {
  msvc_call_t call = call_with(flags, rid);
  msvc_id_t ids[PAGE];
  int rc;
  make_page(ids);
  *out = users_new(PAGE);
  rc = msvc_resolver_resolve(r, &call, ids, PAGE, *out);
  CHECK_EQ_INT(page_errors(ids, *out, rc == 0), 0);
  return rc;
}

static int resolve_page_ok(msvc_resolver_t *r) {
  msvc_user_t **out;
  int rc = resolve_page(r, 0, NULL, &out);
  clear_page(out);
  return rc;
}

/* A generous deadline, so that a loaded machine cannot turn a slow answer
 * into a failure; the tests of deadlines set their own. */
static void config_for(msvc_http_resolver_config_t *c, const char *urls,
                       msvc_resolver_strategy_t s) {
  msvc_http_resolver_config_init(c);
  c->urls = urls;
  c->strategy = s;
  c->timeout_ms = 5000;
}

static msvc_resolver_t *open_resolver(const msvc_http_resolver_config_t *c) {
  msvc_resolver_t *r = NULL;
  char err[256] = "";
  int rc = msvc_resolver_http_new(c, &r, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "msvc_resolver_http_new: %s: %s\n", msvc_err_name(rc), err);
  CHECK_EQ_INT(rc, 0);
  return r;
}

static msvc_resolver_t *open_simple(const char *urls,
                                    msvc_resolver_strategy_t s) {
  msvc_http_resolver_config_t c;
  config_for(&c, urls, s);
  return open_resolver(&c);
}

static void two_urls(char *buf, size_t len, const char *a, const char *b) {
  snprintf(buf, len, "%s, %s/", a, b);
}

static standin_t ok_srv;

/* ---- configuration ---- */

static void test_config(void) {
  static const char *bad[] = {"",
                              "ftp://127.0.0.1:1",
                              "http://u:p@127.0.0.1:1",
                              "http://127.0.0.1:1/api",
                              "http://127.0.0.1:1,,http://127.0.0.1:2",
                              "http://127.0.0.1:1, junk",
                              "http://127.0.0.1:1,",
                              "http://127.0.0.1:99999"};
  msvc_http_resolver_config_t c;
  msvc_resolver_strategy_t s;
  msvc_resolver_t *r = NULL;
  char err[256];
  CHECK_EQ_INT(msvc_resolver_strategy_parse("individual", &s), 0);
  CHECK_EQ_INT(s, MSVC_RESOLVER_INDIVIDUAL);
  CHECK_EQ_INT(msvc_resolver_strategy_parse("batch", &s), 0);
  CHECK_EQ_INT(s, MSVC_RESOLVER_BATCH);
  CHECK_EQ_INT(msvc_resolver_strategy_parse("Cached", &s), 0);
  CHECK_EQ_INT(s, MSVC_RESOLVER_CACHED);
  CHECK_EQ_INT(msvc_resolver_strategy_parse("local", &s), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_resolver_strategy_parse(NULL, &s), MSVC_EINVAL);

  msvc_http_resolver_config_init(&c);
  CHECK_EQ_INT(c.strategy, MSVC_RESOLVER_CACHED);
  CHECK_EQ_INT(c.timeout_ms, 1000);
  CHECK_EQ_INT(c.cache_size, 10000);
  CHECK_EQ_INT(c.cache_ttl_s, 60);
  CHECK_EQ_INT(c.fail_threshold, 2);
  CHECK_EQ_INT(c.probe_interval_ms, 1000);
  CHECK(c.urls == NULL && c.credential == NULL);

  CHECK_EQ_INT(msvc_resolver_http_new(&c, &r, err, sizeof(err)), MSVC_ECONFIG);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(bad); i++) {
    c.urls = bad[i];
    err[0] = '\0';
    CHECK_EQ_INT(msvc_resolver_http_new(&c, &r, err, sizeof(err)),
                 MSVC_ECONFIG);
    CHECK(r == NULL && err[0] != '\0');
  }
  c.urls = " http://127.0.0.1:1/ ,\thttp://localhost:2 ";
  c.timeout_ms = 0;
  CHECK_EQ_INT(msvc_resolver_http_new(&c, &r, err, sizeof(err)), MSVC_ECONFIG);
  c.timeout_ms = 1000;
  c.cache_size = 0;
  CHECK_EQ_INT(msvc_resolver_http_new(&c, &r, err, sizeof(err)), MSVC_ECONFIG);
  c.cache_size = 10;
  r = open_resolver(&c);
  CHECK(r != NULL && strcmp(msvc_resolver_name(r), "cached") == 0);
  msvc_resolver_free(r);
  c.urls = "https://127.0.0.1:1, HTTPS://localhost/";
  r = open_resolver(&c); /* https:// upstreams are accepted */
  msvc_resolver_free(r);
}

/* NULL arguments, the static initialiser, and configs of other sizes. */
static void test_config_abi(void) {
  msvc_http_resolver_config_t a, b = MSVC_HTTP_RESOLVER_CONFIG_INIT;
  msvc_resolver_t *r = (msvc_resolver_t *)1;
  char urls[64], err[256] = "";
  msvc_http_resolver_config_init(&a);
  CHECK(memcmp(&a, &b, sizeof(a)) == 0);
  CHECK_EQ_INT(a.size, sizeof(a));
  msvc_http_resolver_config_init(NULL); /* no crash */
  CHECK_EQ_INT(msvc_resolver_http_new(NULL, &r, err, sizeof(err)), MSVC_EINVAL);
  CHECK(r == NULL);
  CHECK_EQ_INT(msvc_resolver_http_new(&a, NULL, err, sizeof(err)), MSVC_EINVAL);
  /* A config never initialised (size 0) is refused, not read. */
  memset(&a, 0, sizeof(a));
  a.urls = ok_srv.url;
  CHECK_EQ_INT(msvc_resolver_http_new(&a, &r, NULL, 0), MSVC_EINVAL);
  /* A program built before ca_file existed: its config ends earlier and
   * the rest takes the defaults. */
  msvc_http_resolver_config_init(&a);
  a.size = offsetof(msvc_http_resolver_config_t, ca_file);
  a.ca_file = "/nonexistent/must-not-be-read.pem";
  snprintf(urls, sizeof(urls), "%s", ok_srv.url);
  a.urls = urls;
  a.strategy = MSVC_RESOLVER_BATCH;
  r = open_resolver(&a);
  /* The URL list was copied: the caller's buffer may change. */
  memset(urls, 'x', sizeof(urls) - 1);
  if (r != NULL) {
    CHECK_EQ_STR(msvc_resolver_name(r), "batch");
    CHECK_EQ_INT(resolve_page_ok(r), 0);
  }
  msvc_resolver_free(r);
}

/* ---- the three strategies ---- */

/* "id|name|email;" for every slot: what a rendered page would show. */
static void render(msvc_user_t *const *out, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  for (int i = 0; i < PAGE && at < len; i++)
    at += (size_t)snprintf(buf + at, len - at, "%s|%s|%s;", out[i]->id,
                           out[i]->name ? out[i]->name : "",
                           out[i]->email ? out[i]->email : "");
}

static void test_strategies_agree(void) {
  static const char *names[] = {"individual", "batch", "cached"};
  char shown[3][4096];
  for (int s = 0; s < 3; s++) {
    msvc_resolver_t *r = open_simple(ok_srv.url, strategies[s]);
    msvc_resolver_stats_t st;
    msvc_user_t **out;
    if (r == NULL)
      return;
    CHECK_EQ_STR(msvc_resolver_name(r), names[s]);
    standin_clear_log(&ok_srv);
    CHECK_EQ_INT(resolve_page(r, 0, NULL, &out), 0);
    render(out, shown[s], sizeof(shown[s]));
    clear_page(out);
    st = stats_of(r);
    if (strategies[s] == MSVC_RESOLVER_INDIVIDUAL) {
      CHECK_EQ_INT(standin_count(&ok_srv, "/api/getUser/"), PAGE_DISTINCT);
      CHECK_EQ_INT(standin_count(&ok_srv, "/api/getUsers"), 0);
      CHECK_EQ_INT(st.requests, PAGE_DISTINCT);
    } else {
      CHECK_EQ_INT(standin_count(&ok_srv, "/api/getUser/"), 0);
      CHECK_EQ_INT(standin_count(&ok_srv, "/api/getUsers"), 1);
      CHECK_EQ_INT(st.requests, 1);
    }
    CHECK_EQ_INT(st.misses, PAGE_DISTINCT);
    CHECK_EQ_INT(st.failures, 0);
    msvc_resolver_free(r);
  }
  CHECK_EQ_STR(shown[0], shown[1]);
  CHECK_EQ_STR(shown[1], shown[2]);
}

/* One GET per distinct id, issued together: with a stand-in that takes
 * 0.3 s per answer, several are in flight at once. */
static void test_individual_concurrent(void) {
  standin_t slow;
  msvc_http_resolver_config_t c;
  msvc_resolver_t *r;
  memset(&slow, 0, sizeof(slow));
  if (standin_start(&slow, "delay", 0) != 0) {
    CHECK(0);
    return;
  }
  config_for(&c, slow.url, MSVC_RESOLVER_INDIVIDUAL);
  c.timeout_ms = 10000;
  r = open_resolver(&c);
  if (r != NULL)
    CHECK_EQ_INT(resolve_page_ok(r), 0);
  CHECK_EQ_INT(standin_count(&slow, "/api/getUser/"), PAGE_DISTINCT);
  CHECK(standin_max_inflight(&slow, "/api/getUser/") >= 2);
  msvc_resolver_free(r);
  standin_stop(&slow);
}

/* ---- the cache ---- */

static void test_cached_hits_and_expiry(void) {
  msvc_http_resolver_config_t c;
  msvc_resolver_stats_t st;
  msvc_resolver_t *r;
  int64_t t0;
  config_for(&c, ok_srv.url, MSVC_RESOLVER_CACHED);
  c.cache_ttl_s = 1;
  r = open_resolver(&c);
  if (r == NULL)
    return;
  standin_clear_log(&ok_srv);
  CHECK_EQ_INT(resolve_page_ok(r), 0);
  t0 = standin_now_ms();
  CHECK_EQ_INT(standin_count(&ok_srv, "/api/"), 1);
  CHECK_EQ_INT(resolve_page_ok(r), 0); /* from the cache: no request */
  if (standin_now_ms() - t0 < 900) {   /* unless the machine stalled */
    CHECK_EQ_INT(standin_count(&ok_srv, "/api/"), 1);
    st = stats_of(r);
    CHECK_EQ_INT(st.hits, PAGE_DISTINCT);
    CHECK_EQ_INT(st.misses, PAGE_DISTINCT);
    CHECK_EQ_INT(st.requests, 1);
  }
  standin_sleep_ms(1300); /* past the 1 s time-to-live */
  CHECK_EQ_INT(resolve_page_ok(r), 0);
  CHECK(standin_count(&ok_srv, "/api/getUsers") >= 2);
  st = stats_of(r);
  CHECK(st.misses >= 2 * PAGE_DISTINCT);
  msvc_resolver_free(r);
}

static void test_cached_bounded(void) {
  msvc_http_resolver_config_t c;
  msvc_resolver_stats_t st;
  msvc_resolver_t *r;
  msvc_id_t ids[8];
  msvc_user_t **out;
  config_for(&c, ok_srv.url, MSVC_RESOLVER_CACHED);
  c.cache_size = 5;
  r = open_resolver(&c);
  if (r == NULL)
    return;
  for (int i = 0; i < 8; i++)
    make_id(&ids[i], 20 + i);
  for (int round = 0; round < 2; round++) {
    out = users_new(8);
    CHECK_EQ_INT(msvc_resolver_resolve(r, NULL, ids, 8, out), 0);
    for (int i = 0; i < 8; i++) {
      char name[32];
      snprintf(name, sizeof(name), "User %d", 20 + i);
      CHECK(out[i]->name != NULL && strcmp(out[i]->name, name) == 0);
    }
    msvc_users_free(out, 8);
  }
  /* Five entries at most survive the first call: the second one misses at
   * least three ids and asks again. */
  st = stats_of(r);
  CHECK(st.hits <= 5);
  CHECK(st.misses >= 8 + 3);
  CHECK_EQ_INT(st.requests, 2);
  msvc_resolver_free(r);
}

static void user_named(msvc_user_t *u, const char *name) {
  memset(u, 0, sizeof(*u));
  u->name = (char *)name;
  u->email = (char *)"x@example.com";
}

/* The cache on its own, with a hand-driven clock. */
static void test_cache_structure(void) {
  msvc__user_cache_t *cache = NULL;
  msvc_user_t u, got;
  char id[32];
  CHECK_EQ_INT(msvc__user_cache_new(0, &cache), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__user_cache_new(5, &cache), 0);
  if (cache == NULL)
    return;
  for (int i = 0; i < 200; i++) {
    snprintf(id, sizeof(id), "5f00000000000000000000%02x", i);
    user_named(&u, "n");
    CHECK_EQ_INT(msvc__user_cache_put(cache, id, &u, 1000), 0);
    CHECK(msvc__user_cache_count(cache) <= 5);
  }
  CHECK_EQ_INT(msvc__user_cache_count(cache), 5);
  memset(&got, 0, sizeof(got));
  /* The five most recent are there, the older ones are gone. */
  CHECK_EQ_INT(msvc__user_cache_get(cache, "5f00000000000000000000c3", 0, &got),
               MSVC__CACHE_FOUND);
  msvc__user_reset(&got);
  CHECK_EQ_INT(msvc__user_cache_get(cache, "5f00000000000000000000c2", 0, &got),
               MSVC__CACHE_MISS);
  /* Least recently used goes first: c3 was just read, so c4 is evicted. */
  user_named(&u, "new");
  CHECK_EQ_INT(
      msvc__user_cache_put(cache, "5f0000000000000000000aaa", &u, 1000), 0);
  CHECK_EQ_INT(msvc__user_cache_get(cache, "5f00000000000000000000c4", 0, &got),
               MSVC__CACHE_MISS);
  CHECK_EQ_INT(msvc__user_cache_get(cache, "5f00000000000000000000c3", 0, &got),
               MSVC__CACHE_FOUND);
  CHECK_EQ_STR(got.id, "5f00000000000000000000c3");
  CHECK_EQ_STR(got.name, "n");
  msvc__user_reset(&got);
  /* Expiry: fresh before expires_ms, gone from it on. */
  CHECK_EQ_INT(
      msvc__user_cache_get(cache, "5f0000000000000000000aaa", 999, &got),
      MSVC__CACHE_FOUND);
  CHECK_EQ_STR(got.name, "new");
  msvc__user_reset(&got);
  CHECK_EQ_INT(msvc__user_cache_count(cache), 5);
  CHECK_EQ_INT(
      msvc__user_cache_get(cache, "5f0000000000000000000aaa", 1000, &got),
      MSVC__CACHE_MISS);
  CHECK_EQ_INT(msvc__user_cache_count(cache), 4);
  /* "No such user" entries, and replacing an entry. */
  CHECK_EQ_INT(
      msvc__user_cache_put(cache, "5f0000000000000000000bbb", NULL, 50), 0);
  CHECK_EQ_INT(
      msvc__user_cache_get(cache, "5f0000000000000000000bbb", 10, &got),
      MSVC__CACHE_ABSENT);
  CHECK(got.name == NULL);
  user_named(&u, "now exists");
  CHECK_EQ_INT(msvc__user_cache_put(cache, "5f0000000000000000000bbb", &u, 50),
               0);
  CHECK_EQ_INT(
      msvc__user_cache_get(cache, "5f0000000000000000000bbb", 10, &got),
      MSVC__CACHE_FOUND);
  CHECK_EQ_STR(got.name, "now exists");
  msvc__user_reset(&got);
  CHECK_EQ_INT(msvc__user_cache_count(cache), 5);
  CHECK_EQ_INT(msvc__user_cache_put(cache, "short", &u, 50), MSVC_EINVAL);
  msvc__user_cache_free(cache);
}

/* An upstream that answers with other users: individual lookups whose
 * answer carries another id fail instead of showing it; batch and cached
 * ignore the users nobody asked for and match the rest by id. */
static void test_never_another_users_details(void) {
  standin_t evil;
  memset(&evil, 0, sizeof(evil));
  if (standin_start(&evil, "evil", 0) != 0) {
    CHECK(0);
    return;
  }
  for (int s = 0; s < 3; s++) {
    msvc_resolver_t *r = open_simple(evil.url, strategies[s]);
    msvc_user_t **out;
    int rc;
    if (r == NULL)
      continue;
    for (int round = 0; round < 2; round++) {
      rc = resolve_page(r, 0, NULL, &out); /* checks every filled slot */
      if (strategies[s] == MSVC_RESOLVER_INDIVIDUAL) {
        CHECK_EQ_INT(rc, MSVC_EUNAVAIL);
        for (int i = 0; i < PAGE; i++)
          CHECK(out[i]->id[0] == '\0');
      } else {
        CHECK_EQ_INT(rc, 0);
      }
      clear_page(out);
    }
    msvc_resolver_free(r);
  }
  standin_stop(&evil);
}

/* ---- failover ---- */

/* One endpoint refuses connections.  With a huge fail_threshold it is
 * never skipped, so every lookup sent to it must be retried on the other
 * one. */
static void test_failover_refused(void) {
  char urls[256], dead[64];
  snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", standin_dead_port());
  two_urls(urls, sizeof(urls), dead, ok_srv.url);
  for (int s = 0; s < 3; s++) {
    for (int threshold = 2; threshold <= 1000; threshold *= 500) {
      msvc_http_resolver_config_t c;
      msvc_resolver_t *r;
      config_for(&c, urls, strategies[s]);
      c.fail_threshold = threshold;
      c.cache_size = 1; /* the cached strategy asks again every time */
      r = open_resolver(&c);
      if (r == NULL)
        continue;
      for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(resolve_page_ok(r), 0);
      msvc_resolver_free(r);
    }
  }
}

/* Per-endpoint monitoring: the dead endpoint is reported down with its
 * failures, the live one up with its requests and their time; past the
 * last endpoint MSVC_ENOTFOUND; a struct of an older, shorter size gets
 * only the fields it has; the local resolver has no endpoints. */
static void test_endpoint_stats(void) {
  char urls[256], dead[64];
  msvc_http_resolver_config_t c;
  msvc_resolver_endpoint_t ep0 = MSVC_RESOLVER_ENDPOINT_INIT,
                           ep1 = MSVC_RESOLVER_ENDPOINT_INIT, small;
  msvc_resolver_stats_t st = MSVC_RESOLVER_STATS_INIT;
  msvc_resolver_t *r;
  snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", standin_dead_port());
  two_urls(urls, sizeof(urls), dead, ok_srv.url);
  config_for(&c, urls, MSVC_RESOLVER_CACHED);
  c.fail_threshold = 1;
  c.probe_interval_ms = 60000;
  r = open_resolver(&c);
  if (r == NULL)
    return;
  for (int i = 0; i < 4; i++)
    CHECK_EQ_INT(resolve_page_ok(r), 0);
  CHECK_EQ_INT(msvc_resolver_endpoint(r, 0, &ep0), 0);
  CHECK_EQ_INT(msvc_resolver_endpoint(r, 1, &ep1), 0);
  CHECK_EQ_STR(ep0.url, dead);
  CHECK_EQ_STR(ep1.url, ok_srv.url);
  CHECK_EQ_INT(ep0.healthy, 0);
  CHECK(ep0.failures >= 1 && ep0.failures == ep0.requests);
  CHECK_EQ_INT(ep1.healthy, 1);
  CHECK(ep1.requests >= 1 && ep1.failures == 0 && ep1.latency_us > 0);
  CHECK_EQ_INT(msvc_resolver_endpoint(r, 2, &ep0), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_resolver_stats(r, &st), 0);
  CHECK_EQ_INT(st.cache_entries, PAGE_DISTINCT);
  /* An older header's struct: size and url only. */
  memset(&small, 0x5a, sizeof(small));
  small.size = offsetof(msvc_resolver_endpoint_t, healthy);
  CHECK_EQ_INT(msvc_resolver_endpoint(r, 1, &small), 0);
  CHECK_EQ_STR(small.url, ok_srv.url);
  CHECK_EQ_INT(small.healthy, 0x5a5a5a5a);
  small.size = 1;
  CHECK_EQ_INT(msvc_resolver_endpoint(r, 0, &small), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_resolver_endpoint(NULL, 0, &ep0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_resolver_endpoint(r, 0, NULL), MSVC_EINVAL);
  msvc_resolver_free(r);
}

/* An endpoint that accepts and never answers: every call still answers in
 * full (the retry on the other endpoint fits in the deadline), and once
 * the endpoint is marked down later calls leave it alone. */
static void test_failover_slow(void) {
  standin_t slow;
  char urls[256];
  memset(&slow, 0, sizeof(slow));
  if (standin_start(&slow, "slow", 0) != 0) {
    CHECK(0);
    return;
  }
  two_urls(urls, sizeof(urls), slow.url, ok_srv.url);
  for (int s = 0; s < 3; s++) {
    msvc_http_resolver_config_t c;
    msvc_resolver_t *r;
    int before;
    config_for(&c, urls, strategies[s]);
    c.timeout_ms = 2000;
    c.probe_interval_ms = 600000;
    r = open_resolver(&c);
    if (r == NULL)
      continue;
    standin_clear_log(&slow);
    for (int i = 0; i < 4; i++) {
      int64_t t0 = standin_now_ms();
      CHECK_EQ_INT(resolve_page_ok(r), 0);
      CHECK(standin_now_ms() - t0 < 5000);
    }
    CHECK(standin_count(&slow, "/api/") >= 1);
    before = standin_count(&slow, "/api/");
    for (int i = 0; i < 3; i++)
      CHECK_EQ_INT(resolve_page_ok(r), 0);
    CHECK_EQ_INT(standin_count(&slow, "/api/"), before);
    msvc_resolver_free(r);
  }
  standin_stop(&slow);
}

static void test_all_down(void) {
  char urls[256], a[64], b[64];
  standin_t slow;
  snprintf(a, sizeof(a), "http://127.0.0.1:%d", standin_dead_port());
  snprintf(b, sizeof(b), "http://127.0.0.1:%d", standin_dead_port());
  two_urls(urls, sizeof(urls), a, b);
  for (int s = 0; s < 3; s++) {
    msvc_resolver_t *r = open_simple(urls, strategies[s]);
    msvc_user_t **out;
    int64_t t0 = standin_now_ms();
    if (r == NULL)
      continue;
    CHECK_EQ_INT(resolve_page(r, 0, NULL, &out), MSVC_EUNAVAIL);
    CHECK(standin_now_ms() - t0 < 5000);
    for (int i = 0; i < PAGE; i++)
      CHECK(out[i]->id[0] == '\0');
    clear_page(out);
    CHECK_EQ_INT(msvc_resolver_ping(r), MSVC_EUNAVAIL);
    msvc_resolver_free(r);
  }
  /* Hanging endpoints: the deadline holds. */
  memset(&slow, 0, sizeof(slow));
  if (standin_start(&slow, "slow", 0) == 0) {
    msvc_http_resolver_config_t c;
    msvc_resolver_t *r;
    two_urls(urls, sizeof(urls), slow.url, slow.url);
    for (int s = 0; s < 3; s++) {
      int64_t t0 = standin_now_ms();
      config_for(&c, urls, strategies[s]);
      c.timeout_ms = 500;
      r = open_resolver(&c);
      if (r == NULL)
        continue;
      CHECK_EQ_INT(resolve_page_ok(r), MSVC_EUNAVAIL);
      CHECK_EQ_INT(msvc_resolver_ping(r), MSVC_EUNAVAIL);
      CHECK(standin_now_ms() - t0 < 5000);
      msvc_resolver_free(r);
    }
  }
  standin_stop(&slow);
}

/* B is down, marked so, comes back: it is left alone until the probe
 * interval has passed, then used again. */
static void test_endpoint_comes_back(void) {
  standin_t back;
  char urls[256], dead[64];
  int port = standin_dead_port();
  msvc_http_resolver_config_t c;
  msvc_resolver_t *r;
  int64_t marked;
  memset(&back, 0, sizeof(back));
  snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", port);
  two_urls(urls, sizeof(urls), ok_srv.url, dead);
  config_for(&c, urls, MSVC_RESOLVER_BATCH);
  c.probe_interval_ms = 2000;
  r = open_resolver(&c);
  if (r == NULL)
    return;
  for (int i = 0; i < 4; i++)
    CHECK_EQ_INT(resolve_page_ok(r), 0);
  marked = standin_now_ms(); /* B's last failure was before this */
  if (standin_start(&back, "ok", port) != 0) {
    CHECK(0);
    msvc_resolver_free(r);
    return;
  }
  for (int i = 0; i < 4; i++)
    CHECK_EQ_INT(resolve_page_ok(r), 0);
  if (standin_now_ms() - marked < c.probe_interval_ms) /* no stall */
    CHECK_EQ_INT(standin_count(&back, "/api/"), 0);
  standin_sleep_ms(c.probe_interval_ms + 200);
  for (int i = 0; i < 4; i++)
    CHECK_EQ_INT(resolve_page_ok(r), 0);
  CHECK(standin_count(&back, "/api/") >= 1);
  msvc_resolver_free(r);

  /* Everything down, then one endpoint back: tried at once anyway. */
  standin_kill(&back);
  snprintf(urls, sizeof(urls), "%s", dead);
  r = open_simple(urls, MSVC_RESOLVER_CACHED);
  if (r != NULL) {
    CHECK_EQ_INT(resolve_page_ok(r), MSVC_EUNAVAIL);
    CHECK_EQ_INT(resolve_page_ok(r), MSVC_EUNAVAIL);
    CHECK_EQ_INT(standin_start(&back, "ok", port), 0);
    CHECK_EQ_INT(msvc_resolver_ping(r), 0);
    CHECK_EQ_INT(resolve_page_ok(r), 0);
    msvc_resolver_free(r);
  }
  standin_stop(&back);
}

static void test_faulty_endpoint(void) {
  static const char *modes[] = {"garbage", "500", "close", "badjson"};
  for (size_t m = 0; m < MSVC__ARRAY_SIZE(modes); m++) {
    standin_t bad;
    char urls[256];
    memset(&bad, 0, sizeof(bad));
    if (standin_start(&bad, modes[m], 0) != 0) {
      CHECK(0);
      continue;
    }
    two_urls(urls, sizeof(urls), bad.url, ok_srv.url);
    for (int s = 0; s < 3; s++) {
      msvc_resolver_t *r = open_simple(urls, strategies[s]);
      msvc_resolver_stats_t st;
      if (r == NULL)
        continue;
      standin_clear_log(&bad);
      for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(resolve_page_ok(r), 0);
      CHECK(standin_count(&bad, "/api/") >= 1); /* it was tried */
      st = stats_of(r);
      CHECK(st.failures >= 1);
      msvc_resolver_free(r);
    }
    standin_stop(&bad);
  }
}

/* ---- what travels with a lookup ---- */

static char *credential(void *arg) {
  return msvc__strdup(arg);
}

static void test_headers(void) {
  for (int s = 0; s < 3; s++) {
    msvc_http_resolver_config_t c;
    msvc_resolver_t *r;
    msvc_user_t **out;
    char value[256];
    int missing;
    config_for(&c, ok_srv.url, strategies[s]);
    c.credential = credential;
    c.credential_arg = "secret-token.part2";
    r = open_resolver(&c);
    if (r == NULL)
      continue;
    standin_clear_log(&ok_srv);
    CHECK_EQ_INT(resolve_page(r, 0, "req-42", &out), 0);
    clear_page(out);
    standin_header(&ok_srv, "/api/", "authorization", value, sizeof(value),
                   &missing);
    CHECK_EQ_STR(value, "Bearer secret-token.part2");
    CHECK_EQ_INT(missing, 0);
    standin_header(&ok_srv, "/api/", "x-request-id", value, sizeof(value),
                   &missing);
    CHECK_EQ_STR(value, "req-42");
    CHECK_EQ_INT(missing, 0);
    msvc_resolver_free(r);
    /* A request id that cannot travel safely is left out. */
    c.strategy = MSVC_RESOLVER_BATCH;
    r = open_resolver(&c);
    standin_clear_log(&ok_srv);
    CHECK_EQ_INT(resolve_page(r, 0, "a\r\nX-Evil: 1", &out), 0);
    clear_page(out);
    standin_header(&ok_srv, "/api/", "x-evil", value, sizeof(value), &missing);
    CHECK_EQ_INT(missing, 1);
    standin_header(&ok_srv, "/api/", "x-request-id", value, sizeof(value),
                   &missing);
    CHECK_EQ_INT(missing, 1);
    msvc_resolver_free(r);
  }
}

static void test_header_credential_edge_cases(void) {
  msvc_http_resolver_config_t c;
  msvc_resolver_t *r;
  msvc_user_t **out;
  char value[64];
  int missing;
  config_for(&c, ok_srv.url, MSVC_RESOLVER_BATCH);
  r = open_resolver(&c); /* no credential: no Authorization */
  standin_clear_log(&ok_srv);
  CHECK_EQ_INT(resolve_page(r, 0, NULL, &out), 0);
  clear_page(out);
  standin_header(&ok_srv, "/api/", "authorization", value, sizeof(value),
                 &missing);
  CHECK_EQ_INT(missing, 1);
  msvc_resolver_free(r);
  c.credential = credential; /* a token that would split the header */
  c.credential_arg = "tok\r\nX-Evil: 1";
  r = open_resolver(&c);
  standin_clear_log(&ok_srv);
  CHECK_EQ_INT(resolve_page(r, 0, NULL, &out), MSVC_EUNAVAIL);
  clear_page(out);
  CHECK_EQ_INT(standin_count(&ok_srv, "/"), 0);
  msvc_resolver_free(r);
}

/* ---- non-blocking calls, threads, ping ---- */

static void test_nonblock(void) {
  for (int s = 0; s < 3; s++) {
    msvc_resolver_t *r = open_simple(ok_srv.url, strategies[s]);
    msvc_resolver_stats_t st;
    msvc_user_t **out;
    if (r == NULL)
      continue;
    standin_clear_log(&ok_srv);
    CHECK_EQ_INT(resolve_page(r, MSVC_NOWAIT, NULL, &out), MSVC_EWOULDBLOCK);
    clear_page(out);
    CHECK_EQ_INT(standin_count(&ok_srv, "/"), 0);
    st = stats_of(r);
    CHECK_EQ_INT(st.hits + st.misses + st.requests, 0);
    if (strategies[s] == MSVC_RESOLVER_CACHED) {
      CHECK_EQ_INT(resolve_page_ok(r), 0); /* warms the cache */
      CHECK_EQ_INT(resolve_page(r, MSVC_NOWAIT, NULL, &out), 0);
      clear_page(out);
      CHECK_EQ_INT(standin_count(&ok_srv, "/"), 1);
      st = stats_of(r);
      CHECK_EQ_INT(st.hits, PAGE_DISTINCT);
    }
    msvc_resolver_free(r);
  }
}

static void *thread_main(void *arg) {
  msvc_resolver_t *r = arg;
  long bad = 0;
  for (int i = 0; i < 5; i++) {
    msvc_id_t ids[PAGE];
    msvc_user_t **out = users_new(PAGE);
    make_page(ids);
    bad += msvc_resolver_resolve(r, NULL, ids, PAGE, out) != 0;
    bad += page_errors(ids, out, 1);
    clear_page(out);
  }
  return (void *)bad;
}

static void test_threads(void) {
  char urls[256];
  standin_t second;
  memset(&second, 0, sizeof(second));
  if (standin_start(&second, "ok", 0) != 0) {
    CHECK(0);
    return;
  }
  two_urls(urls, sizeof(urls), ok_srv.url, second.url);
  for (int s = 0; s < 3; s++) {
    msvc_resolver_t *r = open_simple(urls, strategies[s]);
    pthread_t t[4];
    if (r == NULL)
      continue;
    for (int i = 0; i < 4; i++)
      CHECK_EQ_INT(pthread_create(&t[i], NULL, thread_main, r), 0);
    for (int i = 0; i < 4; i++) {
      void *bad = NULL;
      pthread_join(t[i], &bad);
      CHECK_EQ_INT((long)bad, 0);
    }
    msvc_resolver_free(r);
  }
  /* Round-robin: both endpoints took a share. */
  CHECK(standin_count(&second, "/api/") >= 1);
  standin_stop(&second);
}

static void test_ping(void) {
  char urls[256], dead[64];
  msvc_resolver_t *r = open_simple(ok_srv.url, MSVC_RESOLVER_BATCH);
  CHECK_EQ_INT(msvc_resolver_ping(r), 0);
  msvc_resolver_free(r);
  snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", standin_dead_port());
  two_urls(urls, sizeof(urls), dead, ok_srv.url);
  r = open_simple(urls, MSVC_RESOLVER_INDIVIDUAL);
  CHECK_EQ_INT(msvc_resolver_ping(r), 0);
  msvc_resolver_free(r);
}

/* ---- what a failure says ---- */

/* The detail a failing call leaves for msvc_errmsg(): the upstream that
 * failed and why. */
static void test_error_detail(void) {
  static const int marker = 0; /* stands for the msvc_t of the call */
  char dead[64];
  msvc_resolver_t *r;
  int rc;
  snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", standin_dead_port());
  r = open_simple(dead, MSVC_RESOLVER_BATCH);
  if (r == NULL)
    return;
  msvc__errmsg_clear();
  rc = resolve_page_ok(r);
  CHECK_EQ_INT(rc, MSVC_EUNAVAIL);
  msvc__errmsg_finish(&marker, rc);
  if (strstr(msvc__errmsg_get(&marker), dead) == NULL)
    fprintf(stderr, "   detail: %s\n", msvc__errmsg_get(&marker));
  CHECK(strstr(msvc__errmsg_get(&marker), dead) != NULL);
  msvc_resolver_free(r);
}

/* ---- HTTPS upstreams ---- */

static void test_https(void) {
  static const int marker = 0;
  standin_pki_t pki;
  standin_t tls;
  if (!standin_pki_available() || standin_pki_make(&pki) != 0) {
    TEST_SKIP_PART("openssl is missing or failed");
    return;
  }
  memset(&tls, 0, sizeof(tls));
  CHECK_EQ_INT(standin_start_tls(&tls, "ok", 0, pki.cert, pki.key), 0);
  for (int s = 0; s < 3; s++) {
    msvc_http_resolver_config_t c;
    msvc_resolver_t *r;
    int rc;
    /* (a) the CA that signed the certificate: lookups work, twice (the
     * second on a kept-alive connection). */
    config_for(&c, tls.url, strategies[s]);
    c.ca_file = pki.ca;
    c.cache_size = 1;
    r = open_resolver(&c);
    if (r != NULL) {
      CHECK_EQ_INT(resolve_page_ok(r), 0);
      CHECK_EQ_INT(resolve_page_ok(r), 0);
      CHECK_EQ_INT(msvc_resolver_ping(r), 0);
    }
    msvc_resolver_free(r);
    /* (b) another CA (of the same name): the certificate is refused. */
    c.ca_file = pki.other_ca;
    r = open_resolver(&c);
    if (r != NULL) {
      msvc__errmsg_clear();
      rc = resolve_page_ok(r);
      CHECK_EQ_INT(rc, MSVC_EUNAVAIL);
      msvc__errmsg_finish(&marker, rc);
      CHECK(strstr(msvc__errmsg_get(&marker), "certificate") != NULL);
      CHECK_EQ_INT(msvc_resolver_ping(r), MSVC_EUNAVAIL);
    }
    msvc_resolver_free(r);
  }
  /* The stand-in saw only the lookups made with the right CA. */
  CHECK(standin_count(&tls, "/api/") >= 3);
  standin_stop(&tls);
  standin_pki_remove(&pki);
}

/* (c) Name lookups are bounded by the deadline too: an upstream whose
 * name takes seconds to look up costs a call no more than timeout_ms. */
static void test_dns_deadline(void) {
  char urls[256];
  snprintf(urls, sizeof(urls), "https://%s:443, http://%s:80",
           STANDIN_SLOW_HOST, STANDIN_SLOW_HOST);
  for (int s = 0; s < 3; s++) {
    msvc_http_resolver_config_t c;
    msvc_resolver_t *r;
    int64_t t0;
    config_for(&c, urls, strategies[s]);
    c.timeout_ms = 500;
    r = open_resolver(&c);
    if (r == NULL)
      continue;
    t0 = standin_now_ms();
    CHECK_EQ_INT(resolve_page_ok(r), MSVC_EUNAVAIL);
    CHECK_EQ_INT(msvc_resolver_ping(r), MSVC_EUNAVAIL);
    CHECK(standin_now_ms() - t0 < STANDIN_SLOW_DNS_MS - 1000);
    msvc_resolver_free(r);
  }
  /* Let the abandoned lookups end, so that the process exits clean. */
  standin_sleep_ms(STANDIN_SLOW_DNS_MS);
}

int main(void) {
  if (!standin_available())
    TEST_SKIP("python3 or the stand-in script is missing");
  signal(SIGPIPE, SIG_IGN);
  RUN(test_config);
  RUN(test_cache_structure);
  if (standin_start(&ok_srv, "ok", 0) != 0) {
    fprintf(stderr, "could not start the stand-in\n");
    return 1;
  }
  RUN(test_config_abi);
  RUN(test_strategies_agree);
  RUN(test_individual_concurrent);
  RUN(test_cached_hits_and_expiry);
  RUN(test_cached_bounded);
  RUN(test_never_another_users_details);
  RUN(test_failover_refused);
  RUN(test_failover_slow);
  RUN(test_endpoint_stats);
  RUN(test_all_down);
  RUN(test_endpoint_comes_back);
  RUN(test_faulty_endpoint);
  RUN(test_headers);
  RUN(test_header_credential_edge_cases);
  RUN(test_nonblock);
  RUN(test_threads);
  RUN(test_ping);
  RUN(test_error_detail);
  RUN(test_https);
  RUN(test_dns_deadline);
  standin_stop(&ok_srv);
  TEST_MAIN_END();
}
