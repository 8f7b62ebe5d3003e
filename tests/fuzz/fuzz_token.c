/* fuzz_token.c - bearer tokens through the library's verify path.
 *
 * Every input is offered as a compact JWT to msvc_authenticate on four
 * handles, each over its own SQLite store in a private temporary
 * directory:
 *  - HS: HS256 with the interop vectors' secret (tests/vectors), so that
 *    the seed's tokens verify; no revocation check;
 *  - ES and RS: ES256 and RS256 with the fixed test-only keys below (fixed
 *    so that tokens in the committed corpus keep verifying: they are made
 *    with a lifetime of 2^31 s), and service secrets of their own;
 *  - HS_REV: HS256 again with revocation checks and sessions, where a user
 *    registered and logged in at start-up has a live session.
 * Start-up also checks that freshly made tokens verify: the login token of
 * that user on HS_REV and a service token on HS.  Invariants: only
 * MSVC_ETOKEN or MSVC_EKEY refuse a token; accepted claims are complete
 * (a user token names a valid id, a service token a service) and not
 * expired; no token is accepted by two of HS, ES and RS (algorithms and
 * keys are pinned); whatever HS_REV accepts, HS accepts too.
 *
 * An input starting with '{' is instead "HEADER\nCLAIMS": both JSON texts
 * are base64url-encoded and signed with HS256 and the vectors' secret
 * here, so that the claims' parsing behind the signature check (types,
 * ranges and lengths of exp, iat, id, name, email, sid, jti, svc) is
 * fuzzed too.
 *
 * MSVC_FUZZ_TOKEN_SEEDS=DIR makes the harness write fresh seed tokens
 * (logins and service tokens on HS, ES and RS) and the JWK Sets of ES and
 * RS into DIR at start-up: how tests/fuzz/corpus/token/ (and the jwks-*
 * seeds of tests/fuzz/corpus/jwks/) were made.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>

#include "fuzz.h"
#include "internal.h"

#define VECTOR_SECRET "shared-test-vector-secret-0123456789abcdef"
#define FAR_TTL 2147483648LL /* 2^31 s: the longest lifetime allowed */

/* Test-only keys, never used anywhere else. */
static const char ES256_KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBLe15+kGC1JUF2I/\n"
    "XA63ETypScYTxH5QOwcMlsBc7UChRANCAAQZbYCY905eUjbRB8bLFT3OKH3AmUfU\n"
    "OSyrsl3nF3saE5IRm2tYjx04LprbVAXAfWiMcXIjYp3lkD4WTHrsuhoj\n"
    "-----END PRIVATE KEY-----\n";
static const char RS256_KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCVyhH0k9wH7tZs\n"
    "f+RsdbtQOGaeHOydAqqpgD45m2Kglyrb2B1huxD+bZ6TaW+1m8mpKvCu0aiZqB2m\n"
    "S5Cpec38fbFAOwWyaa4KRDNnOBMONtVnxeJnDz2fdW1uu8nQZGFLGe/PHcJ8m6Y4\n"
    "MNb8t1Ycq+yYEBW4+es4DT5hr8kP+Fz7Z+F3VTIhRlyfnovhSe6MbjIhDz8VxiJf\n"
    "GvUBJnJxImxHSLMZvFROrYOjHOTAsFg6lNaZ0PIiik4wnHt0TISdPHy3ppm1a6Iw\n"
    "hL/4+OCNFhahERTBLKuoc5E7AhRItf0IyK5I+KwkRIyMdbKhv92NGb+KBjIgPqxc\n"
    "Aw6B5bilAgMBAAECggEAJH+NanwQ1DoFM4DiRu9VChIEJyjDGusIbK7b+qt7F8hd\n"
    "4B3D4wly9Zv+VMsPNkBUngzhgqeBnpdRSjEFedY9M/Xol88J71RC3SuLHu6R7he8\n"
    "XkHgjd4v1MgHN0E4xrd+4Y7bWStWNYizsuNrrz55FBlsWA0rTdxPzWOkvKbZpjMt\n"
    "77aZsQjW4aj6nrI29bSYUSTOKKF1LCdds6KWwBFWaZVNE4i1SqCzpgSsbnRohHPN\n"
    "9sWr7TQrYICBxotsPNkw7/+qt6E2SDAMz3QZaT9OJvxre9GCf+dpdpSIRSj2nZfU\n"
    "9qDl6Q3jlDwcC3rb7E0V5ohmRX/tkzWUidw2DQr0oQKBgQDKy655wS2zAmt0mbRr\n"
    "Rx75FkoZ2dreJ6xz32WgvY54nculHrHUzlS3x7XlqB/NYXDpYXe7S2ybhp2mzLRr\n"
    "urTjeMyM2IiQJH4+x1t/SDbTwoIU1LaNkmW8KgY1W/4pLSgvOZfieV50I0FjJxOv\n"
    "yJagzElyuBy172i/0SKO3LKtOQKBgQC9FlaltaH9wgV/Eq2NLo710YADGBhwjPGG\n"
    "sZeiKhpVMBVQBLMBcf3ZoEZvQ4w7qyps9pWqQdaM4SX+Fd02PkZGd7V7+m915cpY\n"
    "LlQfNkkGbB0tYgULm9JgNVd2fNZcmT8M6o7PRkBi9xgYAkfHIUjhIDGUZnf76HPy\n"
    "OfjiHrsSzQKBgQCD0fIP4qo5+hCvMlo8gXZ4oyx3sUy7qz5F86iz24OIk8mUA2fE\n"
    "1HntHDv4lFhXwEcM7PZPIK/wSIihq957SFncouETjIz4ZUBKvnuTOPWqoHy93abs\n"
    "T4Uh0o9GkA2d5mSAjgdUh2AGTgRq1zPMx65hx2jW0SaYfI6yYNb91ieuwQKBgDz5\n"
    "EBW9XTAjuXwBfN9SzRytYrcctPzOJjAF4lyTcQxZRfYYndRweqgLi8rjIDw5dKPQ\n"
    "W/Cb7GBfVc36JOwR5r1garBA0GJXKAmJXuz1p1Sf1kTFH9VfeNY3PS3jEYiojfFP\n"
    "TZ+/CpIfFbDgQ18N959Ir1QoOraLfZ/1W7EmsbJdAoGAXhHrF6l3tv/tEnWJJy1x\n"
    "beit5O7sp+1R4gGgD1sjp0wsS74iXg0rRxb5DyxaCCoAkB7XbkD6iJ21tVssSFxv\n"
    "HlKeNIuj/1tynPqJvv2eiPYla3zsJkn9X2T2FEw82mRoqMpy1Ambpp5poyXUT9g4\n"
    "QcuRyGKL6uK4Vsjrm3r3rgk=\n"
    "-----END PRIVATE KEY-----\n";

