/* keys.c - the keyring: the HS256 secret or ES256/RS256 keys (OpenSSL 3
 * EVP_PKEY), raw JWS signatures over them, and the JWK Set of the public
 * halves.
 *
 * Invariants:
 * - ring->alg never changes, and every key in the ring is of that
 *   algorithm's type (a P-256 key for ES256, RSA of 2048..8192 bits for
 *   RS256): checked once at load, so signing and verifying trust it.
 * - Signing keys are only ever appended (at set-up) and freed with the
 *   ring; each is its own allocation, so the kid pointer handed out by
 *   msvc__keyring_signing_kid stays valid while the ring lives.  The last
 *   one signs.
 * - The verify-only set is replaced whole, under the write lock.  Readers
 *   hold the read lock only to find a key and take a reference on it; the
 *   signature work runs outside the lock, so a replacement never waits for
 *   a signature check and a key freed by it outlives the checks using it.
 * - A kid is 1..MSVC__KID_MAX printable ASCII bytes other than '"' and
 *   '\\': it goes into token headers and the JWK Set without escaping.
 * - ES256 signatures on the wire are r||s, 32 bytes each (RFC 7518 3.4);
 *   OpenSSL speaks DER ECDSA-Sig-Value, so they are converted both ways.
 * - Every failing OpenSSL call's error queue is cleared before returning,
 *   so no stale error surprises the next user of the thread (libjwt too).
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "domain/digest.h"
#include "domain/keys.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192 /* bounds what one verification may cost */
#define PEM_MAX_BYTES 65536
#define ES256_COORD 32   /* bytes of r, s, x and y on P-256 */
#define HS256_KID_LEN 16 /* hex digits of SHA-256(secret) */

typedef struct ring_key {
  char kid[MSVC__KID_MAX + 1];
  EVP_PKEY *pkey;
} ring_key_t;

typedef struct keyset {
  ring_key_t **items;
  size_t n;
} keyset_t;

struct msvc__keyring {
  msvc__alg_t alg;
  pthread_rwlock_t lock;
  unsigned char *secret; /* HS256 */
  size_t secret_len;
  char secret_kid[HS256_KID_LEN + 1];
  keyset_t priv; /* signing keys, append-only */
  keyset_t pub;  /* verify-only keys, replaced whole */
};

/* ---- names -------------------------------------------------------------- */

int msvc__alg_parse(const char *name, msvc__alg_t *out) {
  static const msvc__alg_t algs[] = {MSVC__ALG_HS256, MSVC__ALG_ES256,
                                     MSVC__ALG_RS256};
  if (name == NULL || out == NULL)
    return MSVC_EINVAL;
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(algs); i++)
    if (strcmp(name, msvc__alg_name(algs[i])) == 0) {
      *out = algs[i];
      return 0;
    }
  return MSVC_EINVAL;
}

const char *msvc__alg_name(msvc__alg_t alg) {
  switch (alg) {
  case MSVC__ALG_HS256:
    return "HS256";
  case MSVC__ALG_ES256:
    return "ES256";
  case MSVC__ALG_RS256:
    return "RS256";
  }
  return "?";
}

/* ---- key sets ----------------------------------------------------------- */

static void key_free(ring_key_t *k) {
  if (k != NULL) {
    EVP_PKEY_free(k->pkey);
    free(k);
  }
}

static void keyset_clear(keyset_t *set) {
  for (size_t i = 0; i < set->n; i++)
    key_free(set->items[i]);
  free(set->items);
  set->items = NULL;
  set->n = 0;
}

static int keyset_push(keyset_t *set, ring_key_t *k) {
  ring_key_t **items = realloc(set->items, (set->n + 1) * sizeof(*items));
  if (items == NULL)
    return MSVC_ENOMEM;
  items[set->n++] = k;
  set->items = items;
  return 0;
}

static ring_key_t *keyset_find(const keyset_t *set, const char *kid) {
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->items[i]->kid, kid) == 0)
      return set->items[i];
  return NULL;
}

/* ---- the ring ----------------------------------------------------------- */

int msvc__keyring_new(msvc__alg_t alg, msvc__keyring_t **out) {
  msvc__keyring_t *kr;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  if (alg != MSVC__ALG_HS256 && alg != MSVC__ALG_ES256 &&
      alg != MSVC__ALG_RS256)
    return MSVC_EINVAL;
  kr = calloc(1, sizeof(*kr));
  if (kr == NULL)
    return MSVC_ENOMEM;
  if (pthread_rwlock_init(&kr->lock, NULL) != 0) {
    free(kr);
    return MSVC_ENOMEM;
  }
  kr->alg = alg;
  *out = kr;
  return 0;
}

