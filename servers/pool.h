/* pool.h - a fixed set of worker threads behind a bounded job queue.
 *
 * The servers' event loops never wait on a password hash, a store write or
 * an upstream call: they hand such work to a pool and go on serving.  The
 * queue is bounded so that overload shows up as an immediate refusal (the
 * HTTP layer answers 503) instead of an ever-growing latency.
 *
 * The pool knows nothing of HTTP or h2o: a job is two callbacks, run() and
 * done(), both called on the worker that took the job, one right after the
 * other.  done() is where the caller hands the job back to its own thread
 * (the HTTP layer posts it to the loop that owns the request).  The job
 * memory belongs to the caller throughout; the pool only links it while it
 * waits in the queue.
 */
#ifndef MSVC_SERVER_POOL_H
#define MSVC_SERVER_POOL_H

#include <stddef.h>

typedef struct msvc_pool msvc_pool_t;
typedef struct msvc_pool_job msvc_pool_job_t;

typedef void (*msvc_pool_fn)(msvc_pool_job_t *job);

struct msvc_pool_job {
  msvc_pool_fn run;      /* the work, on a worker thread */
  msvc_pool_fn done;     /* right after run, on the same worker; may be NULL */
  msvc_pool_job_t *next; /* private: queue link */
};

/* Starts `workers` threads (>= 1) with room for `queue_size` (>= 1) jobs
 * waiting.  `name` (static) appears in thread names.  0, or MSVC_EINVAL /
 * MSVC_ENOMEM / MSVC_EIO (a thread could not be started). */
int msvc_pool_new(const char *name, unsigned workers, unsigned queue_size,
                  msvc_pool_t **out);

/* Queues job.  0, or MSVC_EUNAVAIL when the queue is full or the pool is
 * stopping (the job was not taken and is still the caller's).  Safe from
 * any thread. */
int msvc_pool_submit(msvc_pool_t *pool, msvc_pool_job_t *job);

/* Jobs waiting (not yet picked up by a worker); a snapshot. */
size_t msvc_pool_pending(msvc_pool_t *pool);

/* Unlinks every job still waiting, without running it or calling its
 * done(); returns how many.  For a shutdown past its deadline: the jobs
 * stay the caller's (their memory is simply left), and freeing the pool
 * then waits only for the jobs already running, one per worker. */
size_t msvc_pool_discard(msvc_pool_t *pool);

/* Refuses new jobs, lets the workers finish every job already queued
 * (run and done are still called), joins them and frees the pool.  NULL is
 * allowed. */
void msvc_pool_free(msvc_pool_t *pool);

#endif
