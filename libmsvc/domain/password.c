/* password.c - password hashing and checking through libxcrypt.
 *
 * Only two schemes are ever produced, bcrypt ("$2b$") and yescrypt ("$y$"),
 * and only bcrypt ($2a$, $2b$, $2y$) and yescrypt hashes are ever accepted:
 * a store holding some weaker crypt(3) string (DES, MD5) must not let a
 * login through on it.  Every call gets its own heap-allocated crypt_data
 * (about 32 KiB, too big for a worker's stack), which is wiped before it is
 * freed together with the NUL-terminated copy of the password that lives in
 * the same block.  A result is compared with the stored hash in constant
 * time.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BCRYPT_DEFAULT_COST 10
#define YESCRYPT_DEFAULT_COST 5

/* The working memory of one hash: libxcrypt's state and the password. */
typedef struct crypt_job {
  struct crypt_data data;
  char password[]; /* NUL-terminated copy */
} crypt_job_t;

static int is_bcrypt(const char *scheme) {
  return strcmp(scheme, "$2b$") == 0 || strcmp(scheme, "bcrypt") == 0;
}

static int is_yescrypt(const char *scheme) {
  return strcmp(scheme, "$y$") == 0 || strcmp(scheme, "yescrypt") == 0;
}

/* Resolves (scheme, cost) into a prefix libxcrypt accepts and an explicit
 * cost (0 stands for the scheme's default, each scheme's own).
 * MSVC_EINVAL for anything else. */
static int resolve_scheme(const char *scheme, unsigned long cost_in,
                          const char **prefix, unsigned long *cost) {
  if (scheme == NULL)
    return MSVC_EINVAL;
  *cost = cost_in;
  if (is_bcrypt(scheme)) {
    *prefix = "$2b$";
    if (*cost == 0)
      *cost = BCRYPT_DEFAULT_COST;
    return *cost >= 4 && *cost <= 31 ? 0 : MSVC_EINVAL;
  }
  if (is_yescrypt(scheme)) {
    *prefix = "$y$";
    if (*cost == 0)
      *cost = YESCRYPT_DEFAULT_COST;
    return *cost >= 1 && *cost <= 11 ? 0 : MSVC_EINVAL;
  }
  return MSVC_EINVAL;
}

/* 1 when hash starts like a bcrypt or yescrypt string. */
static int accepted_scheme(const char *hash) {
  return strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
         strncmp(hash, "$2y$", 4) == 0 || strncmp(hash, "$y$", 3) == 0;
}

static crypt_job_t *job_new(const char *password, size_t len) {
  crypt_job_t *job;
  if (len > SIZE_MAX - sizeof(*job) - 1)
    return NULL;
  job = calloc(1, sizeof(*job) + len + 1);
  if (job == NULL)
    return NULL;
  memcpy(job->password, password, len);
  return job;
}

static void job_free(crypt_job_t *job, size_t len) {
  if (job == NULL)
    return;
  explicit_bzero(job, sizeof(*job) + len + 1);
  free(job);
}

/* libxcrypt reports failure either with NULL or with a string starting
 * with '*' (the "failure token"), depending on how it was built. */
static const char *run_crypt(crypt_job_t *job, const char *setting) {
  const char *res =
      crypt_rn(job->password, setting, &job->data, (int)sizeof(job->data));
  return res != NULL && res[0] != '*' ? res : NULL;
}

int msvc_password_scheme_check(const char *scheme, unsigned long cost) {
  const char *prefix;
  return resolve_scheme(scheme, cost, &prefix, &cost);
}

int msvc_password_hash(const char *scheme, unsigned long cost_in,
                       const char *password, size_t len, char **out) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  const char *prefix, *res;
  unsigned long cost;
  crypt_job_t *job;
  int rc;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  if (password == NULL || memchr(password, '\0', len) != NULL ||
      resolve_scheme(scheme, cost_in, &prefix, &cost) != 0)
    return MSVC_EINVAL;
  if (crypt_gensalt_rn(prefix, cost, NULL, 0, setting, (int)sizeof(setting)) ==
      NULL)
    return MSVC_ECRYPTO;
  job = job_new(password, len);
  if (job == NULL)
    return MSVC_ENOMEM;
  res = run_crypt(job, setting);
  rc = MSVC_ECRYPTO;
  if (res != NULL) {
    *out = msvc__strdup(res);
    rc = *out != NULL ? 0 : MSVC_ENOMEM;
  }
  job_free(job, len);
  return rc;
}

/* Compares two equally long strings without an early exit. */
static int equal_const_time(const char *a, const char *b, size_t n) {
  unsigned char diff = 0;
  for (size_t i = 0; i < n; i++)
    diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

int msvc_password_verify(const char *password, size_t len, const char *hash) {
  const char *res;
  crypt_job_t *job;
  size_t hash_len;
  int rc;
  if (hash == NULL || password == NULL || !accepted_scheme(hash))
    return MSVC_EINVAL;
  /* A password with a NUL inside can match no hash we made. */
  if (memchr(password, '\0', len) != NULL)
    return MSVC_EAUTH;
  job = job_new(password, len);
  if (job == NULL)
    return MSVC_ENOMEM;
  res = run_crypt(job, hash);
  hash_len = strlen(hash);
  /* libxcrypt reads only the setting part of `hash`, so a truncated or
   * padded string still yields a full hash: a length that differs means
   * the stored string was not a complete hash. */
  if (res == NULL || strlen(res) != hash_len)
    rc = MSVC_EINVAL;
  else
    rc = equal_const_time(res, hash, hash_len) ? 0 : MSVC_EAUTH;
  job_free(job, len);
  return rc;
}

/* Length of the "$id$params$" head of a crypt string (through its third
 * '$'), or 0 when it has none. */
static size_t settings_head_len(const char *s) {
  int dollars = 0;
  for (size_t i = 0; s[i] != '\0'; i++)
    if (s[i] == '$' && ++dollars == 3)
      return i + 1;
  return 0;
}

int msvc_password_needs_rehash(const char *scheme, unsigned long cost_in,
                               const char *hash) {
  /* The salt is thrown away: fixed bytes keep this free of syscalls. */
  static const char fixed_salt[16] = {0};
  char want[CRYPT_GENSALT_OUTPUT_SIZE];
  const char *prefix;
  unsigned long cost;
  size_t head;
  if (resolve_scheme(scheme, cost_in, &prefix, &cost) != 0 || hash == NULL)
    return 0;
  if (crypt_gensalt_rn(prefix, cost, fixed_salt, (int)sizeof(fixed_salt), want,
                       (int)sizeof(want)) == NULL)
    return 0;
  head = settings_head_len(want);
  return head != 0 && strncmp(hash, want, head) != 0;
}