static void secret_clear(msvc__keyring_t *kr) {
  if (kr->secret != NULL) {
    OPENSSL_cleanse(kr->secret, kr->secret_len);
    free(kr->secret);
  }
  kr->secret = NULL;
  kr->secret_len = 0;
}

void msvc__keyring_free(msvc__keyring_t *kr) {
  if (kr == NULL)
    return;
  secret_clear(kr);
  keyset_clear(&kr->priv);
  keyset_clear(&kr->pub);
  pthread_rwlock_destroy(&kr->lock);
  free(kr);
}

msvc__alg_t msvc__keyring_alg(const msvc__keyring_t *kr) {
  return kr->alg;
}

int msvc__keyring_set_secret(msvc__keyring_t *kr, const unsigned char *secret,
                             size_t len) {
  char hex[MSVC_HASH_SIZE];
  unsigned char *copy;
  if (kr == NULL || kr->alg != MSVC__ALG_HS256 || secret == NULL || len == 0 ||
      len > INT32_MAX) /* HMAC() takes an int length */
    return MSVC_EINVAL;
  copy = malloc(len);
  if (copy == NULL)
    return MSVC_ENOMEM;
  memcpy(copy, secret, len);
  msvc__sha256_hex(secret, len, hex);
  if (hex[0] == '\0') {
    free(copy);
    return MSVC_ENOMEM;
  }
  pthread_rwlock_wrlock(&kr->lock);
  secret_clear(kr);
  kr->secret = copy;
  kr->secret_len = len;
  memcpy(kr->secret_kid, hex, HS256_KID_LEN);
  kr->secret_kid[HS256_KID_LEN] = '\0';
  pthread_rwlock_unlock(&kr->lock);
  return 0;
}

int msvc__keyring_can_sign(const msvc__keyring_t *kr) {
  msvc__keyring_t *w = (msvc__keyring_t *)kr; /* the lock is not const */
  int yes;
  if (kr == NULL)
    return 0;
  pthread_rwlock_rdlock(&w->lock);
  yes = kr->alg == MSVC__ALG_HS256 ? kr->secret != NULL : kr->priv.n > 0;
  pthread_rwlock_unlock(&w->lock);
  return yes;
}

/* ---- loading keys ------------------------------------------------------- */

/* Printable ASCII without the two characters JSON would need escaped. */
static int kid_ok(const char *kid) {
  size_t len = kid != NULL ? strnlen(kid, MSVC__KID_MAX + 1) : 0;
  if (len == 0 || len > MSVC__KID_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)kid[i];
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
      return 0;
  }
  return 1;
}

/* An encrypted PEM must fail, not prompt on the terminal (OpenSSL's
 * default when no callback is given). */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  MSVC__UNUSED(buf);
  MSVC__UNUSED(size);
  MSVC__UNUSED(rwflag);
  MSVC__UNUSED(u);
  return -1;
}

static EVP_PKEY *pem_read(const char *pem, size_t len, int is_private) {
  EVP_PKEY *pkey = NULL;
  BIO *bio;
  if (pem == NULL || len == 0 || len > PEM_MAX_BYTES)
    return NULL;
  bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL)
    return NULL;
  pkey = is_private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
                    : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
  BIO_free(bio);
  ERR_clear_error();
  return pkey;
}

static int is_p256(EVP_PKEY *pkey) {
  char group[64];
  size_t len = 0;
  if (!EVP_PKEY_is_a(pkey, "EC") ||
      EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1)
    return 0;
  return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* 0, or MSVC_ECONFIG with a reason naming kid when the key does not suit
 * the ring's algorithm. */
static int key_type_check(msvc__alg_t alg, EVP_PKEY *pkey, const char *kid,
                          char *errbuf, size_t errlen) {
  int bits;
  if (alg == MSVC__ALG_ES256) {
    if (is_p256(pkey))
      return 0;
    msvc__set_error(errbuf, errlen, "key %s is not a P-256 key (ES256)", kid);
    return MSVC_ECONFIG;
  }
  /* "RSA" only: an RSA-PSS-restricted key cannot make RS256 signatures. */
  if (!EVP_PKEY_is_a(pkey, "RSA")) {
    msvc__set_error(errbuf, errlen, "key %s is not an RSA key (RS256)", kid);
    return MSVC_ECONFIG;
  }
  bits = EVP_PKEY_get_bits(pkey);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    msvc__set_error(errbuf, errlen,
                    "RSA key %s has %d bits; RS256 needs %d to %d", kid, bits,
                    RSA_MIN_BITS, RSA_MAX_BITS);
    return MSVC_ECONFIG;
  }
  return 0;
}

