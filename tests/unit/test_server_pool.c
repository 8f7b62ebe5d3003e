/* test_server_pool.c - the servers' worker pool: every accepted job runs
 * exactly once (run, then done, on one worker), a full queue refuses with
 * MSVC_EUNAVAIL instead of growing, and freeing the pool drains the queue.
 * Synchronisation is by condition variables, never by sleeping. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "msvc/common.h"
#include "pool.h"
#include "testutil.h"

#define NJOBS 200

typedef struct counting_job {
  msvc_pool_job_t job;
  atomic_int runs;
  atomic_int dones;
  pthread_t runner;
  int same_thread;
} counting_job_t;

/* A latch the tests wait on, and a gate a job can block on. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int finished;
static int gate_open, gate_entered;

static void count_run(msvc_pool_job_t *job) {
  counting_job_t *cj = (counting_job_t *)job;
  cj->runner = pthread_self();
  atomic_fetch_add(&cj->runs, 1);
}

static void count_done(msvc_pool_job_t *job) {
  counting_job_t *cj = (counting_job_t *)job;
  cj->same_thread = pthread_equal(cj->runner, pthread_self());
  atomic_fetch_add(&cj->dones, 1);
  pthread_mutex_lock(&lock);
  finished++;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

static void gate_run(msvc_pool_job_t *job) {
  (void)job;
  pthread_mutex_lock(&lock);
  gate_entered = 1;
  pthread_cond_broadcast(&changed);
  while (!gate_open)
    pthread_cond_wait(&changed, &lock);
  pthread_mutex_unlock(&lock);
}

static void reset(void) {
  pthread_mutex_lock(&lock);
  finished = 0;
  gate_open = gate_entered = 0;
  pthread_mutex_unlock(&lock);
}

static void wait_finished(int n) {
  pthread_mutex_lock(&lock);
  while (finished < n)
    pthread_cond_wait(&changed, &lock);
  pthread_mutex_unlock(&lock);
}

static void wait_gate_entered(void) {
  pthread_mutex_lock(&lock);
  while (!gate_entered)
    pthread_cond_wait(&changed, &lock);
  pthread_mutex_unlock(&lock);
}

static void open_gate(void) {
  pthread_mutex_lock(&lock);
  gate_open = 1;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

static void init_jobs(counting_job_t *jobs, int n) {
  for (int i = 0; i < n; i++) {
    jobs[i].job.run = count_run;
    jobs[i].job.done = count_done;
    atomic_init(&jobs[i].runs, 0);
    atomic_init(&jobs[i].dones, 0);
    jobs[i].same_thread = 0;
  }
}

static void test_bad_arguments(void) {
  msvc_pool_t *pool = (msvc_pool_t *)1;
  CHECK_EQ_INT(msvc_pool_new("t", 0, 4, &pool), MSVC_EINVAL);
  CHECK(pool == NULL);
  CHECK_EQ_INT(msvc_pool_new("t", 2, 0, &pool), MSVC_EINVAL);
  msvc_pool_free(NULL); /* allowed */
}

static void test_every_job_once(void) {
  static counting_job_t jobs[NJOBS];
  msvc_pool_t *pool;
  int accepted = 0, all_once = 1, all_same = 1;
  reset();
  init_jobs(jobs, NJOBS);
  CHECK_EQ_INT(msvc_pool_new("t", 3, NJOBS, &pool), 0);
  for (int i = 0; i < NJOBS; i++)
    accepted += msvc_pool_submit(pool, &jobs[i].job) == 0;
  CHECK_EQ_INT(accepted, NJOBS);
  wait_finished(NJOBS);
  for (int i = 0; i < NJOBS; i++) {
    all_once &=
        atomic_load(&jobs[i].runs) == 1 && atomic_load(&jobs[i].dones) == 1;
    all_same &= jobs[i].same_thread;
  }
  CHECK(all_once);
  CHECK(all_same);
  CHECK_EQ_INT(msvc_pool_pending(pool), 0);
  msvc_pool_free(pool);
}

static void test_full_queue_refuses(void) {
  static counting_job_t jobs[3];
  msvc_pool_job_t gate = {gate_run, NULL, NULL};
  msvc_pool_t *pool;
  reset();
  init_jobs(jobs, 3);
  CHECK_EQ_INT(msvc_pool_new("t", 1, 2, &pool), 0);
  CHECK_EQ_INT(msvc_pool_submit(pool, &gate), 0);
  wait_gate_entered(); /* the only worker is busy; the queue is empty */
  CHECK_EQ_INT(msvc_pool_submit(pool, &jobs[0].job), 0);
  CHECK_EQ_INT(msvc_pool_submit(pool, &jobs[1].job), 0);
  CHECK_EQ_INT(msvc_pool_pending(pool), 2);
  CHECK_EQ_INT(msvc_pool_submit(pool, &jobs[2].job), MSVC_EUNAVAIL);
  open_gate();
  wait_finished(2);
  CHECK_EQ_INT(atomic_load(&jobs[2].runs), 0); /* refused means not run */
  /* Room again once the queue drained. */
  CHECK_EQ_INT(msvc_pool_submit(pool, &jobs[2].job), 0);
  wait_finished(3);
  CHECK_EQ_INT(atomic_load(&jobs[2].runs), 1);
  msvc_pool_free(pool);
}

static void test_free_drains_queue(void) {
  static counting_job_t jobs[5];
  msvc_pool_job_t gate = {gate_run, NULL, NULL};
  msvc_pool_t *pool;
  int ran = 0;
  reset();
  init_jobs(jobs, 5);
  CHECK_EQ_INT(msvc_pool_new("t", 1, 8, &pool), 0);
  CHECK_EQ_INT(msvc_pool_submit(pool, &gate), 0);
  wait_gate_entered();
  for (int i = 0; i < 5; i++)
    CHECK_EQ_INT(msvc_pool_submit(pool, &jobs[i].job), 0);
  open_gate();
  msvc_pool_free(pool); /* returns only after the five queued jobs ran */
  for (int i = 0; i < 5; i++)
    ran += atomic_load(&jobs[i].runs) == 1 && atomic_load(&jobs[i].dones) == 1;
  CHECK_EQ_INT(ran, 5);
}

int main(void) {
  RUN(test_bad_arguments);
  RUN(test_every_job_once);
  RUN(test_full_queue_refuses);
  RUN(test_free_drains_queue);
  TEST_MAIN_END();
}
