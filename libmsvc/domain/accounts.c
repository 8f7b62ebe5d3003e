/* accounts.c - registration, login, profiles and user lookups.
 *
 * Invariants: a user leaves this file only as msvc_user_t (never with its
 * hash); an unknown email and a wrong password produce the same error after
 * the same work (one hash check against a dummy hash of the configured
 * cost); a throttled account is refused before any hash is computed; email
 * uniqueness is left to the store's unique index, never to a read before
 * the write.  The caller's input is only read: names and emails are
 * normalised into copies, and what is stored is exactly what was checked.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/login_guard.h"
#include "domain/service_internal.h"

int msvc__read_user_input(const msvc_user_input_t *in, msvc_user_input_t *out) {
  msvc_user_input_t defaults = MSVC_USER_INPUT_INIT;
  *out = defaults;
  return in != NULL ? msvc__copy_sized(out, sizeof(*out), in) : MSVC_EINVAL;
}

void msvc__hand_out_user(msvc_user_record_t *rec, msvc_user_t **out) {
  if (out != NULL) {
    *out = rec->user;
    rec->user = NULL;
  }
  msvc_user_record_free(rec);
}

int msvc__finish_user_write(int rc, msvc_user_record_t *rec,
                            msvc_errors_t *errs, msvc_user_t **out) {
  if (rc == MSVC_EEXIST)
    msvc_errors_add(errs, "email", "is already registered");
  if (rc != 0) {
    msvc_user_record_free(rec);
    return rc;
  }
  msvc__hand_out_user(rec, out);
  return 0;
}

int msvc__take_profile(const msvc_user_input_t *in, msvc_user_t *u) {
  char *name = in->name ? msvc__normalize_name(in->name) : NULL;
  char *email = in->email ? msvc__normalize_email(in->email) : NULL;
  if ((in->name && name == NULL) || (in->email && email == NULL)) {
    free(name);
    free(email);
    return MSVC_ENOMEM;
  }
  if (in->name) {
    free(u->name);
    u->name = name;
  }
  if (in->email) {
    free(u->email);
    u->email = email;
  }
  return 0;
}

static int validate_registration(const msvc_user_input_t *in,
                                 msvc_user_record_t *rec, msvc_errors_t *errs) {
  int rc = msvc__take_profile(in, rec->user);
  if (rc != 0)
    return rc;
  msvc__check_name(rec->user->name, errs);
  msvc__check_email(rec->user->email, errs);
  msvc_validate_password("password", in->password, errs);
  return msvc_errors_count(errs) > 0 ? MSVC_EVALIDATION : 0;
}

static int do_register(msvc_t *svc, const msvc_user_input_t *in,
                       msvc_user_t **out, msvc_errors_t *errs) {
  msvc_user_record_t *rec = NULL;
  int rc = msvc_user_record_new(&rec);
  if (rc == 0)
    rc = validate_registration(in, rec, errs);
  if (rc == 0)
    rc = msvc__hash_password(svc, in->password, &rec->password_hash);
  if (rc != 0) {
    msvc_user_record_free(rec);
    return rc;
  }
  msvc__idgen_next(svc->ids, rec->user->id);
  rec->user->created_at = rec->user->updated_at = msvc__realtime_ms();
  rc = msvc_store_user_insert(svc->store, rec);
  return msvc__finish_user_write(rc, rec, errs, out);
}

int msvc_register(msvc_t *svc, const msvc_call_t *call,
                  const msvc_user_input_t *in_, msvc_user_t **out,
                  msvc_errors_t *errs_) {
  msvc_user_input_t in;
  msvc_errors_t local, *errs;
  int rc;
  (void)call;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || msvc__read_user_input(in_, &in) != 0)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  errs = msvc__errors_use(errs_, &local);
  rc = do_register(svc, &in, out, errs);
  msvc__errors_done(errs, errs_);
  return MSVC__END(svc, rc);
}

void msvc_login_result_free(msvc_login_result_t *res) {
  if (res == NULL)
    return;
  free(res->token);
  if (res->refresh_token != NULL) {
    explicit_bzero(res->refresh_token, strlen(res->refresh_token));
    free(res->refresh_token);
  }
  msvc_user_free(res->user);
  free(res);
}

/* Checks password against the record's hash, or against the dummy hash
 * when there is no record, so both paths cost one hash. */
static int check_password(msvc_t *svc, const msvc_user_record_t *rec, int found,
                          const char *password) {
  const char *hash = found ? rec->password_hash : svc->dummy_hash;
  int rc = msvc_password_verify(password, strlen(password), hash);
  if (!found || rc != 0)
    return MSVC_EAUTH;
  return 0;
}

/* After a successful login: re-hash under the configured scheme when the
 * stored hash is older or weaker.  Failure here does not fail the login. */