/* A checked key named kid from PEM; MSVC_ECONFIG with a reason. */
static int key_load(msvc__alg_t alg, const char *kid, const char *pem,
                    size_t len, int is_private, ring_key_t **out, char *errbuf,
                    size_t errlen) {
  ring_key_t *k;
  int rc;
  *out = NULL;
  if (alg == MSVC__ALG_HS256) {
    msvc__set_error(errbuf, errlen, "HS256 takes a secret, not a PEM key");
    return MSVC_ECONFIG;
  }
  if (!kid_ok(kid)) {
    msvc__set_error(errbuf, errlen,
                    "a kid must be 1 to %d printable ASCII characters "
                    "without '\"' or '\\'",
                    MSVC__KID_MAX);
    return MSVC_ECONFIG;
  }
  k = calloc(1, sizeof(*k));
  if (k == NULL)
    return MSVC_ENOMEM;
  strcpy(k->kid, kid); /* fits: kid_ok bounded it */
  k->pkey = pem_read(pem, len, is_private);
  if (k->pkey == NULL) {
    msvc__set_error(errbuf, errlen, "key %s is not a PEM %s key", kid,
                    is_private ? "private" : "public");
    key_free(k);
    return MSVC_ECONFIG;
  }
  rc = key_type_check(alg, k->pkey, kid, errbuf, errlen);
  if (rc != 0) {
    key_free(k);
    return rc;
  }
  *out = k;
  return 0;
}

static int add_key(msvc__keyring_t *kr, const char *kid, const char *pem,
                   size_t len, int is_private, char *errbuf, size_t errlen) {
  ring_key_t *k;
  int rc;
  if (kr == NULL)
    return MSVC_EINVAL;
  rc = key_load(kr->alg, kid, pem, len, is_private, &k, errbuf, errlen);
  if (rc != 0)
    return rc;
  pthread_rwlock_wrlock(&kr->lock);
  if (keyset_find(&kr->priv, kid) != NULL ||
      keyset_find(&kr->pub, kid) != NULL) {
    msvc__set_error(errbuf, errlen, "key %s is given twice", kid);
    rc = MSVC_ECONFIG;
  } else {
    rc = keyset_push(is_private ? &kr->priv : &kr->pub, k);
  }
  pthread_rwlock_unlock(&kr->lock);
  if (rc != 0)
    key_free(k);
  return rc;
}

int msvc__keyring_add_private(msvc__keyring_t *kr, const char *kid,
                              const char *pem, size_t len, char *errbuf,
                              size_t errlen) {
  return add_key(kr, kid, pem, len, 1, errbuf, errlen);
}

int msvc__keyring_add_public(msvc__keyring_t *kr, const char *kid,
                             const char *pem, size_t len, char *errbuf,
                             size_t errlen) {
  return add_key(kr, kid, pem, len, 0, errbuf, errlen);
}

/* The new verify-only set, every key checked; nothing half-built on
 * failure. */
static int keyset_build(msvc__alg_t alg, const char *const *kids,
                        const char *const *pems, size_t n, keyset_t *out,
                        char *errbuf, size_t errlen) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    ring_key_t *k = NULL;
    if (pems[i] == NULL) {
      msvc__set_error(errbuf, errlen, "key %zu has no PEM", i);
      rc = MSVC_ECONFIG;
      break;
    }
    rc =
        key_load(alg, kids[i], pems[i], strlen(pems[i]), 0, &k, errbuf, errlen);
    if (rc == 0 && keyset_find(out, k->kid) != NULL) {
      msvc__set_error(errbuf, errlen, "key %s is given twice", k->kid);
      rc = MSVC_ECONFIG;
    }
    if (rc == 0)
      rc = keyset_push(out, k);
    if (rc != 0)
      key_free(k);
  }
  if (rc != 0)
    keyset_clear(out);
  return rc;
}

