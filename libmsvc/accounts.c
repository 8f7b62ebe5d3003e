/* accounts.c - registration, login, profiles and user lookups.
 *
 * Invariants: a user leaves this file only as msvc_user_t (never with its
 * hash); an unknown email and a wrong password produce the same error after
 * the same work (one hash check against a dummy hash of the configured
 * cost); a throttled account is refused before any hash is computed; email
 * uniqueness is left to the store's unique index, never to a read before
 * the write.
 */
#include <stdlib.h>
#include <string.h>

#include "service_internal.h"

static int user_from_record(msvc_user_t *out, msvc_user_record_t *rec) {
  *out = rec->user; /* moves the strings */
  memset(&rec->user, 0, sizeof(rec->user));
  msvc_user_record_clear(rec);
  return 0;
}

static int hash_password(msvc_t *svc, const char *password, char **out) {
  return msvc_password_hash(&svc->password, password, strlen(password), out);
}

/* The end of a register or update: a duplicate email is reported on the
 * email field; on success the record becomes the caller's user (*out),
 * else it is released. */
static int finish_user_write(int rc, msvc_user_record_t *rec,
                             msvc_errors_t *errs, msvc_user_t *out) {
  if (rc == MSVC_EEXIST)
    msvc_errors_add(errs, "email", "is already registered");
  if (rc != 0) {
    msvc_user_record_clear(rec);
    return rc;
  }
  return user_from_record(out, rec);
}

int msvc_register(msvc_t *svc, msvc_user_input_t *in, msvc_user_t *out,
                  msvc_errors_t *errs) {
  msvc_user_record_t rec;
  int rc;
  memset(out, 0, sizeof(*out));
  msvc_validate_name(in->name, errs);
  msvc_validate_email(in->email, errs);
  msvc_validate_password("password", in->password, errs);
  if (errs->count > 0)
    return MSVC_EVALIDATION;
  memset(&rec, 0, sizeof(rec));
  rc = hash_password(svc, in->password, &rec.password_hash);
  if (rc != 0)
    return rc;
  msvc_idgen_next(svc->ids, rec.user.id);
  rec.user.name = msvc__strdup(in->name);
  rec.user.email = msvc__strdup(in->email);
  rec.user.created_at = rec.user.updated_at = msvc_now_ms();
  if (rec.user.name == NULL || rec.user.email == NULL)
    rc = MSVC_ENOMEM;
  else
    rc = msvc_store_user_insert(svc->store, &rec);
  return finish_user_write(rc, &rec, errs, out);
}

void msvc_login_result_clear(msvc_login_result_t *res) {
  if (res == NULL)
    return;
  free(res->token);
  msvc_user_clear(&res->user);
  memset(res, 0, sizeof(*res));
}

/* Checks password against the record's hash, or against the dummy hash
 * when there is no record, so both paths cost one hash. */
static int check_password(msvc_t *svc, const msvc_user_record_t *rec,
                          int found, const char *password) {
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
  if (!msvc_password_needs_rehash(&svc->password, rec->password_hash))
    return;
  if (hash_password(svc, password, &fresh) != 0)
    return;
  free(rec->password_hash);
  rec->password_hash = fresh;
  (void)msvc_store_user_update(svc->store, rec);
}

static int require_login_fields(msvc_user_input_t *in, msvc_errors_t *errs) {
  if (in->email == NULL)
    msvc_errors_add(errs, "email", "is required");
  if (in->password == NULL)
    msvc_errors_add(errs, "password", "is required");
  return errs->count > 0 ? MSVC_EVALIDATION : 0;
}

static void normalize_email(char *email) {
  size_t len;
  char *start = email;
  while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
    start++;
  memmove(email, start, strlen(start) + 1);
  len = strlen(email);
  while (len > 0 && (email[len - 1] == ' ' || email[len - 1] == '\t' ||
                     email[len - 1] == '\n' || email[len - 1] == '\r'))
    email[--len] = '\0';
  msvc__ascii_lower(email);
}

int msvc_login(msvc_t *svc, msvc_user_input_t *in, msvc_login_result_t *out,
               msvc_errors_t *errs) {
  msvc_user_record_t rec;
  int64_t now = msvc_now_ms();
  int found, rc;
  memset(out, 0, sizeof(*out));
  if (require_login_fields(in, errs) != 0)
    return MSVC_EVALIDATION;
  normalize_email(in->email);
  out->retry_after = msvc__throttle_check(svc->throttle, in->email, now);
  if (out->retry_after > 0)
    return MSVC_ETHROTTLED;
  memset(&rec, 0, sizeof(rec));
  rc = msvc_store_user_find_by_email(svc->store, in->email, &rec);
  if (rc != 0 && rc != MSVC_ENOTFOUND)
    return rc;
  found = rc == 0;
  rc = check_password(svc, &rec, found, in->password);
  if (rc != 0) {
    msvc__throttle_fail(svc->throttle, in->email, now);
    msvc_user_record_clear(&rec);
    return rc;
  }
  msvc__throttle_reset(svc->throttle, in->email);
  upgrade_hash(svc, &rec, in->password);
  rc = msvc_token_issue_user(&svc->token, &rec.user, now / 1000, &out->token);
  if (rc != 0) {
    msvc_user_record_clear(&rec);
    return rc;
  }
  out->expires_in = svc->token.ttl;
  return user_from_record(&out->user, &rec);
}

