/* test_http_client.c - the HTTP resolvers' libcurl transport
 * (libmsvc/resolver/http/transport.c) against a real HTTP peer
 * (tests/resolver/standin.py) on loopback: base URL checks, every framing
 * (Content-Length, chunked, to the end of the connection), keep-alive
 * reuse from call to call, garbage, the 8 MiB cap, deadlines (name lookups
 * included), refused connections, the stale-connection retry, concurrent
 * requests in one run and from several threads, and HTTPS with a test CA
 * and with a wrong one. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "resolver/http/transport.h"
#include "standin.h"
#include "testutil.h"

static standin_t srv;
static msvc__http_t *http;

static msvc__http_t *transport(const char *ca_file) {
  msvc__http_t *h = NULL;
  char err[256] = "";
  int rc = msvc__http_new(ca_file, &h, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "msvc__http_new: %s: %s\n", msvc_err_name(rc), err);
  CHECK_EQ_INT(rc, 0);
  return h;
}

/* One GET of base+path within timeout_ms; r is left for the caller to
 * inspect and reset. */
static int get_on(msvc__http_t *h, const char *base, const char *path,
                  msvc__http_req_t *r, int timeout_ms) {
  static char url[512];
  snprintf(url, sizeof(url), "%s%s", base, path);
  memset(r, 0, sizeof(*r));
  r->url = url;
  r->method = "GET";
  msvc__http_run(h, r, 1, msvc__monotonic_ms() + timeout_ms, 0);
  return r->err;
}

static int get(const char *path, msvc__http_req_t *r) {
  return get_on(http, srv.url, path, r, 5000);
}

static void check_base(const char *url, size_t len, const char *want) {
  char *base = NULL, err[256] = "";
  int rc = msvc__http_base_parse(url, len, &base, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "   %.*s: %s\n", (int)len, url, err);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_STR(base, want);
  free(base);
}

static void test_base_parse(void) {
  static const char *bad[] = {
      "ftp://a:1",         "http://",      "http://:80",    "http://a:0",
      "http://a:70000",    "http://a:12x", "http://a/path", "http://u@a:1",
      "http://a:1?q",      "http://[::1",  "http://a b:1",  "",
      "http://[zz::1]:1",  "http://a:1//", "a:1",           "http://a:1#f",
      "file:///etc/hosts", "http://a!b:1", "https://u:p@a"};
  char *base = NULL, err[256] = "";
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(bad); i++) {
    int rc;
    err[0] = '\0';
    rc = msvc__http_base_parse(bad[i], strlen(bad[i]), &base, err, sizeof(err));
    if (rc != MSVC_ECONFIG)
      fprintf(stderr, "accepted bad URL \"%s\"\n", bad[i]);
    CHECK_EQ_INT(rc, MSVC_ECONFIG);
    CHECK(base == NULL && err[0] != '\0');
  }
  check_base("http://127.0.0.1:8080", 21, "http://127.0.0.1:8080");
  check_base("HTTP://localhost/", 17, "http://localhost");
  check_base("http://[::1]:9000", 17, "http://[::1]:9000");
  check_base("https://auth.example.com", 24, "https://auth.example.com");
  check_base("https://a:1/", 12, "https://a:1");
  /* Only len bytes count: the rest of a list is not part of the URL. */
  check_base("http://a:1,http://b:2", 10, "http://a:1");
}

static void expect_body(const char *path, int status, const char *body) {
  msvc__http_req_t r;
  CHECK_EQ_INT(get(path, &r), 0);
  CHECK_EQ_INT(r.status, status);
  CHECK(r.resp != NULL);
  CHECK_EQ_STR(r.resp, body);
  CHECK_EQ_INT(r.resp_len, strlen(body));
  msvc__http_req_reset(&r);
}

static void test_framing(void) {
  expect_body("/raw/length", 200, "{\"ok\":true}");
  expect_body("/raw/chunked", 200, "hello, world");
  expect_body("/raw/eof", 200, "until the end");
  expect_body("/raw/empty", 204, "");
  expect_body("/raw/interim", 200, "after");
  expect_body("/api/getUser/5f00000000000000000000ff", 404,
              "{\"status\": 404, \"message\": \"User not found\"}");
}

