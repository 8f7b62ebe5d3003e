/* metrics.c - per-loop counters and the Prometheus text exposition.
 *
 * Writers are the shards' own loops; each counter has one writer, so an
 * increment is a relaxed load and a relaxed store (no locked instruction),
 * and a reader on another thread sees either the old or the new value.
 * The histogram keeps per-bucket counts and cumulates them while writing,
 * so that counting touches one bucket.  Series of routes never called are
 * left out (Prometheus treats an absent series as zero), which keeps a
 * scrape short on a process that serves a few of its routes.
 */
#include "metrics.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const int64_t bucket_us[MSVC_METRICS_NBUCKETS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

#define NB (MSVC_METRICS_NBUCKETS + 1)

static void bump(uint64_t *p, uint64_t v) {
  __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v,
                   __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

msvc_metrics_shard_t *msvc_metrics_shard_new(size_t nslots) {
  msvc_metrics_shard_t *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NULL;
  s->nslots = nslots;
  s->requests = calloc(nslots * 5, sizeof(uint64_t));
  s->buckets = calloc(nslots * NB, sizeof(uint64_t));
  s->sum_us = calloc(nslots, sizeof(uint64_t));
  if (s->requests == NULL || s->buckets == NULL || s->sum_us == NULL) {
    msvc_metrics_shard_free(s);
    return NULL;
  }
  return s;
}

void msvc_metrics_shard_free(msvc_metrics_shard_t *s) {
  if (s == NULL)
    return;
  free(s->requests);
  free(s->buckets);
  free(s->sum_us);
  free(s);
}

void msvc_metrics_count(msvc_metrics_shard_t *s, size_t slot, int status,
                        int64_t elapsed_us) {
  size_t b = 0;
  int cls = status / 100;
  if (s == NULL || slot >= s->nslots)
    return;
  if (elapsed_us < 0)
    elapsed_us = 0;
  if (cls >= 1 && cls <= 5)
    bump(&s->requests[slot * 5 + (size_t)(cls - 1)], 1);
  while (b < MSVC_METRICS_NBUCKETS && elapsed_us > bucket_us[b])
    b++;
  bump(&s->buckets[slot * NB + b], 1);
  bump(&s->sum_us[slot], (uint64_t)elapsed_us);
}

void msvc_metrics_event(msvc_metrics_shard_t *s, msvc_metrics_event_t ev) {
  if (s != NULL && ev < MSVC_EV_COUNT)
    bump(&s->events[ev], 1);
}

void msvc_metrics_inflight(msvc_metrics_shard_t *s, int delta) {
  if (s != NULL)
    bump(&s->inflight, (uint64_t)(int64_t)delta); /* wraps back on -1 */
}

/* ---- writing ------------------------------------------------------------- */

static void put_u64(msvc__buf_t *b, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
  msvc__buf_append(b, tmp, (size_t)n);
}

/* Seconds from microseconds, exactly (six decimals). */
static void put_seconds(msvc__buf_t *b, uint64_t us) {
  char tmp[40];
  int n = snprintf(tmp, sizeof(tmp), "%llu.%06llu",
                   (unsigned long long)(us / 1000000),
                   (unsigned long long)(us % 1000000));
  msvc__buf_append(b, tmp, (size_t)n);
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label(msvc__buf_t *b, const char *s) {
  for (; *s != '\0'; s++) {
    if (*s == '\\' || *s == '"')
      msvc__buf_putc(b, '\\');
    if (*s == '\n') {
      msvc__buf_puts(b, "\\n");
      continue;
    }
    msvc__buf_putc(b, *s);
  }
}

static void header(msvc__buf_t *b, const char *name, const char *type,
                   const char *help) {
  msvc__buf_puts(b, "# HELP ");
  msvc__buf_puts(b, name);
  msvc__buf_putc(b, ' ');
  msvc__buf_puts(b, help);
  msvc__buf_puts(b, "\n# TYPE ");
  msvc__buf_puts(b, name);
  msvc__buf_putc(b, ' ');
  msvc__buf_puts(b, type);
  msvc__buf_putc(b, '\n');
}

/* name{labels} value */
static void sample(msvc__buf_t *b, const char *name, const char *labels,
                   uint64_t v) {
  msvc__buf_puts(b, name);
  if (labels != NULL && labels[0] != '\0') {
    msvc__buf_putc(b, '{');
    msvc__buf_puts(b, labels);
    msvc__buf_putc(b, '}');
  }
  msvc__buf_putc(b, ' ');
  put_u64(b, v);
  msvc__buf_putc(b, '\n');
}

static const char *method_name(unsigned m) {
  switch (m) {
  case MSVC_M_GET:
    return "GET";
  case MSVC_M_POST:
    return "POST";
  case MSVC_M_PUT:
    return "PUT";
  case MSVC_M_DELETE:
    return "DELETE";
  default:
    return "OTHER";
  }
}

/* route="...",method="..." of a slot. */
static void route_labels(msvc__buf_t *b, const msvc_metrics_source_t *src,
                         size_t slot) {
  const msvc_route_t *r = slot > 0 ? src->routes[slot - 1] : NULL;
  msvc__buf_puts(b, "route=\"");
  put_label(b, r != NULL ? r->path : "unmatched");
  msvc__buf_puts(b, "\",method=\"");
  msvc__buf_puts(b, r != NULL ? method_name(r->method) : "any");
  msvc__buf_putc(b, '"');
}

/* Shard i, or NULL while its loop is starting (published with release). */
static const msvc_metrics_shard_t *shard_at(const msvc_metrics_source_t *src,
                                            size_t i) {
  return __atomic_load_n(&src->shards[i], __ATOMIC_ACQUIRE);
}

static uint64_t sum_at(const msvc_metrics_source_t *src, size_t field,
                       const uint64_t *(*arr)(const msvc_metrics_shard_t *)) {
  uint64_t v = 0;
  for (size_t i = 0; i < src->nshards; i++) {
    const msvc_metrics_shard_t *s = shard_at(src, i);
    if (s != NULL)
      v += get(arr(s) + field);
  }
  return v;
}

static const uint64_t *requests_of(const msvc_metrics_shard_t *s) {
  return s->requests;
}
static const uint64_t *buckets_of(const msvc_metrics_shard_t *s) {
  return s->buckets;
}
static const uint64_t *sums_of(const msvc_metrics_shard_t *s) {
  return s->sum_us;
}
static const uint64_t *events_of(const msvc_metrics_shard_t *s) {
  return s->events;
}

static size_t nslots(const msvc_metrics_source_t *src) {
  return src->nroutes + 1;
}

static void write_requests(msvc__buf_t *b, const msvc_metrics_source_t *src) {
  header(b, "msvc_http_requests_total", "counter",
         "HTTP requests answered, by route template, method and status "
         "class.");
  for (size_t slot = 0; slot < nslots(src); slot++)
    for (size_t c = 0; c < 5; c++) {
      uint64_t v = sum_at(src, slot * 5 + c, requests_of);
      if (v == 0)
        continue;
      msvc__buf_puts(b, "msvc_http_requests_total{");
      route_labels(b, src, slot);
      msvc__buf_puts(b, ",code=\"");
      msvc__buf_putc(b, (char)('1' + c));
      msvc__buf_puts(b, "xx\"} ");
      put_u64(b, v);
      msvc__buf_putc(b, '\n');
    }
}

static void write_bucket(msvc__buf_t *b, const msvc_metrics_source_t *src,
                         size_t slot, const char *le, uint64_t v) {
  msvc__buf_puts(b, "msvc_http_request_duration_seconds_bucket{");
  route_labels(b, src, slot);
  msvc__buf_puts(b, ",le=\"");
  msvc__buf_puts(b, le);
  msvc__buf_puts(b, "\"} ");
  put_u64(b, v);
  msvc__buf_putc(b, '\n');
}

static void write_histogram(msvc__buf_t *b, const msvc_metrics_source_t *src,
                            size_t slot) {
  uint64_t cum = 0;
  for (size_t k = 0; k < NB; k++) {
    char le[32];
    cum += sum_at(src, slot * NB + k, buckets_of);
    if (k < MSVC_METRICS_NBUCKETS)
      snprintf(le, sizeof(le), "%g", (double)bucket_us[k] / 1e6);
    else
      snprintf(le, sizeof(le), "+Inf");
    write_bucket(b, src, slot, le, cum);
  }
  msvc__buf_puts(b, "msvc_http_request_duration_seconds_sum{");
  route_labels(b, src, slot);
  msvc__buf_puts(b, "} ");
  put_seconds(b, sum_at(src, slot, sums_of));
  msvc__buf_puts(b, "\nmsvc_http_request_duration_seconds_count{");
  route_labels(b, src, slot);
  msvc__buf_puts(b, "} ");
  put_u64(b, cum);
  msvc__buf_putc(b, '\n');
}

static void write_durations(msvc__buf_t *b, const msvc_metrics_source_t *src) {
  header(b, "msvc_http_request_duration_seconds", "histogram",
         "Time from reading a request to sending its answer, by route.");
  for (size_t slot = 0; slot < nslots(src); slot++) {
    uint64_t n = 0;
    for (size_t k = 0; k < NB; k++)
      n += sum_at(src, slot * NB + k, buckets_of);
    if (n > 0)
      write_histogram(b, src, slot);
  }
}

static uint64_t event(const msvc_metrics_source_t *src,
                      msvc_metrics_event_t e) {
  return sum_at(src, (size_t)e, events_of);
}

static void write_pools(msvc__buf_t *b, const msvc_metrics_source_t *src) {
  msvc_app_t *app = src->app;
  header(b, "msvc_pool_queue_depth", "gauge",
         "Jobs waiting for a worker, by pool (hash: password hashing; io: "
         "store writes and upstream calls).");
  if (app->hash_pool != NULL)
    sample(b, "msvc_pool_queue_depth", "pool=\"hash\"",
           msvc_pool_pending(app->hash_pool));
  sample(b, "msvc_pool_queue_depth", "pool=\"io\"",
         msvc_pool_pending(app->io_pool));
  header(b, "msvc_pool_rejected_total", "counter",
         "Jobs refused because the pool's queue was full (answered 503).");
  if (app->hash_pool != NULL)
    sample(b, "msvc_pool_rejected_total", "pool=\"hash\"",
           event(src, MSVC_EV_HASH_REJECTED));
  sample(b, "msvc_pool_rejected_total", "pool=\"io\"",
         event(src, MSVC_EV_IO_REJECTED));
  header(b, "msvc_http_requests_in_flight", "gauge",
         "Requests read and not yet answered.");
  {
    uint64_t n = 0;
    for (size_t i = 0; i < src->nshards; i++) {
      const msvc_metrics_shard_t *s = shard_at(src, i);
      if (s != NULL)
        n += get(&s->inflight);
    }
    sample(b, "msvc_http_requests_in_flight", NULL, n);
  }
}

static void write_outcomes(msvc__buf_t *b, const msvc_metrics_source_t *src) {
  header(b, "msvc_store_errors_total", "counter",
         "Requests that failed in the store or an upstream, by kind (error, "
         "timeout, unavailable).");
  sample(b, "msvc_store_errors_total", "kind=\"error\"",
         event(src, MSVC_EV_STORE_ERROR));
  sample(b, "msvc_store_errors_total", "kind=\"timeout\"",
         event(src, MSVC_EV_STORE_TIMEOUT));
  sample(b, "msvc_store_errors_total", "kind=\"unavailable\"",
         event(src, MSVC_EV_UNAVAILABLE));
  header(b, "msvc_token_rejections_total", "counter",
         "Requests refused with 401 for a missing, malformed, expired or "
         "revoked token.");
  sample(b, "msvc_token_rejections_total", NULL,
         event(src, MSVC_EV_TOKEN_REJECTED));
  header(b, "msvc_rate_limited_total", "counter",
         "Requests refused with 429 by the per-address rate limit.");
  sample(b, "msvc_rate_limited_total", NULL, event(src, MSVC_EV_RATE_LIMITED));
  if (!(src->app->roles & MSVC_ROLE_AUTH))
    return;
  header(b, "msvc_logins_total", "counter",
         "Login attempts by outcome (ok, failed: wrong email or password, "
         "throttled: refused by the failed-login throttle).");
  sample(b, "msvc_logins_total", "result=\"ok\"", event(src, MSVC_EV_LOGIN_OK));
  sample(b, "msvc_logins_total", "result=\"failed\"",
         event(src, MSVC_EV_LOGIN_FAILED));
  sample(b, "msvc_logins_total", "result=\"throttled\"",
         event(src, MSVC_EV_LOGIN_THROTTLED));
}

static void endpoint_sample(msvc__buf_t *b, const char *name, const char *url,
                            const char *value) {
  msvc__buf_puts(b, name);
  msvc__buf_puts(b, "{endpoint=\"");
  put_label(b, url);
  msvc__buf_puts(b, "\"} ");
  msvc__buf_puts(b, value);
  msvc__buf_putc(b, '\n');
}

static void write_endpoints(msvc__buf_t *b, msvc_resolver_t *r) {
  static const struct {
    const char *name, *type, *help;
  } fam[] = {
      {"msvc_upstream_up", "gauge",
       "1 when the auth service endpoint is in rotation, 0 while it is "
       "skipped after failures."},
      {"msvc_upstream_requests_total", "counter",
       "Requests sent to the endpoint."},
      {"msvc_upstream_failures_total", "counter",
       "Requests to the endpoint that failed (no answer in time, a refusal, "
       "a 5xx or garbage)."},
      {"msvc_upstream_request_duration_seconds", "summary",
       "Time spent on the endpoint's requests."}};
  for (size_t f = 0; f < 4; f++) {
    msvc_resolver_endpoint_t ep = MSVC_RESOLVER_ENDPOINT_INIT;
    header(b, fam[f].name, fam[f].type, fam[f].help);
    for (size_t i = 0; msvc_resolver_endpoint(r, i, &ep) == 0; i++) {
      msvc__buf_t v;
      msvc__buf_init(&v);
      if (f == 0)
        put_u64(&v, (uint64_t)ep.healthy);
      else if (f == 1)
        put_u64(&v, ep.requests);
      else if (f == 2)
        put_u64(&v, ep.failures);
      else
        put_seconds(&v, ep.latency_us);
      msvc__buf_putc(&v, '\0');
      if (v.failed) {
        msvc__buf_free(&v);
        continue;
      }
      endpoint_sample(b,
                      f == 3 ? "msvc_upstream_request_duration_seconds_sum"
                             : fam[f].name,
                      ep.url, v.data);
      if (f == 3) {
        msvc__buf_reset(&v);
        put_u64(&v, ep.requests);
        msvc__buf_putc(&v, '\0');
        if (!v.failed)
          endpoint_sample(b, "msvc_upstream_request_duration_seconds_count",
                          ep.url, v.data);
      }
      msvc__buf_free(&v);
    }
  }
}

static void write_resolver(msvc__buf_t *b, msvc_resolver_t *r) {
  msvc_resolver_stats_t st = MSVC_RESOLVER_STATS_INIT;
  if (r == NULL || msvc_resolver_stats(r, &st) != 0)
    return;
  header(b, "msvc_resolver_cache_hits_total", "counter",
         "User ids answered from the resolver's cache.");
  sample(b, "msvc_resolver_cache_hits_total", NULL, st.hits);
  header(b, "msvc_resolver_cache_misses_total", "counter",
         "User ids fetched from the auth services.");
  sample(b, "msvc_resolver_cache_misses_total", NULL, st.misses);
  header(b, "msvc_resolver_cache_entries", "gauge",
         "Entries in the resolver's cache.");
  sample(b, "msvc_resolver_cache_entries", NULL, st.cache_entries);
  write_endpoints(b, r);
}

/* CPU time and resident memory from /proc/self/stat (Linux). */
static void write_process(msvc__buf_t *b, const msvc_metrics_source_t *src) {
  char line[1024];
  unsigned long utime = 0, stime = 0;
  long rss = 0;
  long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  FILE *f = fopen("/proc/self/stat", "re");
  header(b, "process_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch in seconds.");
  sample(b, "process_start_time_seconds", NULL, (uint64_t)src->start_time_s);
  if (f == NULL)
    return;
  if (fgets(line, sizeof(line), f) != NULL) {
    const char *p = strrchr(line, ')'); /* the name may hold spaces */
    if (p == NULL ||
        sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
               "%*d %*d %*d %*d %*u %*u %ld",
               &utime, &stime, &rss) != 3)
      utime = stime = 0, rss = 0;
  }
  fclose(f);
  if (tck > 0) {
    char v[64];
    header(b, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
    snprintf(v, sizeof(v), "process_cpu_seconds_total %.2f\n",
             (double)(utime + stime) / (double)tck);
    msvc__buf_puts(b, v);
  }
  header(b, "process_resident_memory_bytes", "gauge",
         "Resident memory size in bytes.");
  sample(b, "process_resident_memory_bytes", NULL,
         (uint64_t)(rss > 0 ? rss : 0) * (uint64_t)(page > 0 ? page : 4096));
}

static void write_build(msvc__buf_t *b, const msvc_metrics_source_t *src) {
  header(b, "msvc_build_info", "gauge",
         "Always 1; the labels say which build and executable this is.");
  msvc__buf_puts(b, "msvc_build_info{version=\"");
  put_label(b, msvc_version_string());
  msvc__buf_puts(b, "\",service=\"");
  put_label(b, src->app->name);
  msvc__buf_puts(b, "\",jwt_algorithm=\"");
  put_label(b, src->app->cfg->jwt_algorithm);
  msvc__buf_puts(b, "\"} 1\n");
}

void msvc_metrics_write(msvc__buf_t *b, const msvc_metrics_source_t *src) {
  write_build(b, src);
  write_process(b, src);
  write_requests(b, src);
  write_durations(b, src);
  write_pools(b, src);
  write_outcomes(b, src);
  write_resolver(b, src->app->resolver);
}
