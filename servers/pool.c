/* pool.c - the worker pool: N threads over one bounded FIFO of jobs.
 *
 * Invariants: `count` is the number of jobs linked from head to tail and
 * never exceeds `capacity`; every job accepted by msvc_pool_submit is run
 * exactly once, even when the pool is freed while it waits (free drains
 * the queue before the workers exit), unless msvc_pool_discard dropped it
 * first (a shutdown that gave up); the lock is never held while a job
 * runs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setname_np */
#endif
#include "pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "msvc/common.h"

struct msvc_pool {
  pthread_mutex_t lock;
  pthread_cond_t nonempty;
  msvc_pool_job_t *head, *tail;
  size_t count, capacity;
  int stopping;
  const char *name;
  unsigned nthreads; /* threads actually started */
  pthread_t *threads;
};

/* Takes the oldest job, waiting for one; NULL once stopping and drained. */
static msvc_pool_job_t *take(msvc_pool_t *pool) {
  msvc_pool_job_t *job;
  pthread_mutex_lock(&pool->lock);
  while (pool->head == NULL && !pool->stopping)
    pthread_cond_wait(&pool->nonempty, &pool->lock);
  job = pool->head;
  if (job != NULL) {
    pool->head = job->next;
    if (pool->head == NULL)
      pool->tail = NULL;
    pool->count--;
    job->next = NULL;
  }
  pthread_mutex_unlock(&pool->lock);
  return job;
}

static void *worker_main(void *arg) {
  msvc_pool_t *pool = arg;
  msvc_pool_job_t *job;
  while ((job = take(pool)) != NULL) {
    msvc_pool_fn done = job->done;
    job->run(job);
    if (done != NULL)
      done(job); /* the job may be gone after this */
  }
  return NULL;
}

static void name_thread(msvc_pool_t *pool, unsigned i) {
  char name[32];
  snprintf(name, sizeof(name), "%.10s-%u", pool->name, i);
  name[15] = '\0'; /* the kernel's limit */
  pthread_setname_np(pool->threads[i], name);
}

int msvc_pool_new(const char *name, unsigned workers, unsigned queue_size,
                  msvc_pool_t **out) {
  msvc_pool_t *pool;
  *out = NULL;
  if (workers == 0 || queue_size == 0)
    return MSVC_EINVAL;
  pool = calloc(1, sizeof(*pool));
  if (pool == NULL)
    return MSVC_ENOMEM;
  pool->threads = calloc(workers, sizeof(*pool->threads));
  if (pool->threads == NULL) {
    free(pool);
    return MSVC_ENOMEM;
  }
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->nonempty, NULL);
  pool->capacity = queue_size;
  pool->name = name != NULL ? name : "pool";
  for (unsigned i = 0; i < workers; i++) {
    if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) {
      msvc_pool_free(pool);
      return MSVC_EIO;
    }
    pool->nthreads++;
    name_thread(pool, i);
  }
  *out = pool;
  return 0;
}

int msvc_pool_submit(msvc_pool_t *pool, msvc_pool_job_t *job) {
  int rc = 0;
  job->next = NULL;
  pthread_mutex_lock(&pool->lock);
  if (pool->stopping || pool->count >= pool->capacity) {
    rc = MSVC_EUNAVAIL;
  } else {
    if (pool->tail != NULL)
      pool->tail->next = job;
    else
      pool->head = job;
    pool->tail = job;
    pool->count++;
    pthread_cond_signal(&pool->nonempty);
  }
  pthread_mutex_unlock(&pool->lock);
  return rc;
}

size_t msvc_pool_pending(msvc_pool_t *pool) {
  size_t n;
  pthread_mutex_lock(&pool->lock);
  n = pool->count;
  pthread_mutex_unlock(&pool->lock);
  return n;
}

size_t msvc_pool_discard(msvc_pool_t *pool) {
  size_t n;
  if (pool == NULL)
    return 0;
  pthread_mutex_lock(&pool->lock);
  n = pool->count;
  pool->head = pool->tail = NULL;
  pool->count = 0;
  pthread_mutex_unlock(&pool->lock);
  return n;
}

void msvc_pool_free(msvc_pool_t *pool) {
  if (pool == NULL)
    return;
  pthread_mutex_lock(&pool->lock);
  pool->stopping = 1;
  pthread_cond_broadcast(&pool->nonempty);
  pthread_mutex_unlock(&pool->lock);
  for (unsigned i = 0; i < pool->nthreads; i++)
    pthread_join(pool->threads[i], NULL);
  pthread_cond_destroy(&pool->nonempty);
  pthread_mutex_destroy(&pool->lock);
  free(pool->threads);
  free(pool);
}