int msvc__keyring_replace_public(msvc__keyring_t *kr, const char *const *kids,
                                 const char *const *pems, size_t n,
                                 char *errbuf, size_t errlen) {
  keyset_t fresh = {NULL, 0}, old;
  int rc;
  if (kr == NULL || (n > 0 && (kids == NULL || pems == NULL)))
    return MSVC_EINVAL;
  if (kr->alg == MSVC__ALG_HS256)
    return MSVC_EUNSUPPORTED;
  rc = keyset_build(kr->alg, kids, pems, n, &fresh, errbuf, errlen);
  if (rc != 0)
    return rc;
  pthread_rwlock_wrlock(&kr->lock);
  /* An empty set on a ring that cannot sign would refuse every token: an
   * empty or broken JWK Set upstream must not do that. */
  if (n == 0 && kr->priv.n == 0) {
    pthread_rwlock_unlock(&kr->lock);
    msvc__set_error(errbuf, errlen, "a key set with no keys");
    return MSVC_ECONFIG;
  }
  old = kr->pub;
  kr->pub = fresh;
  pthread_rwlock_unlock(&kr->lock);
  keyset_clear(&old); /* checks in flight hold their own references */
  return 0;
}

/* ---- signing and verifying ---------------------------------------------- */

/* DER ECDSA-Sig-Value -> r||s into out[64]. */
static int ecdsa_der_to_raw(const unsigned char *der, size_t len,
                            unsigned char out[2 * ES256_COORD]) {
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
  const BIGNUM *r, *s;
  int ok;
  if (sig == NULL)
    return -1;
  ECDSA_SIG_get0(sig, &r, &s);
  ok = BN_bn2binpad(r, out, ES256_COORD) == ES256_COORD &&
       BN_bn2binpad(s, out + ES256_COORD, ES256_COORD) == ES256_COORD;
  ECDSA_SIG_free(sig);
  return ok ? 0 : -1;
}

/* r||s -> DER (OPENSSL_malloc'd, *der_len bytes). */
static int ecdsa_raw_to_der(const unsigned char raw[2 * ES256_COORD],
                            unsigned char **der, size_t *der_len) {
  ECDSA_SIG *sig = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(raw, ES256_COORD, NULL);
  BIGNUM *s = BN_bin2bn(raw + ES256_COORD, ES256_COORD, NULL);
  int len = -1;
  *der = NULL;
  if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s)) {
    r = s = NULL; /* owned by sig now */
    len = i2d_ECDSA_SIG(sig, der);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  if (len <= 0)
    return -1;
  *der_len = (size_t)len;
  return 0;
}

/* The raw JWS signature of input by pkey into out (room for
 * EVP_PKEY_get_size bytes, at least 72), its length into *outlen. */
static int pkey_sign(msvc__alg_t alg, EVP_PKEY *pkey, const char *input,
                     size_t len, unsigned char *out, size_t *outlen) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t n = (size_t)EVP_PKEY_get_size(pkey);
  int ok = ctx != NULL &&
           EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
           EVP_DigestSign(ctx, out, &n, (const unsigned char *)input, len) == 1;
  EVP_MD_CTX_free(ctx);
  if (ok && alg == MSVC__ALG_ES256) {
    unsigned char raw[2 * ES256_COORD];
    ok = ecdsa_der_to_raw(out, n, raw) == 0;
    memcpy(out, raw, sizeof(raw));
    n = sizeof(raw);
  }
  if (!ok) {
    ERR_clear_error();
    return MSVC_ECRYPTO;
  }
  *outlen = n;
  return 0;
}

int msvc__keyring_signing_kid(msvc__keyring_t *kr, const char **kid) {
  int rc = MSVC_EINVAL;
  if (kr == NULL || kid == NULL)
    return MSVC_EINVAL;
  pthread_rwlock_rdlock(&kr->lock);
  if (kr->alg == MSVC__ALG_HS256 && kr->secret != NULL) {
    *kid = kr->secret_kid;
    rc = 0;
  } else if (kr->alg != MSVC__ALG_HS256 && kr->priv.n > 0) {
    *kid = kr->priv.items[kr->priv.n - 1]->kid;
    rc = 0;
  }
  pthread_rwlock_unlock(&kr->lock);
  return rc;
}

/* The signing key named kid, referenced (EVP_PKEY_free it). */
static EVP_PKEY *signing_key(msvc__keyring_t *kr, const char *kid) {
  EVP_PKEY *pkey = NULL;
  ring_key_t *k;
  pthread_rwlock_rdlock(&kr->lock);
  k = keyset_find(&kr->priv, kid);
  if (k != NULL && EVP_PKEY_up_ref(k->pkey) == 1)
    pkey = k->pkey;
  pthread_rwlock_unlock(&kr->lock);
  return pkey;
}