static void upgrade_hash(msvc_t *svc, msvc_user_record_t *rec,
                         const char *password) {
  char *fresh = NULL;
  if (!msvc_password_needs_rehash(svc->password_scheme, svc->password_cost,
                                  rec->password_hash))
    return;
  if (msvc__hash_password(svc, password, &fresh) != 0)
    return;
  free(rec->password_hash);
  rec->password_hash = fresh;
  (void)msvc_store_user_update(svc->store, rec);
}

static int require_login_fields(const msvc_user_input_t *in,
                                msvc_errors_t *errs) {
  if (in->email == NULL)
    msvc_errors_add(errs, "email", "is required");
  if (in->password == NULL)
    msvc_errors_add(errs, "password", "is required");
  return msvc_errors_count(errs) > 0 ? MSVC_EVALIDATION : 0;
}

/* The tokens and the user for a record whose password matched: a new
 * session when sessions are on, else the seed's bare access token. */
static int login_result(msvc_t *svc, const msvc_call_t *call,
                        msvc_user_record_t *rec, int64_t now,
                        msvc_login_result_t **out) {
  msvc_login_result_t *res = calloc(1, sizeof(*res));
  int rc = res != NULL ? 0 : MSVC_ENOMEM;
  if (rc == 0 && svc->sessions)
    rc = msvc__session_open(svc, call, rec->user, now, res);
  else if (rc == 0) {
    rc = msvc__token_issue_user(&svc->token, rec->user, NULL, NULL, now / 1000,
                                &res->token);
    res->expires_in = svc->token.ttl;
  }
  if (rc != 0 || out == NULL) {
    msvc_user_record_free(rec);
    msvc_login_result_free(res);
    return rc;
  }
  msvc__hand_out_user(rec, &res->user);
  *out = res;
  return 0;
}

/* The record for email and whether its password is `password`: 0 (match),
 * MSVC_EAUTH, or a store error.  An unknown email costs a full check. */
static int find_and_check(msvc_t *svc, const char *email, const char *password,
                          msvc_user_record_t **rec) {
  int rc = msvc_user_record_new(rec);
  if (rc != 0)
    return rc;
  rc = msvc_store_user_find_by_email(svc->store, email, *rec);
  if (rc != 0 && rc != MSVC_ENOTFOUND)
    return rc;
  return check_password(svc, *rec, rc == 0, password);
}

static int do_login(msvc_t *svc, const msvc_call_t *call,
                    const msvc_user_input_t *in, const char *email,
                    msvc_login_result_t **out, unsigned *retry_after) {
  msvc_user_record_t *rec = NULL;
  msvc__login_attempt_t attempt;
  int64_t now = msvc__realtime_ms();
  int rc = msvc__login_guard_begin(svc, email, msvc__call_client_ip(call), now,
                                   &attempt, retry_after);
  if (rc != 0)
    return rc;
  rc = find_and_check(svc, email, in->password, &rec);
  /* A store failure is no verdict on the password: not counted. */
  msvc__login_guard_end(svc, &attempt,
                        rc == 0            ? MSVC__GUARD_SUCCESS
                        : rc == MSVC_EAUTH ? MSVC__GUARD_FAILURE
                                           : MSVC__GUARD_UNDECIDED,
                        now);
  if (rc != 0) {
    msvc_user_record_free(rec);
    return rc;
  }
  upgrade_hash(svc, rec, in->password);
  return login_result(svc, call, rec, now, out);
}

int msvc_login(msvc_t *svc, const msvc_call_t *call,
               const msvc_user_input_t *in_, msvc_login_result_t **out,
               unsigned *retry_after, msvc_errors_t *errs_) {
  msvc_user_input_t in;
  msvc_errors_t local, *errs;
  char *email = NULL;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (retry_after != NULL)
    *retry_after = 0;
  if (svc == NULL || msvc__read_user_input(in_, &in) != 0)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  errs = msvc__errors_use(errs_, &local);
  rc = require_login_fields(&in, errs);
  if (rc == 0)
    rc = (email = msvc__normalize_email(in.email)) != NULL ? 0 : MSVC_ENOMEM;
  if (rc == 0)
    rc = do_login(svc, call, &in, email, out, retry_after);
  free(email);
  msvc__errors_done(errs, errs_);
  return MSVC__END(svc, rc);
}

int msvc__load_user_record(msvc_t *svc, const char *id,
                           msvc_user_record_t **out) {
  int rc = msvc_user_record_new(out);
  if (rc == 0)
    rc = msvc_store_user_find_by_id(svc->store, id, *out);
  if (rc != 0) {
    msvc_user_record_free(*out);
    *out = NULL;
  }
  return rc;
}

int msvc_user_get(msvc_t *svc, const msvc_call_t *call, const char *id,
                  msvc_user_t **out) {
  msvc_user_record_t *rec = NULL;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || id == NULL || out == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  rc = msvc__store_gate(svc, call);
  if (rc == 0)
    rc = msvc__load_user_record(svc, id, &rec);
  if (rc == 0)
    msvc__hand_out_user(rec, out);
  return MSVC__END(svc, rc);
}
