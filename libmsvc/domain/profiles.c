/* profiles.c - changing a profile, and looking users up by id.
 *
 * A password change needs the current password, checked against the
 * stored hash before anything is written: a wrong one is MSVC_EAUTH with
 * the "current_password" field named.  Lookups sort and de-duplicate the
 * ids first, so a 1000-id lookup costs O(n log n) and one store round
 * trip, and answer in the order the ids were given.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/service_internal.h"

static int validate_update(const msvc_user_input_t *in, const msvc_user_t *u,
                           msvc_errors_t *errs) {
  if (in->name == NULL && in->email == NULL && in->password == NULL) {
    msvc_errors_add(errs, "body", "must contain name, email or password");
    return MSVC_EVALIDATION;
  }
  if (in->name != NULL)
    msvc__check_name(u->name, errs);
  if (in->email != NULL)
    msvc__check_email(u->email, errs);
  if (in->password != NULL) {
    msvc_validate_password("password", in->password, errs);
    if (in->current_password == NULL)
      msvc_errors_add(errs, "current_password",
                      "is required to change the password");
  }
  return msvc_errors_count(errs) > 0 ? MSVC_EVALIDATION : 0;
}

/* Replaces the record's hash after checking the current password. */
static int change_password(msvc_t *svc, msvc_user_record_t *rec,
                           const msvc_user_input_t *in, msvc_errors_t *errs) {
  char *hash = NULL;
  int rc;
  if (msvc_password_verify(in->current_password, strlen(in->current_password),
                           rec->password_hash) != 0) {
    msvc_errors_add(errs, "current_password", "is incorrect");
    return MSVC_EAUTH;
  }
  rc = msvc__hash_password(svc, in->password, &hash);
  if (rc != 0)
    return rc;
  free(rec->password_hash);
  rec->password_hash = hash;
  /* Access tokens issued before now stop being accepted. */
  rec->tokens_valid_after = msvc__realtime_ms();
  return 0;
}

/* After a password change: every session but the caller's ends, so a
 * thief's refresh token dies with the old password. */
static void end_other_sessions(msvc_t *svc, const msvc_call_t *call,
                               const char *user_id) {
  const char *keep = msvc__call_session_id(call);
  if (svc->sessions)
    (void)msvc_store_sessions_revoke(svc->store, user_id, keep, keep != NULL,
                                     NULL);
}

static int do_update(msvc_t *svc, const msvc_call_t *call, const char *id,
                     const msvc_user_input_t *in, msvc_user_t **out,
                     msvc_errors_t *errs) {
  msvc_user_record_t *rec = NULL;
  msvc_user_t probe;
  int rc;
  /* Validate before reading: a bad body costs no store round trip. */
  memset(&probe, 0, sizeof(probe));
  rc = msvc__take_profile(in, &probe);
  if (rc == 0)
    rc = validate_update(in, &probe, errs);
  if (rc == 0)
    rc = msvc__load_user_record(svc, id, &rec);
  if (rc == 0 && in->password != NULL)
    rc = change_password(svc, rec, in, errs);
  if (rc == 0) {
    rc = msvc__take_profile(in, rec->user);
    rec->user->updated_at = msvc__realtime_ms();
  }
  msvc__user_reset(&probe);
  if (rc == 0)
    rc = msvc_store_user_update(svc->store, rec);
  else if (rec != NULL) {
    msvc_user_record_free(rec);
    return rc;
  }
  if (rc == 0 && in->password != NULL)
    end_other_sessions(svc, call, id);
  return rec != NULL ? msvc__finish_user_write(rc, rec, errs, out) : rc;
}

int msvc_user_update(msvc_t *svc, const msvc_call_t *call, const char *id,
                     const msvc_user_input_t *in_, msvc_user_t **out,
                     msvc_errors_t *errs_) {
  msvc_user_input_t in;
  msvc_errors_t local, *errs;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || id == NULL || msvc__read_user_input(in_, &in) != 0)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  errs = msvc__errors_use(errs_, &local);
  rc = do_update(svc, call, id, &in, out, errs);
  msvc__errors_done(errs, errs_);
  return MSVC__END(svc, rc);
}