int msvc_user_get(msvc_t *svc, const char *id, unsigned flags,
                  msvc_user_t *out) {
  msvc_user_record_t rec;
  int rc = msvc__store_gate(svc, flags);
  memset(out, 0, sizeof(*out));
  if (rc != 0)
    return rc;
  memset(&rec, 0, sizeof(rec));
  rc = msvc_store_user_find_by_id(svc->store, id, &rec);
  if (rc != 0)
    return rc;
  return user_from_record(out, &rec);
}

static int validate_update(msvc_user_input_t *in, msvc_errors_t *errs) {
  if (in->name == NULL && in->email == NULL && in->password == NULL) {
    msvc_errors_add(errs, "body", "must contain name, email or password");
    return MSVC_EVALIDATION;
  }
  if (in->name != NULL)
    msvc_validate_name(in->name, errs);
  if (in->email != NULL)
    msvc_validate_email(in->email, errs);
  if (in->password != NULL) {
    msvc_validate_password("password", in->password, errs);
    if (in->current_password == NULL)
      msvc_errors_add(errs, "current_password",
                      "is required to change the password");
  }
  return errs->count > 0 ? MSVC_EVALIDATION : 0;
}

/* Moves the changed fields of `in` into rec. */
static int apply_update(msvc_t *svc, msvc_user_record_t *rec,
                        msvc_user_input_t *in, msvc_errors_t *errs) {
  char *hash = NULL;
  if (in->password != NULL) {
    if (msvc_password_verify(in->current_password,
                             strlen(in->current_password),
                             rec->password_hash) != 0) {
      msvc_errors_add(errs, "current_password", "is incorrect");
      return MSVC_EVALIDATION;
    }
    int rc = hash_password(svc, in->password, &hash);
    if (rc != 0)
      return rc;
    free(rec->password_hash);
    rec->password_hash = hash;
  }
  if (in->name != NULL) {
    free(rec->user.name);
    rec->user.name = in->name;
    in->name = NULL;
  }
  if (in->email != NULL) {
    free(rec->user.email);
    rec->user.email = in->email;
    in->email = NULL;
  }
  rec->user.updated_at = msvc_now_ms();
  return 0;
}

int msvc_user_update(msvc_t *svc, const char *id, msvc_user_input_t *in,
                     msvc_user_t *out, msvc_errors_t *errs) {
  msvc_user_record_t rec;
  int rc;
  memset(out, 0, sizeof(*out));
  if (validate_update(in, errs) != 0)
    return MSVC_EVALIDATION;
  memset(&rec, 0, sizeof(rec));
  rc = msvc_store_user_find_by_id(svc->store, id, &rec);
  if (rc == 0)
    rc = apply_update(svc, &rec, in, errs);
  if (rc == 0)
    rc = msvc_store_user_update(svc->store, &rec);
  return finish_user_write(rc, &rec, errs, out);
}

static int compare_ids(const void *a, const void *b) {
  return strcmp(((const msvc_id_t *)a)->hex, ((const msvc_id_t *)b)->hex);
}

static int compare_users(const void *a, const void *b) {
  return strcmp(((const msvc_user_t *)a)->id, ((const msvc_user_t *)b)->id);
}

/* Lower-cased, sorted, distinct copy of ids[0..n) in uniq; returns the
 * count.  Sorting keeps 1000-id lookups O(n log n). */
static size_t distinct_ids(const msvc_id_t *ids, size_t n, msvc_id_t *uniq) {
  size_t count = 0;
  memcpy(uniq, ids, n * sizeof(*ids));
  for (size_t i = 0; i < n; i++)
    msvc__ascii_lower(uniq[i].hex);
  qsort(uniq, n, sizeof(*uniq), compare_ids);
  for (size_t i = 0; i < n; i++)
    if (count == 0 || strcmp(uniq[count - 1].hex, uniq[i].hex) != 0)
      uniq[count++] = uniq[i];
  return count;
}

/* Moves found users into out in the order of first mention in ids. */
static size_t order_users(const msvc_id_t *ids, size_t n, msvc_user_t *found,
                          size_t nfound, msvc_user_t *out) {
  size_t count = 0;
  qsort(found, nfound, sizeof(*found), compare_users);
  for (size_t i = 0; i < n; i++) {
    msvc_user_t key, *hit;
    memset(&key, 0, sizeof(key));
    memcpy(key.id, ids[i].hex, MSVC_ID_SIZE);
    msvc__ascii_lower(key.id);
    hit = bsearch(&key, found, nfound, sizeof(*found), compare_users);
    if (hit == NULL || hit->name == NULL)
      continue; /* unknown, or already moved out */
    out[count++] = *hit;
    hit->name = hit->email = NULL;
  }
  return count;
}

int msvc_users_lookup(msvc_t *svc, const msvc_id_t *ids, size_t n,
                      unsigned flags, msvc_user_t *out, size_t *nout) {
  msvc_id_t *uniq;
  msvc_user_t *found;
  size_t nuniq, nfound = 0;
  int rc = msvc__store_gate(svc, flags);
  *nout = 0;
  if (rc != 0 || n == 0)
    return rc;
  uniq = malloc(n * sizeof(*uniq));
  found = calloc(n, sizeof(*found));
  if (uniq == NULL || found == NULL) {
    free(uniq);
    free(found);
    return MSVC_ENOMEM;
  }
  nuniq = distinct_ids(ids, n, uniq);
  rc = msvc_store_users_find_many(svc->store, uniq, nuniq, found, &nfound);
  if (rc == 0)
    *nout = order_users(ids, n, found, nfound, out);
  msvc_users_free(found, nfound);
  free(uniq);
  return rc;
}
