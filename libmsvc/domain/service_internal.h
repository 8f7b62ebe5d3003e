/* service_internal.h - the msvc_t handle and its options, shared by
 * service.c, options.c, accounts.c and posts.c (internal). */
#ifndef MSVC_SERVICE_INTERNAL_H
#define MSVC_SERVICE_INTERNAL_H

#include "domain/digest.h"
#include "domain/idgen.h"
#include "domain/keys.h"
#include "domain/throttle.h"
#include "domain/token.h"
#include "domain/token_cache.h"
#include "domain/validate.h"
#include "internal.h"

#define MSVC__DEFAULT_DATABASE_URL "sqlite:./data/msvc.db"

/* Everything msvc_open needs, owned copies. */
struct msvc_options {
  char *database_url;    /* NULL: the default */
  unsigned char *secret; /* NULL: none given */
  size_t secret_len;
  char *password_scheme; /* "bcrypt" unless set */
  unsigned long password_cost;
  int64_t token_ttl;
  unsigned login_max_failures, login_window_s, login_lockout_s;
  unsigned login_table_size;
  unsigned login_account_max, login_client_max;
  int store_timeout_ms, store_connections;
  msvc_store_t *store;       /* borrowed */
  msvc_resolver_t *resolver; /* borrowed */
  int sessions, check_revocation;
  int64_t refresh_ttl_s, refresh_grace_s;
  msvc__alg_t alg;
  struct msvc__key_option {
    char *kid;
    char *pem;
    size_t len;
    int is_private;
  } * keys;
  size_t nkeys;
  unsigned char *service_secret; /* NULL: the JWT secret */
  size_t service_secret_len;
};

struct msvc {
  msvc_store_t *store;
  int owns_store;
  msvc_resolver_t *resolver;
  int owns_resolver;
  int page_sink;     /* the store reads pages into a page sink (table v5) */
  int local_authors; /* ... and the resolver is the local one over `store`:
                        a page may read its authors with its posts */
  unsigned char *service_secret; /* owned copy */
  msvc__keyring_t *keys;
  msvc__token_cache_t *verified; /* tokens already verified, until exp */
  msvc_token_config_t token;
  int sessions;         /* logins open sessions (and the store keeps them) */
  int check_revocation; /* authenticate reads the session and the user */
  int64_t refresh_ttl_s, refresh_grace_s;
  /* HMAC key of refresh-token successors: derived from the signing
   * material, so every instance sharing it derives the same successor. */
  unsigned char refresh_key[MSVC__SHA256_LEN];
  char *password_scheme; /* owned: "bcrypt" or "yescrypt" */
  unsigned long password_cost;
  char *dummy_hash;           /* checked for unknown emails, same cost */
  msvc__throttle_t *throttle; /* per process, when the store has no events */
  struct msvc__login_limits {
    unsigned max_failures, account_max, client_max, window_s, lockout_s;
  } login; /* login_guard.h */
  msvc__idgen_t *ids;
};

/* MSVC_EWOULDBLOCK when the call asks for no waiting and the store's reads
 * are not local; else 0. */
int msvc__store_gate(msvc_t *svc, const msvc_call_t *call);

/* Hashes a password under the handle's scheme and cost. */
int msvc__hash_password(msvc_t *svc, const char *password, char **out);

/* The start and end of every public operation on a handle: clears the
 * thread's error detail, and records the outcome for msvc_errmsg(). */
#define MSVC__BEGIN() msvc__errmsg_clear()
#define MSVC__END(svc, rc) msvc__errmsg_finish((svc), (rc))

/* An errors list the operation can always write to: the caller's, or a
 * local one when the caller passed NULL (freed by msvc__errors_done). */
msvc_errors_t *msvc__errors_use(msvc_errors_t *caller, msvc_errors_t *local);
void msvc__errors_done(msvc_errors_t *used, msvc_errors_t *caller);

/* ---- shared by accounts.c and profiles.c ---- */

/* The fields of a caller's msvc_user_input_t this version knows (defaults
 * for the rest); MSVC_EINVAL for NULL or an uninitialised size. */
int msvc__read_user_input(const msvc_user_input_t *in, msvc_user_input_t *out);
/* Normalised copies of the name and email in `in` replace u's; absent
 * fields leave u's as they are.  0 or MSVC_ENOMEM. */
int msvc__take_profile(const msvc_user_input_t *in, msvc_user_t *u);
/* Moves the record's user to *out (when out is not NULL) and frees the
 * record. */
void msvc__hand_out_user(msvc_user_record_t *rec, msvc_user_t **out);
/* The end of a register or update: a duplicate email is reported on the
 * email field; on success the record's user becomes *out, and the record
 * is freed either way. */
int msvc__finish_user_write(int rc, msvc_user_record_t *rec,
                            msvc_errors_t *errs, msvc_user_t **out);
/* Reads user `id` into a fresh record (*out NULL on error). */
int msvc__load_user_record(msvc_t *svc, const char *id,
                           msvc_user_record_t **out);

/* ---- sessions.c ---- */

/* Opens a session for user (when sessions are on) and fills res with the
 * access token, the refresh token and their lifetimes. */
int msvc__session_open(msvc_t *svc, const msvc_call_t *call,
                       const msvc_user_t *user, int64_t now,
                       msvc_login_result_t *res);
/* 0 when verified claims t may still be used (session alive, issued after
 * the last password change), MSVC_ETOKEN when not. */
/* *rec (NULL when the check read no user): the caller's stored record,
 * for the claims; the caller frees it. */
int msvc__check_revocation(msvc_t *svc, const msvc__token_claims_t *t,
                           msvc_user_record_t **rec);

#endif
