/* keys.h - the keys that sign and verify access tokens (internal).
 *
 * A keyring holds one algorithm (HS256, ES256 or RS256) and its keys:
 * under HS256 one secret; under ES256/RS256 private keys (the last added
 * signs, all verify, all are published) and verify-only public keys, the
 * latter replaceable at run time (a post service refreshing the JWK Set
 * it fetched).  Verification takes a read lock, replacement a write lock,
 * so replacing never disturbs tokens being checked.  Every key has a kid:
 * given for asymmetric keys; for the HS256 secret the first 16 hex digits
 * of its SHA-256, and a token without a kid is accepted under HS256 (the
 * seed's tokens have none).
 */
#ifndef MSVC_DOMAIN_KEYS_H
#define MSVC_DOMAIN_KEYS_H

#include "internal.h"

typedef struct msvc__keyring msvc__keyring_t;

typedef enum msvc__alg {
  MSVC__ALG_HS256 = 1,
  MSVC__ALG_ES256 = 2,
  MSVC__ALG_RS256 = 3
} msvc__alg_t;

#define MSVC__KID_MAX 64 /* bytes of a kid we issue or accept */

/* "HS256"/"ES256"/"RS256" -> alg; 0 or MSVC_EINVAL. */
int msvc__alg_parse(const char *name, msvc__alg_t *out);
const char *msvc__alg_name(msvc__alg_t alg);

int msvc__keyring_new(msvc__alg_t alg, msvc__keyring_t **out);
void msvc__keyring_free(msvc__keyring_t *kr);
msvc__alg_t msvc__keyring_alg(const msvc__keyring_t *kr);

/* HS256: the signing and verifying secret (copied). */
int msvc__keyring_set_secret(msvc__keyring_t *kr, const unsigned char *secret,
                             size_t len);
/* ES256/RS256: a private key in PEM named kid; MSVC_ECONFIG with a reason
 * for a key of the wrong type for the algorithm, an RSA key under 2048
 * bits, a bad PEM or kid. */
int msvc__keyring_add_private(msvc__keyring_t *kr, const char *kid,
                              const char *pem, size_t len, char *errbuf,
                              size_t errlen);
/* ES256/RS256: a public key (PEM) that only verifies. */
int msvc__keyring_add_public(msvc__keyring_t *kr, const char *kid,
                             const char *pem, size_t len, char *errbuf,
                             size_t errlen);
/* Replaces every verify-only key at once; on MSVC_ECONFIG nothing changes. */
int msvc__keyring_replace_public(msvc__keyring_t *kr, const char *const *kids,
                                 const char *const *pems, size_t n,
                                 char *errbuf, size_t errlen);
/* 1 when the ring can sign user tokens. */
int msvc__keyring_can_sign(const msvc__keyring_t *kr);
/* {"keys":[...]} of every public key (RFC 7517: kty, kid, use "sig", alg,
 * n/e or crv/x/y); MSVC_EUNSUPPORTED under HS256.  free() the result. */
int msvc__keyring_jwks(msvc__keyring_t *kr, char **json);

/* The kid of the newest signing key (static while the ring lives); 0, or
 * MSVC_EINVAL for a ring that cannot sign.  A token's header names the key
 * before it is signed, so this comes first, then msvc__keyring_sign with
 * that kid: a key added in between cannot make header and signature
 * disagree. */
int msvc__keyring_signing_kid(msvc__keyring_t *kr, const char **kid);
/* Signs header.payload (base64url, len bytes) with the signing key named
 * kid: *sig is the base64url signature (free()).  MSVC_EINVAL when kid is
 * not a signing key of the ring. */
int msvc__keyring_sign(msvc__keyring_t *kr, const char *kid, const char *input,
                       size_t len, char **sig);
/* Checks sig (raw bytes) over input with the key named kid (NULL: the
 * HS256 secret when the ring is HS256).  0, MSVC_ETOKEN (bad signature),
 * MSVC_EKEY (no such kid). */
int msvc__keyring_verify(msvc__keyring_t *kr, const char *kid,
                         const char *input, size_t len,
                         const unsigned char *sig, size_t siglen);

#endif