/* Calls one after the other reuse one connection (the pool gives the same
 * multi handle back); a response that closes it is not reused. */
static void test_keep_alive(void) {
  msvc__http_req_t r;
  standin_clear_log(&srv);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(get("/raw/length", &r), 0);
    msvc__http_req_reset(&r);
  }
  CHECK_EQ_INT(standin_count(&srv, "/raw/length"), 3);
  CHECK_EQ_INT(standin_connections(&srv, "/raw/length"), 1);
  CHECK_EQ_INT(msvc__http_pool_count(http), 1);
  standin_clear_log(&srv);
  CHECK_EQ_INT(get("/raw/connclose", &r), 0);
  CHECK_EQ_STR(r.resp, "bye");
  msvc__http_req_reset(&r);
  CHECK_EQ_INT(get("/raw/length", &r), 0);
  msvc__http_req_reset(&r);
  CHECK_EQ_INT(standin_connections(&srv, "/raw/"), 2);
}

static void test_garbage(void) {
  static const struct {
    const char *path;
    int err;
  } cases[] = {
      {"/raw/badstatus", MSVC_EIO},       {"/raw/nothttp", MSVC_EIO},
      {"/raw/badchunk", MSVC_EIO},        {"/raw/short", MSVC_EIO},
      {"/raw/shortchunk", MSVC_EIO},      {"/raw/huge", MSVC_ETOOBIG},
      {"/raw/hugechunked", MSVC_ETOOBIG},
  };
  msvc__http_req_t r;
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(cases); i++) {
    int rc = get(cases[i].path, &r);
    if (rc != cases[i].err)
      fprintf(stderr, "%s: %s (%s)\n", cases[i].path, msvc_err_name(rc),
              r.detail);
    CHECK_EQ_INT(rc, cases[i].err);
    CHECK(r.resp == NULL && r.detail[0] != '\0');
    msvc__http_req_reset(&r);
  }
  expect_body("/raw/length", 200, "{\"ok\":true}"); /* still fine after */
}

static void test_bad_requests(void) {
  msvc__http_req_t r;
  CHECK(get("/a b", &r) != 0);
  msvc__http_req_reset(&r);
  memset(&r, 0, sizeof(r));
  r.url = srv.url;
  r.method = "DELETE"; /* only GET and POST */
  msvc__http_run(http, &r, 1, msvc__monotonic_ms() + 1000, 0);
  CHECK_EQ_INT(r.err, MSVC_EINVAL);
  msvc__http_req_reset(&r);
  r.url = NULL;
  msvc__http_run(http, &r, 1, msvc__monotonic_ms() + 1000, 0);
  CHECK_EQ_INT(r.err, MSVC_EINVAL);
}

static void test_deadline(void) {
  msvc__http_req_t r;
  int64_t t0 = msvc__monotonic_ms();
  CHECK_EQ_INT(get_on(http, srv.url, "/raw/hang", &r, 300), MSVC_ETIMEDOUT);
  CHECK(msvc__monotonic_ms() - t0 < 2000);
  msvc__http_req_reset(&r);
  /* A deadline already gone sends nothing. */
  standin_clear_log(&srv);
  CHECK_EQ_INT(get_on(http, srv.url, "/raw/length", &r, 0), MSVC_ETIMEDOUT);
  CHECK_EQ_INT(standin_count(&srv, "/"), 0);
}

/* A name lookup that hangs is cut off by the deadline like the rest. */
static void test_dns_deadline(void) {
  msvc__http_req_t r;
  char base[64];
  int64_t t0 = msvc__monotonic_ms();
  snprintf(base, sizeof(base), "http://%s:%d", STANDIN_SLOW_HOST, srv.port);
  CHECK_EQ_INT(get_on(http, base, "/healthz", &r, 400), MSVC_ETIMEDOUT);
  CHECK(msvc__monotonic_ms() - t0 < STANDIN_SLOW_DNS_MS - 1000);
  msvc__http_req_reset(&r);
  /* Let the abandoned lookups end, so that the process exits clean. */
  standin_sleep_ms(STANDIN_SLOW_DNS_MS);
  /* A name that does not exist fails at once, as unavailable. */
  t0 = msvc__monotonic_ms();
  CHECK_EQ_INT(get_on(http, "http://no-such-host.invalid:1", "/", &r, 2000),
               MSVC_EUNAVAIL);
  CHECK(msvc__monotonic_ms() - t0 < 3000);
  msvc__http_req_reset(&r);
}

