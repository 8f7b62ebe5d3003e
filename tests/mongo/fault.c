/* fault.c - the MongoDB store while its server dies, hangs and comes back.
 *
 * Usage: mongo_fault FERRETDB_SH DIR.  The test runs its own FerretDB in
 * DIR through the fixture script (so it can kill it without disturbing the
 * shared one), opens two stores with a 1 s timeout, one before and one
 * during the outage, and checks that
 *  - while the server is down (SIGKILL) or hung (SIGSTOP) every call
 *    returns MSVC_EUNAVAIL within DEADLINE_MS (3 x the 1 s timeout + 2 s:
 *    a deadline guarantee, generous for busy and sanitizer builds, not a
 *    performance figure; the times are printed too);
 *  - a store opened during the outage opens anyway, within DEADLINE_MS;
 *  - once the server is back on the same port and data, both handles work
 *    again without reopening, earlier data is there, and the unique email
 *    index exists (made late, on first contact, for the second store).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/idgen.h"
#include "internal.h"
#include "msvc.h"
#include "msvc/mongo.h"
#include "testutil.h"

#define TIMEOUT_MS 1000
/* What "returns within the timeout" means here: a small multiple of it. */
#define DEADLINE_MS (3 * TIMEOUT_MS + 2000)

static const char *script, *dir;
static char base_url[256];
static msvc__idgen_t *ids;

/* Runs `script verb dir`; 0 when it succeeded. */
static int fixture(const char *verb) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "'%s' %s '%s' >/dev/null", script, verb, dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Starts the server on a free port and keeps its URL. */
static int fixture_start(void) {
  char cmd[1024];
  FILE *p;
  int ok;
  snprintf(cmd, sizeof(cmd), "'%s' start '%s'", script, dir);
  p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  ok = fgets(base_url, sizeof(base_url), p) != NULL;
  if (pclose(p) != 0 || !ok)
    return -1;
  base_url[strcspn(base_url, "\r\n")] = '\0';
  return 0;
}

static int open_store(const char *db, msvc_store_t **out) {
  char url[512], err[256] = "";
  msvc_store_config_t cfg = MSVC_STORE_CONFIG_INIT;
  int rc;
  cfg.timeout_ms = TIMEOUT_MS;
  snprintf(url, sizeof(url), "%s%s", base_url, db);
  rc = msvc_store_open(url, &cfg, out, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "   open %s: %s\n", url, err);
  return rc;
}

static int insert_user(msvc_store_t *store, const char *email, char *id_out) {
  msvc_user_record_t *rec = NULL;
  char id[MSVC_ID_SIZE];
  int64_t now = msvc__realtime_ms();
  int rc = msvc_user_record_new(&rec);
  msvc__idgen_next(ids, id);
  if (rc == 0)
    rc = msvc_user_set(rec->user, id, "Fault", email, now, now);
  if (rc == 0 &&
      (rec->password_hash = strdup("$2b$04$abcdefghijklmnopqrstuu012345678901"
                                   "2345678901234567890")) == NULL)
    rc = MSVC_ENOMEM;
  if (id_out != NULL)
    memcpy(id_out, id, MSVC_ID_SIZE);
  if (rc == 0)
    rc = msvc_store_user_insert(store, rec);
  msvc_user_record_free(rec);
  return rc;
}

static int find_user(msvc_store_t *store, const char *id) {
  msvc_user_record_t *rec = NULL;
  int rc = msvc_user_record_new(&rec);
  if (rc == 0)
    rc = msvc_store_user_find_by_id(store, id, rec);
  msvc_user_record_free(rec);
  return rc;
}

static int list_posts(msvc_store_t *store) {
  msvc_post_query_t q = {.limit = 10};
  msvc_post_t *out[10] = {NULL};
  size_t n = 0;
  int rc = 0;
  for (size_t i = 0; i < 10 && rc == 0; i++)
    rc = msvc_post_new(&out[i]);
  if (rc == 0)
    rc = msvc_store_post_list(store, &q, out, &n);
  for (size_t i = 0; i < 10; i++)
    msvc_post_free(out[i]);
  return rc;
}

