/* test_http_client.c - the internal HTTP/1.1 client against a real HTTP
 * peer (tests/resolver/standin.py) on loopback: URL parsing, every framing
 * (Content-Length, chunked, to the end of the connection), keep-alive
 * reuse, garbage of every sort, size caps, deadlines, refused connections,
 * the stale-connection retry, concurrent requests in one run and from
 * several threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "internal.h"
#include "standin.h"
#include "testutil.h"

static standin_t srv;
static msvc__http_origin_t *origin;

static msvc__http_origin_t *origin_for(const char *url) {
  msvc__http_origin_t *o = NULL;
  char err[256] = "";
  int rc = msvc__http_origin_new(url, strlen(url), &o, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "origin %s: %s\n", url, err);
  return o;
}

/* One GET on o within timeout_ms; r is left for the caller to inspect and
 * reset. */
static int get_on(msvc__http_origin_t *o, const char *target,
                  msvc__http_req_t *r, int timeout_ms) {
  memset(r, 0, sizeof(*r));
  r->origin = o;
  r->method = "GET";
  r->target = target;
  msvc__http_run(r, 1, msvc__monotonic_ms() + timeout_ms, 0);
  return r->err;
}

static int get(const char *target, msvc__http_req_t *r) {
  return get_on(origin, target, r, 5000);
}

static void test_origin_parse(void) {
  static const char *bad[] = {
      "ftp://a:1",        "http://",      "http://:80",    "http://a:0",
      "http://a:70000",   "http://a:12x", "http://a/path", "http://u@a:1",
      "http://a:1?q",     "http://[::1",  "http://a b:1",  "",
      "http://[zz::1]:1", "http://a:1//"};
  msvc__http_origin_t *o = NULL;
  char err[256] = "";
  int rc = msvc__http_origin_new("https://a:1", 11, &o, err, sizeof(err));
  CHECK_EQ_INT(rc, MSVC_ECONFIG);
  CHECK(o == NULL);
  CHECK(strstr(err, "https") != NULL);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(bad); i++) {
    err[0] = '\0';
    rc = msvc__http_origin_new(bad[i], strlen(bad[i]), &o, err, sizeof(err));
    if (rc != MSVC_ECONFIG)
      fprintf(stderr, "accepted bad URL \"%s\"\n", bad[i]);
    CHECK_EQ_INT(rc, MSVC_ECONFIG);
    CHECK(err[0] != '\0');
  }
  o = origin_for("http://127.0.0.1:8080");
  CHECK(o != NULL &&
        strcmp(msvc__http_origin_authority(o), "127.0.0.1:8080") == 0);
  msvc__http_origin_free(o);
  o = origin_for("HTTP://localhost/");
  CHECK(o != NULL && strcmp(msvc__http_origin_authority(o), "localhost") == 0);
  msvc__http_origin_free(o);
  o = origin_for("http://[::1]:9000");
  CHECK(o != NULL && strcmp(msvc__http_origin_authority(o), "[::1]:9000") == 0);
  msvc__http_origin_free(o);
  /* Only len bytes count: the rest of a list is not part of the URL. */
  rc = msvc__http_origin_new("http://a:1,http://b:2", 10, &o, err, sizeof(err));
  CHECK_EQ_INT(rc, 0);
  CHECK(o != NULL && strcmp(msvc__http_origin_authority(o), "a:1") == 0);
  msvc__http_origin_free(o);
}