static void test_refused(void) {
  char url[64];
  msvc__http_req_t r;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", standin_dead_port());
  CHECK_EQ_INT(get_on(http, url, "/healthz", &r, 5000), MSVC_EUNAVAIL);
  CHECK(r.detail[0] != '\0');
  msvc__http_req_reset(&r);
}

/* The server drops a kept-alive connection when the next request arrives
 * on it, before answering: libcurl sends again on a fresh one. */
static void test_stale_retry(void) {
  msvc__http_req_t r;
  expect_body("/raw/length", 200, "{\"ok\":true}");
  standin_clear_log(&srv);
  expect_body("/raw/thenclose", 200, "first");
  CHECK_EQ_INT(get("/raw/length", &r), 0);
  CHECK_EQ_INT(r.status, 200);
  msvc__http_req_reset(&r);
  CHECK_EQ_INT(standin_count(&srv, "/raw/length"), 2);
  CHECK_EQ_INT(standin_connections(&srv, "/raw/"), 2);
}

static void test_concurrent_run(void) {
  msvc__http_req_t reqs[6];
  char url[128];
  snprintf(url, sizeof(url), "%s/raw/delay", srv.url);
  memset(reqs, 0, sizeof(reqs));
  standin_clear_log(&srv);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(reqs); i++) {
    reqs[i].url = url;
    reqs[i].method = "GET";
  }
  msvc__http_run(http, reqs, 6, msvc__monotonic_ms() + 10000, 0);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(reqs); i++) {
    CHECK_EQ_INT(reqs[i].err, 0);
    CHECK_EQ_STR(reqs[i].resp, "late");
    msvc__http_req_reset(&reqs[i]);
  }
  CHECK_EQ_INT(standin_count(&srv, "/raw/delay"), 6);
  CHECK(standin_max_inflight(&srv, "/raw/delay") >= 2);
}

static void test_post(void) {
  static const char *const headers[] = {"Content-Type: text/plain", "X-Test: 1",
                                        NULL};
  msvc__http_req_t r;
  char url[128], value[64];
  int missing;
  snprintf(url, sizeof(url), "%s/raw/echo", srv.url);
  memset(&r, 0, sizeof(r));
  r.url = url;
  r.method = "POST";
  r.headers = headers;
  r.body = "hello";
  r.body_len = 5;
  standin_clear_log(&srv);
  msvc__http_run(http, &r, 1, msvc__monotonic_ms() + 5000, 0);
  CHECK_EQ_INT(r.err, 0);
  CHECK_EQ_STR(r.resp, "{\"length\": 5}");
  msvc__http_req_reset(&r);
  standin_header(&srv, "/raw/echo", "x-test", value, sizeof(value), &missing);
  CHECK_EQ_STR(value, "1");
  standin_header(&srv, "/raw/echo", "expect", value, sizeof(value), &missing);
  CHECK_EQ_INT(missing, 1); /* no 100-continue round trip */
}

static void test_first_ok(void) {
  msvc__http_req_t reqs[2];
  char hang[128], ok[128];
  int64_t t0 = msvc__monotonic_ms();
  snprintf(hang, sizeof(hang), "%s/raw/hang", srv.url);
  snprintf(ok, sizeof(ok), "%s/raw/length", srv.url);
  memset(reqs, 0, sizeof(reqs));
  reqs[0].method = reqs[1].method = "GET";
  reqs[0].url = hang;
  reqs[1].url = ok;
  msvc__http_run(http, reqs, 2, t0 + 20000, MSVC__HTTP_FIRST_OK);
  CHECK(msvc__monotonic_ms() - t0 < 5000);
  CHECK_EQ_INT(reqs[0].err, MSVC_ETIMEDOUT);
  CHECK_EQ_INT(reqs[1].err, 0);
  CHECK_EQ_INT(reqs[1].status, 200);
  msvc__http_req_reset(&reqs[0]);
  msvc__http_req_reset(&reqs[1]);
}

