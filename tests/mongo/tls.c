/* tls.c - the MongoDB store over TLS, configured through the URI alone.
 *
 * Usage: mongo_tls FERRETDB_SH DIR.  The test starts its own FerretDB with
 * a TLS-only listener and a fresh self-signed certificate (ferretdb.sh
 * start-tls), then checks that
 *  - with tls=true and tlsCAFile in the URI the store works end to end;
 *  - without the CA file the certificate is refused, and without TLS the
 *    server is unusable: both are MSVC_EUNAVAIL (open itself succeeds,
 *    since an unreachable server is no reason to refuse to start).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "domain/idgen.h"
#include "msvc.h"
#include "msvc/mongo.h"
#include "testutil.h"

static const char *script, *dir;
static char server_url[512]; /* mongodb://127.0.0.1:PORT/?tls=true&... */
static msvc__idgen_t *ids;

/* The script's exit status (77: cannot be had here, a skip). */
static int start_tls_server(void) {
  char cmd[1024];
  FILE *p;
  int ok, status;
  snprintf(cmd, sizeof(cmd), "'%s' start-tls '%s'", script, dir);
  p = popen(cmd, "r");
  if (p == NULL)
    return 1;
  ok = fgets(server_url, sizeof(server_url), p) != NULL;
  status = pclose(p);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  server_url[strcspn(server_url, "\r\n")] = '\0';
  return ok && strstr(server_url, "/?") != NULL ? 0 : 1;
}

static void stop_server(void) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "'%s' stop '%s'", script, dir);
  if (system(cmd) != 0)
    fprintf(stderr, "   could not stop FerretDB in %s\n", dir);
}

/* server_url on the database "tls", with all its options (2), only
 * tls=true (1) or none (0). */
static void store_url(char *out, size_t size, int keep) {
  const char *query = strstr(server_url, "/?");
  int base = (int)(query - server_url);
  query += 2;
  if (keep == 2)
    snprintf(out, size, "%.*s/tls?%s", base, server_url, query);
  else if (keep == 1)
    snprintf(out, size, "%.*s/tls?%.*s", base, server_url,
             (int)strcspn(query, "&"), query);
  else
    snprintf(out, size, "%.*s/tls", base, server_url);
}

static int open_store(const char *url, msvc_store_t **out) {
  msvc_store_config_t cfg = MSVC_STORE_CONFIG_INIT;
  char err[256] = "";
  int rc;
  cfg.timeout_ms = 2000;
  rc = msvc_store_open(url, &cfg, out, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "   open %s: %s\n", url, err);
  return rc;
}

static void test_tls_with_ca(void) {
  msvc_store_t *store = NULL;
  msvc_user_record_t *rec = NULL, *got = NULL;
  char url[600], id[MSVC_ID_SIZE];
  store_url(url, sizeof(url), 2);
  fprintf(stderr, "   %s\n", url);
  CHECK_EQ_INT(open_store(url, &store), 0);
  if (store == NULL)
    return;
  CHECK_EQ_INT(msvc_store_ping(store), 0);
  CHECK_EQ_INT(msvc_user_record_new(&rec), 0);
  CHECK_EQ_INT(msvc_user_record_new(&got), 0);
  msvc__idgen_next(ids, id);
  CHECK_EQ_INT(msvc_user_set(rec->user, id, "Tls", "tls@example.com", 0, 0), 0);
  rec->password_hash = strdup("x");
  CHECK_EQ_INT(msvc_store_user_insert(store, rec), 0);
  CHECK_EQ_INT(msvc_store_user_insert(store, rec), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, "tls@example.com", got), 0);
  CHECK_EQ_STR(got->user->id, id);
  msvc_user_record_free(rec);
  msvc_user_record_free(got);
  msvc_store_close(store);
}

/* keep = 1: tls=true but no CA file; keep = 0: no TLS at all. */
static void test_refused(int keep) {
  msvc_store_t *store = NULL;
  char url[600];
  store_url(url, sizeof(url), keep);
  fprintf(stderr, "   %s\n", url);
  CHECK_EQ_INT(open_store(url, &store), 0);
  if (store == NULL)
    return;
  CHECK_EQ_INT(msvc_store_ping(store), MSVC_EUNAVAIL);
  msvc_store_close(store);
}

int main(int argc, char **argv) {
  int rc;
  if (argc != 3) {
    fprintf(stderr, "usage: %s FERRETDB_SH DIR\n", argv[0]);
    return 2;
  }
  script = argv[1];
  dir = argv[2];
  if (msvc__idgen_new(&ids) != 0 || msvc_mongo_register() != 0)
    return 1;
  rc = start_tls_server();
  if (rc != 0) {
    fprintf(stderr, "cannot start FerretDB with TLS (%s, %s)\n", script, dir);
    msvc__idgen_free(ids);
    return rc == 77 ? 77 : 1;
  }
  RUN(test_tls_with_ca);
  RUN_ARG(test_refused, 1);
  RUN_ARG(test_refused, 0);
  stop_server();
  msvc__idgen_free(ids);
  TEST_MAIN_END();
}