static void expect_body(const char *target, int status, const char *body) {
  msvc__http_req_t r;
  CHECK_EQ_INT(get(target, &r), 0);
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

static void test_keep_alive(void) {
  msvc__http_req_t r;
  standin_clear_log(&srv);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(get("/raw/length", &r), 0);
    msvc__http_req_reset(&r);
  }
  CHECK_EQ_INT(standin_count(&srv, "/raw/length"), 3);
  CHECK_EQ_INT(standin_connections(&srv, "/raw/length"), 1);
  CHECK_EQ_INT(msvc__http_origin_idle_count(origin), 1);
  /* Connection: close and an end-of-connection body are not pooled. */
  CHECK_EQ_INT(get("/raw/connclose", &r), 0);
  CHECK_EQ_STR(r.resp, "bye");
  msvc__http_req_reset(&r);
  CHECK_EQ_INT(msvc__http_origin_idle_count(origin), 0);
  CHECK_EQ_INT(get("/raw/eof", &r), 0);
  msvc__http_req_reset(&r);
  CHECK_EQ_INT(msvc__http_origin_idle_count(origin), 0);
}

static void test_garbage(void) {
  static const struct {
    const char *target;
    int err;
  } cases[] = {
      {"/raw/badstatus", MSVC_EIO},      {"/raw/nothttp", MSVC_EIO},
      {"/raw/badlength", MSVC_EIO},      {"/raw/twolengths", MSVC_EIO},
      {"/raw/badchunk", MSVC_EIO},       {"/raw/badchunkend", MSVC_EIO},
      {"/raw/gzip", MSVC_EIO},           {"/raw/short", MSVC_EIO},
      {"/raw/shortchunk", MSVC_EIO},     {"/raw/fold", MSVC_EIO},
      {"/raw/bighead", MSVC_EIO},        {"/raw/huge", MSVC_ETOOBIG},
      {"/raw/hugechunked", MSVC_ETOOBIG}};
  msvc__http_req_t r;
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(cases); i++) {
    int rc = get(cases[i].target, &r);
    if (rc != cases[i].err)
      fprintf(stderr, "%s: %s\n", cases[i].target, msvc_err_name(rc));
    CHECK_EQ_INT(rc, cases[i].err);
    CHECK(r.resp == NULL);
    msvc__http_req_reset(&r);
    CHECK_EQ_INT(msvc__http_origin_idle_count(origin), 0);
  }
  expect_body("/raw/length", 200, "{\"ok\":true}"); /* still fine after */
}

static void test_bad_requests(void) {
  msvc__http_req_t r;
  CHECK_EQ_INT(get("/a b", &r), MSVC_EINVAL);
  CHECK_EQ_INT(get("relative", &r), MSVC_EINVAL);
  CHECK_EQ_INT(get("/a\r\nX: y", &r), MSVC_EINVAL);
  msvc__http_req_reset(&r);
}

static void test_deadline(void) {
  msvc__http_req_t r;
  int64_t t0 = msvc__monotonic_ms();
  CHECK_EQ_INT(get_on(origin, "/raw/hang", &r, 300), MSVC_ETIMEDOUT);
  CHECK(msvc__monotonic_ms() - t0 < 5000);
  msvc__http_req_reset(&r);
}

static void test_refused(void) {
  char url[64];
  msvc__http_origin_t *dead;
  msvc__http_req_t r;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", standin_dead_port());
  dead = origin_for(url);
  CHECK(dead != NULL);
  CHECK_EQ_INT(get_on(dead, "/healthz", &r, 5000), MSVC_EUNAVAIL);
  msvc__http_origin_free(dead);
}

/* The server drops a pooled connection when the next request arrives on
 * it, before answering: the client must send again on a fresh one. */
static void test_stale_retry(void) {
  msvc__http_req_t r;
  expect_body("/raw/length", 200, "{\"ok\":true}"); /* pool: 1 connection */
  standin_clear_log(&srv);
  expect_body("/raw/thenclose", 200, "first");
  CHECK_EQ_INT(msvc__http_origin_idle_count(origin), 1);
  CHECK_EQ_INT(get("/raw/length", &r), 0);
  CHECK_EQ_INT(r.status, 200);
  msvc__http_req_reset(&r);
  CHECK_EQ_INT(standin_count(&srv, "/raw/length"), 2);
  CHECK_EQ_INT(standin_connections(&srv, "/raw/"), 2);
}