static void *thread_main(void *arg) {
  int *failures = arg;
  char a[128], b[128];
  snprintf(a, sizeof(a), "%s/raw/length", srv.url);
  snprintf(b, sizeof(b), "%s/raw/chunked", srv.url);
  for (int i = 0; i < 10; i++) {
    msvc__http_req_t reqs[2];
    memset(reqs, 0, sizeof(reqs));
    reqs[0].url = a;
    reqs[1].url = b;
    reqs[0].method = reqs[1].method = "GET";
    msvc__http_run(http, reqs, 2, msvc__monotonic_ms() + 10000, 0);
    for (int k = 0; k < 2; k++) {
      if (reqs[k].err != 0 || reqs[k].status != 200)
        (*failures)++;
      msvc__http_req_reset(&reqs[k]);
    }
  }
  return NULL;
}

static void test_threads(void) {
  pthread_t t[4];
  int failures[4] = {0};
  for (int i = 0; i < 4; i++)
    CHECK_EQ_INT(pthread_create(&t[i], NULL, thread_main, &failures[i]), 0);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK_EQ_INT(failures[i], 0);
  }
  CHECK(msvc__http_pool_count(http) >= 1);
  CHECK(msvc__http_pool_count(http) <= 4);
}

/* HTTPS: the stand-in's certificate is accepted against the CA that
 * signed it and refused against another (same name, other key) and
 * against the system's store. */
static void test_https(void) {
  standin_pki_t pki;
  standin_t tls;
  msvc__http_t *good, *wrong, *system_store;
  msvc__http_req_t r;
  char plain[64];
  if (!standin_pki_available() || standin_pki_make(&pki) != 0) {
    TEST_SKIP_PART("openssl is missing or failed");
    return;
  }
  memset(&tls, 0, sizeof(tls));
  CHECK_EQ_INT(standin_start_tls(&tls, "ok", 0, pki.cert, pki.key), 0);
  good = transport(pki.ca);
  wrong = transport(pki.other_ca);
  system_store = transport(NULL);
  if (good != NULL && wrong != NULL && system_store != NULL) {
    for (int i = 0; i < 2; i++) { /* the second on a kept connection */
      CHECK_EQ_INT(get_on(good, tls.url, "/healthz", &r, 5000), 0);
      CHECK_EQ_INT(r.status, 200);
      msvc__http_req_reset(&r);
    }
    CHECK_EQ_INT(get_on(wrong, tls.url, "/healthz", &r, 5000), MSVC_EUNAVAIL);
    CHECK(strstr(r.detail, "certificate") != NULL);
    msvc__http_req_reset(&r);
    CHECK_EQ_INT(get_on(system_store, tls.url, "/healthz", &r, 5000),
                 MSVC_EUNAVAIL);
    msvc__http_req_reset(&r);
    /* Plain HTTP to a TLS port fails rather than hanging. */
    snprintf(plain, sizeof(plain), "http://127.0.0.1:%d", tls.port);
    CHECK(get_on(good, plain, "/healthz", &r, 5000) != 0);
    msvc__http_req_reset(&r);
  }
  msvc__http_free(good);
  msvc__http_free(wrong);
  msvc__http_free(system_store);
  standin_stop(&tls);
  standin_pki_remove(&pki);
}

int main(void) {
  if (!standin_available())
    TEST_SKIP("python3 or the stand-in script is missing");
  RUN(test_base_parse);
  if (standin_start(&srv, "ok", 0) != 0) {
    fprintf(stderr, "could not start the stand-in\n");
    return 1;
  }
  http = transport(NULL);
  if (http != NULL) {
    RUN(test_framing);
    RUN(test_keep_alive);
    RUN(test_garbage);
    RUN(test_bad_requests);
    RUN(test_deadline);
    RUN(test_dns_deadline);
    RUN(test_refused);
    RUN(test_stale_retry);
    RUN(test_concurrent_run);
    RUN(test_post);
    RUN(test_first_ok);
    RUN(test_threads);
    RUN(test_https);
  }
  msvc__http_free(http);
  standin_stop(&srv);
  TEST_MAIN_END();
}