/* Every kind of call answers MSVC_EUNAVAIL, each within DEADLINE_MS;
 * prints how long each took. */
static void check_unavailable(msvc_store_t *store, const char *user_id,
                              const char *what) {
  int64_t t0 = msvc__monotonic_ms();
  CHECK_EQ_INT(msvc_store_ping(store), MSVC_EUNAVAIL);
  int64_t t1 = msvc__monotonic_ms();
  CHECK_EQ_INT(find_user(store, user_id), MSVC_EUNAVAIL);
  int64_t t2 = msvc__monotonic_ms();
  CHECK_EQ_INT(insert_user(store, "during-outage@example.com", NULL),
               MSVC_EUNAVAIL);
  int64_t t3 = msvc__monotonic_ms();
  CHECK_EQ_INT(list_posts(store), MSVC_EUNAVAIL);
  int64_t t4 = msvc__monotonic_ms();
  fprintf(stderr,
          "   %s, timeout %d ms: ping %lld ms, find %lld ms, insert %lld ms, "
          "list %lld ms\n",
          what, TIMEOUT_MS, (long long)(t1 - t0), (long long)(t2 - t1),
          (long long)(t3 - t2), (long long)(t4 - t3));
  CHECK(t1 - t0 <= DEADLINE_MS);
  CHECK(t2 - t1 <= DEADLINE_MS);
  CHECK(t3 - t2 <= DEADLINE_MS);
  CHECK(t4 - t3 <= DEADLINE_MS);
}

/* The handle works again: old data, new writes, and the unique index. */
static void check_recovered(msvc_store_t *store, const char *old_id,
                            const char *email) {
  char id[MSVC_ID_SIZE];
  CHECK_EQ_INT(msvc_store_ping(store), 0);
  if (old_id != NULL)
    CHECK_EQ_INT(find_user(store, old_id), 0);
  CHECK_EQ_INT(insert_user(store, email, id), 0);
  CHECK_EQ_INT(find_user(store, id), 0);
  CHECK_EQ_INT(insert_user(store, email, NULL), MSVC_EEXIST);
  CHECK_EQ_INT(list_posts(store), 0);
}

static void test_outage(void) {
  msvc_store_t *early = NULL, *late = NULL;
  char early_id[MSVC_ID_SIZE] = "";

  CHECK_EQ_INT(open_store("fault_early", &early), 0);
  if (early == NULL)
    return;
  CHECK_EQ_INT(insert_user(early, "before@example.com", early_id), 0);

  CHECK_EQ_INT(fixture("kill"), 0);
  check_unavailable(early, early_id, "server killed");
  int64_t t0 = msvc__monotonic_ms();
  CHECK_EQ_INT(open_store("fault_late", &late), 0);
  int64_t took = msvc__monotonic_ms() - t0;
  fprintf(stderr, "   open while killed: %lld ms\n", (long long)took);
  CHECK(took <= DEADLINE_MS);
  if (late != NULL)
    check_unavailable(late, early_id, "opened while killed");

  CHECK_EQ_INT(fixture("restart"), 0);
  check_recovered(early, early_id, "after-restart@example.com");
  if (late != NULL)
    check_recovered(late, NULL, "late@example.com");

  /* A hung server (stopped, its port still accepting) is bounded too. */
  CHECK_EQ_INT(fixture("pause"), 0);
  check_unavailable(early, early_id, "server hung");
  CHECK_EQ_INT(fixture("resume"), 0);
  check_recovered(early, early_id, "after-hang@example.com");

  msvc_store_close(late);
  msvc_store_close(early);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FERRETDB_SH DIR\n", argv[0]);
    return 2;
  }
  script = argv[1];
  dir = argv[2];
  if (msvc__idgen_new(&ids) != 0 || msvc_mongo_register() != 0 ||
      fixture_start() != 0) {
    fprintf(stderr, "cannot start FerretDB with %s in %s\n", script, dir);
    return 1;
  }
  fprintf(stderr, "   FerretDB at %s\n", base_url);
  RUN(test_outage);
  fixture("stop");
  msvc__idgen_free(ids);
  TEST_MAIN_END();
}