static void test_concurrent_run(void) {
  msvc__http_req_t reqs[6];
  memset(reqs, 0, sizeof(reqs));
  standin_clear_log(&srv);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(reqs); i++) {
    reqs[i].origin = origin;
    reqs[i].method = "GET";
    reqs[i].target = "/raw/delay";
  }
  msvc__http_run(reqs, 6, msvc__monotonic_ms() + 10000, 0);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(reqs); i++) {
    CHECK_EQ_INT(reqs[i].err, 0);
    CHECK_EQ_STR(reqs[i].resp, "late");
    msvc__http_req_reset(&reqs[i]);
  }
  CHECK_EQ_INT(standin_connections(&srv, "/raw/delay"), 6);
  CHECK(standin_max_inflight(&srv, "/raw/delay") >= 2);
  CHECK(msvc__http_origin_idle_count(origin) >= 6);
}

static void test_post(void) {
  msvc__http_req_t r;
  memset(&r, 0, sizeof(r));
  r.origin = origin;
  r.method = "POST";
  r.target = "/raw/echo";
  r.headers = "Content-Type: text/plain\r\n";
  r.body = "hello";
  r.body_len = 5;
  msvc__http_run(&r, 1, msvc__monotonic_ms() + 5000, 0);
  CHECK_EQ_INT(r.err, 0);
  CHECK_EQ_STR(r.resp, "{\"length\": 5}");
  msvc__http_req_reset(&r);
}

static void test_first_ok(void) {
  msvc__http_req_t reqs[2];
  int64_t t0 = msvc__monotonic_ms();
  memset(reqs, 0, sizeof(reqs));
  reqs[0].origin = reqs[1].origin = origin;
  reqs[0].method = reqs[1].method = "GET";
  reqs[0].target = "/raw/hang";
  reqs[1].target = "/raw/length";
  msvc__http_run(reqs, 2, t0 + 20000, MSVC__HTTP_FIRST_OK);
  CHECK(msvc__monotonic_ms() - t0 < 5000);
  CHECK_EQ_INT(reqs[0].err, MSVC_ETIMEDOUT);
  CHECK_EQ_INT(reqs[1].err, 0);
  CHECK_EQ_INT(reqs[1].status, 200);
  msvc__http_req_reset(&reqs[0]);
  msvc__http_req_reset(&reqs[1]);
}

static void *thread_main(void *arg) {
  int *failures = arg;
  for (int i = 0; i < 10; i++) {
    msvc__http_req_t reqs[2];
    memset(reqs, 0, sizeof(reqs));
    for (int k = 0; k < 2; k++) {
      reqs[k].origin = origin;
      reqs[k].method = "GET";
      reqs[k].target = k ? "/raw/chunked" : "/raw/length";
    }
    msvc__http_run(reqs, 2, msvc__monotonic_ms() + 10000, 0);
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
  CHECK(msvc__http_origin_idle_count(origin) <= MSVC__HTTP_POOL_MAX);
}

int main(void) {
  if (!standin_available()) {
    printf("skipped: python3 or the stand-in script is missing\n");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  RUN(test_origin_parse);
  if (standin_start(&srv, "ok", 0) != 0) {
    fprintf(stderr, "could not start the stand-in\n");
    return 1;
  }
  origin = origin_for(srv.url);
  CHECK(origin != NULL);
  if (origin != NULL) {
    RUN(test_framing);
    RUN(test_keep_alive);
    RUN(test_garbage);
    RUN(test_bad_requests);
    RUN(test_deadline);
    RUN(test_refused);
    RUN(test_stale_retry);
    RUN(test_concurrent_run);
    RUN(test_post);
    RUN(test_first_ok);
    RUN(test_threads);
  }
  msvc__http_origin_free(origin);
  standin_stop(&srv);
  TEST_MAIN_END();
}