enum { HS, ES, RS, HS_REV, NHANDLES };
static msvc_t *handles[NHANDLES];

static msvc_t *open_handle(const char *dir, const char *file, const char *alg,
                           const char *pem, const char *kid,
                           const char *service_secret, int revocation) {
  msvc_options_t *o = NULL;
  msvc_t *svc = NULL;
  char url[4200], err[256];
  snprintf(url, sizeof(url), "sqlite:%s/%s", dir, file);
  FUZZ_CHECK(msvc_options_new(&o) == 0);
  FUZZ_CHECK(msvc_options_set_database_url(o, url) == 0);
  FUZZ_CHECK(msvc_options_set_jwt_secret(o, VECTOR_SECRET,
                                         strlen(VECTOR_SECRET)) == 0);
  FUZZ_CHECK(msvc_options_set_jwt_algorithm(o, alg) == 0);
  if (pem != NULL)
    FUZZ_CHECK(msvc_options_add_signing_key(o, kid, pem, strlen(pem)) == 0);
  if (service_secret != NULL)
    FUZZ_CHECK(msvc_options_set_service_secret(o, service_secret,
                                               strlen(service_secret)) == 0);
  FUZZ_CHECK(msvc_options_set_int(o, MSVC_OPT_TOKEN_TTL, FAR_TTL) == 0);
  FUZZ_CHECK(msvc_options_set_int(o, MSVC_OPT_PASSWORD_COST, 4) == 0);
  FUZZ_CHECK(msvc_options_set_int(o, MSVC_OPT_CHECK_REVOCATION, revocation) ==
             0);
  if (msvc_open(o, &svc, err, sizeof(err)) != 0) {
    fprintf(stderr, "fuzz_token: msvc_open: %s\n", err);
    abort();
  }
  msvc_options_free(o);
  return svc;
}

/* Registers a user on svc and logs in: the access token (free()). */
static char *login_token(msvc_t *svc, const char *email) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_login_result_t *res = NULL;
  char *token;
  in.name = "Fuzz Tester";
  in.email = email;
  in.password = "fuzz-password-1";
  FUZZ_CHECK(msvc_register(svc, NULL, &in, NULL, NULL) == 0);
  FUZZ_CHECK(msvc_login(svc, NULL, &in, &res, NULL, NULL) == 0);
  token = strdup(res->token);
  FUZZ_CHECK(token != NULL);
  msvc_login_result_free(res);
  return token;
}

static void write_seed(const char *dir, const char *name, const char *text) {
  char path[4200];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "wb");
  FUZZ_CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
}

static void write_seeds(const char *dir) {
  static const char *const names[] = {"hs256", "es256", "rs256"};
  for (int h = HS; h <= RS; h++) {
    char email[64], file[64], *t = NULL;
    snprintf(email, sizeof(email), "seed-%s@example.com", names[h]);
    t = login_token(handles[h], email);
    snprintf(file, sizeof(file), "login-%s", names[h]);
    write_seed(dir, file, t);
    free(t);
    FUZZ_CHECK(msvc_service_token(handles[h], "msvc-post", &t) == 0);
    snprintf(file, sizeof(file), "service-%s", names[h]);
    write_seed(dir, file, t);
    msvc_free(t);
    if (h != HS) {
      FUZZ_CHECK(msvc_jwks(handles[h], &t) == 0);
      snprintf(file, sizeof(file), "jwks-%s.json", names[h]);
      write_seed(dir, file, t);
      msvc_free(t);
    }
  }
}