static int hs256_sign(msvc__keyring_t *kr, const char *kid, const char *input,
                      size_t len, unsigned char out[MSVC__SHA256_LEN]) {
  int rc = MSVC_EINVAL;
  pthread_rwlock_rdlock(&kr->lock);
  if (kr->secret != NULL && strcmp(kid, kr->secret_kid) == 0)
    rc = msvc__hmac_sha256(kr->secret, kr->secret_len, input, len, out);
  pthread_rwlock_unlock(&kr->lock);
  return rc;
}

int msvc__keyring_sign(msvc__keyring_t *kr, const char *kid, const char *input,
                       size_t len, char **sig) {
  unsigned char raw[RSA_MAX_BITS / 8 + 80]; /* fits DER ECDSA too */
  size_t n = MSVC__SHA256_LEN;
  EVP_PKEY *pkey;
  int rc;
  if (sig != NULL)
    *sig = NULL;
  if (kr == NULL || kid == NULL || input == NULL || sig == NULL)
    return MSVC_EINVAL;
  if (kr->alg == MSVC__ALG_HS256) {
    rc = hs256_sign(kr, kid, input, len, raw);
  } else if ((pkey = signing_key(kr, kid)) == NULL) {
    rc = MSVC_EINVAL; /* not one of our signing keys */
  } else {
    rc = pkey_sign(kr->alg, pkey, input, len, raw, &n);
    EVP_PKEY_free(pkey);
  }
  if (rc != 0)
    return rc;
  *sig = malloc((4 * n + 2) / 3 + 1);
  if (*sig == NULL)
    return MSVC_ENOMEM;
  msvc__base64url_encode(raw, n, *sig);
  return 0;
}

static int hs256_verify(msvc__keyring_t *kr, const char *kid, const char *input,
                        size_t len, const unsigned char *sig, size_t siglen) {
  unsigned char mac[MSVC__SHA256_LEN];
  int rc;
  pthread_rwlock_rdlock(&kr->lock);
  if (kr->secret == NULL)
    rc = MSVC_ETOKEN;
  else if (kid != NULL && strcmp(kid, kr->secret_kid) != 0)
    rc = MSVC_EKEY;
  else
    rc = msvc__hmac_sha256(kr->secret, kr->secret_len, input, len, mac);
  pthread_rwlock_unlock(&kr->lock);
  if (rc != 0)
    return rc == MSVC_EKEY ? MSVC_EKEY : MSVC_ETOKEN;
  return siglen == sizeof(mac) && CRYPTO_memcmp(mac, sig, siglen) == 0
             ? 0
             : MSVC_ETOKEN;
}

/* The key named kid, referenced (EVP_PKEY_free it); signing keys first. */
static EVP_PKEY *verify_key(msvc__keyring_t *kr, const char *kid) {
  EVP_PKEY *pkey = NULL;
  ring_key_t *k;
  pthread_rwlock_rdlock(&kr->lock);
  k = keyset_find(&kr->priv, kid);
  if (k == NULL)
    k = keyset_find(&kr->pub, kid);
  if (k != NULL && EVP_PKEY_up_ref(k->pkey) == 1)
    pkey = k->pkey;
  pthread_rwlock_unlock(&kr->lock);
  return pkey;
}

static int pkey_verify(msvc__alg_t alg, EVP_PKEY *pkey, const char *input,
                       size_t len, const unsigned char *sig, size_t siglen) {
  unsigned char *der = NULL;
  EVP_MD_CTX *ctx;
  int ok;
  if (alg == MSVC__ALG_ES256) {
    if (siglen != 2 * ES256_COORD || ecdsa_raw_to_der(sig, &der, &siglen) != 0)
      return MSVC_ETOKEN;
    sig = der;
  } else if (siglen != (size_t)EVP_PKEY_get_size(pkey)) {
    return MSVC_ETOKEN;
  }
  ctx = EVP_MD_CTX_new();
  ok = ctx != NULL &&
       EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
       EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)input, len) ==
           1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  if (!ok)
    ERR_clear_error();
  return ok ? 0 : MSVC_ETOKEN;
}