static int compare_ids(const void *a, const void *b) {
  return strcmp(((const msvc_id_t *)a)->hex, ((const msvc_id_t *)b)->hex);
}

static int compare_users(const void *a, const void *b) {
  return strcmp((*(msvc_user_t *const *)a)->id, (*(msvc_user_t *const *)b)->id);
}

/* Lower-cased, sorted, distinct copy of ids[0..n) in uniq; returns the
 * count. */
static size_t distinct_ids(const msvc_id_t *ids, size_t n, msvc_id_t *uniq) {
  size_t count = 0;
  memcpy(uniq, ids, n * sizeof(*ids));
  for (size_t i = 0; i < n; i++) {
    uniq[i].hex[MSVC_ID_LEN] = '\0';
    msvc__ascii_lower(uniq[i].hex);
  }
  qsort(uniq, n, sizeof(*uniq), compare_ids);
  for (size_t i = 0; i < n; i++)
    if (count == 0 || strcmp(uniq[count - 1].hex, uniq[i].hex) != 0)
      uniq[count++] = uniq[i];
  return count;
}

/* Moves found users into out in the order of first mention in ids;
 * returns how many.  Moved slots of `found` become NULL. */
static size_t order_users(const msvc_id_t *ids, size_t n, msvc_user_t **found,
                          size_t nfound, msvc_user_t **out) {
  size_t count = 0;
  qsort(found, nfound, sizeof(*found), compare_users);
  for (size_t i = 0; i < n; i++) {
    msvc_user_t key, *keyp = &key, **hit;
    memset(&key, 0, sizeof(key));
    memcpy(key.id, ids[i].hex, MSVC_ID_LEN);
    msvc__ascii_lower(key.id);
    hit = bsearch(&keyp, found, nfound, sizeof(*found), compare_users);
    if (hit == NULL || (*hit)->name == NULL)
      continue; /* unknown, or already moved out */
    if (msvc_user_dup(*hit, &out[count]) != 0)
      break;
    count++;
    free((*hit)->name); /* marks it as moved */
    (*hit)->name = NULL;
  }
  return count;
}

static int do_lookup(msvc_t *svc, const msvc_id_t *ids, size_t n,
                     msvc_user_t ***out, size_t *nout) {
  msvc_id_t *uniq = malloc(n * sizeof(*uniq));
  msvc_user_t **found = NULL, **users = calloc(n, sizeof(*users));
  size_t nuniq, nfound = 0;
  int rc = uniq && users ? msvc__users_alloc(n, &found) : MSVC_ENOMEM;
  if (rc == 0) {
    nuniq = distinct_ids(ids, n, uniq);
    rc = msvc_store_users_find_many(svc->store, uniq, nuniq, found, &nfound);
  }
  if (rc == 0) {
    *nout = order_users(ids, n, found, nfound, users);
    *out = users;
    users = NULL;
  }
  msvc_users_free(found, n);
  msvc_users_free(users, 0);
  free(uniq);
  return rc;
}

int msvc_users_lookup(msvc_t *svc, const msvc_call_t *call,
                      const msvc_id_t *ids, size_t n, msvc_user_t ***out,
                      size_t *nout) {
  int rc;
  if (out != NULL)
    *out = NULL;
  if (nout != NULL)
    *nout = 0;
  if (svc == NULL || out == NULL || nout == NULL || (ids == NULL && n > 0))
    return MSVC_EINVAL;
  if (n == 0)
    return 0;
  MSVC__BEGIN();
  rc = msvc__store_gate(svc, call);
  if (rc == 0)
    rc = do_lookup(svc, ids, n, out, nout);
  return MSVC__END(svc, rc);
}
