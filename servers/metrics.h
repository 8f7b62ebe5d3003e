/* metrics.h - the counters behind GET /metrics, kept per loop thread.
 *
 * Every event-loop thread owns one shard and is its only writer: a request
 * is counted when its answer is sent, on the loop that owns it, with
 * relaxed atomic loads and stores and no lock, so counting costs a few
 * plain memory writes.  A scrape (on whichever loop takes it) sums the
 * shards with relaxed loads; a total may lag a request that is being
 * counted at that instant, never more.  What is not a per-request event
 * (queue depths, the resolver's cache and upstreams, the process) is read
 * at scrape time from its owner.
 *
 * Slot 0 of the per-route arrays is for requests no route took (404,
 * 405, preflights, h2o's own errors); slot i + 1 is route i of the HTTP
 * layer's table, whose order never changes once the loops run.
 */
#ifndef MSVC_SERVER_METRICS_H
#define MSVC_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct msvc_app;
struct msvc_route;

/* Upper bounds of the latency histogram, in microseconds. */
#define MSVC_METRICS_NBUCKETS 16

/* Outcomes counted besides the status. */
typedef enum msvc_metrics_event {
  MSVC_EV_HASH_REJECTED = 0, /* the hash pool's queue was full: 503 */
  MSVC_EV_IO_REJECTED,       /* the I/O pool's queue was full: 503 */
  MSVC_EV_STORE_ERROR,       /* the store failed a call */
  MSVC_EV_STORE_TIMEOUT,     /* the store or an upstream took too long */
  MSVC_EV_UNAVAILABLE,       /* the store or every upstream was down */
  MSVC_EV_LOGIN_OK,
  MSVC_EV_LOGIN_FAILED,    /* wrong email or password */
  MSVC_EV_LOGIN_THROTTLED, /* refused by the failed-login throttle */
  MSVC_EV_TOKEN_REJECTED,  /* a 401 for a missing or bad token */
  MSVC_EV_RATE_LIMITED,    /* a 429 from --rate-limit */
  MSVC_EV_COUNT
} msvc_metrics_event_t;

typedef struct msvc_metrics_shard {
  size_t nslots;
  uint64_t *requests; /* [nslots][5]: status classes 1xx..5xx */
  uint64_t *buckets;  /* [nslots][NBUCKETS + 1], the last one +Inf */
  uint64_t *sum_us;   /* [nslots] */
  uint64_t events[MSVC_EV_COUNT];
  uint64_t inflight; /* requests read and not yet disposed of */
} msvc_metrics_shard_t;

/* A shard for `nslots` slots (routes + 1); NULL when out of memory. */
msvc_metrics_shard_t *msvc_metrics_shard_new(size_t nslots);
void msvc_metrics_shard_free(msvc_metrics_shard_t *s);

/* On the shard's loop only.  slot: 0, or 1 + the route's index. */
void msvc_metrics_count(msvc_metrics_shard_t *s, size_t slot, int status,
                        int64_t elapsed_us);
void msvc_metrics_event(msvc_metrics_shard_t *s, msvc_metrics_event_t ev);
/* delta: +1 when a request arrives, -1 when it is disposed of. */
void msvc_metrics_inflight(msvc_metrics_shard_t *s, int delta);

/* What a scrape needs besides the shards. */
typedef struct msvc_metrics_source {
  struct msvc_app *app;
  const struct msvc_route *const *routes; /* nroutes; slot i + 1 */
  size_t nroutes;
  msvc_metrics_shard_t **shards; /* nshards, read with acquire loads; NULL
                                    entries (loops starting) skipped */
  size_t nshards;
  int64_t start_time_s; /* when the process started, Unix time */
} msvc_metrics_source_t;

/* Appends the Prometheus text exposition (format 0.0.4) of everything. */
void msvc_metrics_write(msvc__buf_t *b, const msvc_metrics_source_t *src);

#define MSVC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