int msvc__keyring_verify(msvc__keyring_t *kr, const char *kid,
                         const char *input, size_t len,
                         const unsigned char *sig, size_t siglen) {
  EVP_PKEY *pkey;
  int rc;
  if (kr == NULL || input == NULL || (sig == NULL && siglen > 0))
    return MSVC_EINVAL;
  if (kid != NULL && strnlen(kid, MSVC__KID_MAX + 1) > MSVC__KID_MAX)
    return MSVC_ETOKEN;
  if (kr->alg == MSVC__ALG_HS256)
    return hs256_verify(kr, kid, input, len, sig, siglen);
  if (kid == NULL) /* our asymmetric tokens always name their key */
    return MSVC_ETOKEN;
  pkey = verify_key(kr, kid);
  if (pkey == NULL)
    return MSVC_EKEY;
  rc = pkey_verify(kr->alg, pkey, input, len, sig, siglen);
  EVP_PKEY_free(pkey);
  return rc;
}

/* ---- JWK Set ------------------------------------------------------------ */

/* A big number parameter as unpadded base64url, left-padded with zeros to
 * pad bytes (0: its minimal length, as RFC 7518 6.3.1 wants for n and e). */
static int put_bn_param(msvc__buf_t *b, EVP_PKEY *pkey, const char *param,
                        int pad) {
  unsigned char bytes[RSA_MAX_BITS / 8];
  char text[sizeof(bytes) * 4 / 3 + 4];
  BIGNUM *bn = NULL;
  int n;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
    ERR_clear_error();
    return MSVC_ECRYPTO;
  }
  n = BN_num_bytes(bn);
  if (pad > 0 && n <= pad)
    n = pad;
  if (n <= 0 || (size_t)n > sizeof(bytes) || BN_bn2binpad(bn, bytes, n) != n) {
    BN_free(bn);
    return MSVC_ECRYPTO;
  }
  BN_free(bn);
  msvc__base64url_encode(bytes, (size_t)n, text);
  msvc__buf_putc(b, '"');
  msvc__buf_puts(b, text);
  msvc__buf_putc(b, '"');
  return 0;
}

static int put_jwk(msvc__buf_t *b, msvc__alg_t alg, const ring_key_t *k) {
  int rc;
  if (alg == MSVC__ALG_ES256) {
    MSVC__BUF_LIT(b, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":");
    rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, ES256_COORD);
    MSVC__BUF_LIT(b, ",\"y\":");
    if (rc == 0)
      rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, ES256_COORD);
  } else {
    MSVC__BUF_LIT(b, "{\"kty\":\"RSA\",\"n\":");
    rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    MSVC__BUF_LIT(b, ",\"e\":");
    if (rc == 0)
      rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
  }
  MSVC__BUF_LIT(b, ",\"kid\":\"");
  msvc__buf_puts(b, k->kid); /* kid_ok: nothing to escape */
  MSVC__BUF_LIT(b, "\",\"use\":\"sig\",\"alg\":\"");
  msvc__buf_puts(b, msvc__alg_name(alg));
  MSVC__BUF_LIT(b, "\"}");
  return rc;
}

static int put_keyset(msvc__buf_t *b, msvc__alg_t alg, const keyset_t *set,
                      int *first) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < set->n; i++) {
    if (!*first)
      msvc__buf_putc(b, ',');
    *first = 0;
    rc = put_jwk(b, alg, set->items[i]);
  }
  return rc;
}

int msvc__keyring_jwks(msvc__keyring_t *kr, char **json) {
  msvc__buf_t b;
  int first = 1, rc;
  if (json != NULL)
    *json = NULL;
  if (kr == NULL || json == NULL)
    return MSVC_EINVAL;
  if (kr->alg == MSVC__ALG_HS256)
    return MSVC_EUNSUPPORTED; /* a secret is never published */
  msvc__buf_init(&b);
  MSVC__BUF_LIT(&b, "{\"keys\":[");
  pthread_rwlock_rdlock(&kr->lock);
  rc = put_keyset(&b, kr->alg, &kr->priv, &first);
  if (rc == 0)
    rc = put_keyset(&b, kr->alg, &kr->pub, &first);
  pthread_rwlock_unlock(&kr->lock);
  MSVC__BUF_LIT(&b, "]}");
  if (rc == 0 && b.failed)
    rc = MSVC_ENOMEM;
  if (rc != 0) {
    msvc__buf_free(&b);
    return rc;
  }
  *json = b.data; /* the buffer's malloc'd, NUL-terminated text */
  return 0;
}