static void setup(void) {
  const char *dir = fuzz_tempdir("token");
  const char *seeds = getenv("MSVC_FUZZ_TOKEN_SEEDS");
  msvc_claims_t *claims = NULL;
  char *t = NULL;
  handles[HS] = open_handle(dir, "hs.db", "HS256", NULL, NULL, NULL, 0);
  handles[ES] = open_handle(dir, "es.db", "ES256", ES256_KEY, "fuzz-es",
                            "es-service-secret", 0);
  handles[RS] = open_handle(dir, "rs.db", "RS256", RS256_KEY, "fuzz-rs",
                            "rs-service-secret", 0);
  handles[HS_REV] = open_handle(dir, "rev.db", "HS256", NULL, NULL, NULL, 1);
  /* Tokens made now verify, through the store on HS_REV. */
  t = login_token(handles[HS_REV], "start-up@example.com");
  FUZZ_CHECK(msvc_authenticate(handles[HS_REV], NULL, t, strlen(t), &claims) ==
             0);
  FUZZ_CHECK(claims->session_id != NULL && claims->session_id[0] != '\0');
  msvc_claims_free(claims);
  free(t);
  FUZZ_CHECK(msvc_service_token(handles[HS], "msvc-post", &t) == 0);
  FUZZ_CHECK(msvc_authenticate(handles[HS], NULL, t, strlen(t), &claims) == 0);
  FUZZ_CHECK(claims->kind == MSVC_CALLER_SERVICE);
  msvc_claims_free(claims);
  msvc_free(t);
  if (seeds != NULL && seeds[0] != '\0')
    write_seeds(seeds);
}

static void check_claims(const msvc_claims_t *c) {
  int64_t now = (int64_t)time(NULL);
  FUZZ_CHECK(c != NULL);
  FUZZ_CHECK(c->session_id != NULL && c->token_id != NULL);
  FUZZ_CHECK(c->exp >= now - 1);
  if (c->kind == MSVC_CALLER_USER) {
    FUZZ_CHECK(c->user != NULL && c->service == NULL);
    FUZZ_CHECK(msvc_id_valid(c->user->id, strlen(c->user->id)));
    FUZZ_CHECK(c->user->name != NULL && c->user->email != NULL);
    FUZZ_CHECK(msvc_claims_author(c) == c->user);
  } else {
    FUZZ_CHECK(c->kind == MSVC_CALLER_SERVICE);
    FUZZ_CHECK(c->user == NULL && c->service != NULL);
    FUZZ_CHECK(c->service[0] != '\0');
  }
}

/* "HEADER\nCLAIMS" as a compact JWT signed with HS256 and the vectors'
 * secret (free()); *len its length. */
static char *sign_hs256(const uint8_t *data, size_t size, size_t *len) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t hlen = nl != NULL ? (size_t)(nl - data) : size;
  size_t plen = nl != NULL ? size - hlen - 1 : 0;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  char *t = malloc(2 * size + 128);
  size_t n;
  FUZZ_CHECK(t != NULL);
  n = msvc__base64url_encode(data, hlen, t);
  t[n++] = '.';
  n += msvc__base64url_encode(nl != NULL ? nl + 1 : data, plen, t + n);
  FUZZ_CHECK(HMAC(EVP_sha256(), VECTOR_SECRET, (int)strlen(VECTOR_SECRET),
                  (const unsigned char *)t, n, mac, &mac_len) != NULL);
  t[n++] = '.';
  n += msvc__base64url_encode(mac, mac_len, t + n);
  *len = n;
  return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  int accepted[NHANDLES];
  char *signed_token = NULL;
  if (!ready) {
    setup();
    ready = 1;
  }
  if (size > 0 && data[0] == '{') {
    signed_token = sign_hs256(data, size, &size);
    data = (const uint8_t *)signed_token;
  }
  for (int h = 0; h < NHANDLES; h++) {
    msvc_claims_t *claims = NULL;
    int rc =
        msvc_authenticate(handles[h], NULL, (const char *)data, size, &claims);
    FUZZ_CHECK(rc == 0 || rc == MSVC_ETOKEN || rc == MSVC_EKEY);
    FUZZ_CHECK((rc == 0) == (claims != NULL));
    if (rc == 0)
      check_claims(claims);
    accepted[h] = rc == 0;
    msvc_claims_free(claims);
  }
  FUZZ_CHECK(accepted[HS] + accepted[ES] + accepted[RS] <= 1);
  FUZZ_CHECK(!accepted[HS_REV] || accepted[HS]);
  free(signed_token);
  return 0;
}
